//! Structured input within limits: a walker over a JSON document ([`serde_json::Value`]) that
//! bounds its depth, size, string lengths and key count, and can refuse MongoDB operator
//! keys (`$where`, `$ne`, `$gt`, …) for services that pass JSON on to a document store
//! (NoSQL operator injection: `{"password": {"$ne": ""}}` matches every password).
//!
//! This replaces "sanitize input" middlewares that run a regex deny-list of SQL and XSS
//! keywords over every field: those refuse legitimate text (`O'Brien`, "select a date") and
//! miss real attacks. Values are not inspected for words; their shape is bounded.

use serde_json::Value;

/// Why a JSON document was refused. Errors name the place (a JSON Pointer, RFC 6901, cut to
/// 128 bytes), never a string value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The raw document is larger than [`JsonLimits::max_total_bytes`].
    #[error("document larger than {max} bytes")]
    TooLarge {
        /// The limit, in bytes.
        max: usize,
    },
    /// Not JSON (or nested deeper than `serde_json`'s own limit of 128).
    #[error("not valid JSON: line {line}, column {column}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// Arrays and objects nested deeper than [`JsonLimits::max_depth`].
    #[error("nested deeper than {max} at {pointer}")]
    TooDeep {
        /// The limit.
        max: usize,
        /// Where.
        pointer: String,
    },
    /// A string value or key longer than [`JsonLimits::max_string_chars`] characters.
    #[error("string longer than {max} characters at {pointer}")]
    StringTooLong {
        /// The limit, in characters.
        max: usize,
        /// Where.
        pointer: String,
    },
    /// More object keys in the whole document than [`JsonLimits::max_keys`].
    #[error("more than {max} object keys")]
    TooManyKeys {
        /// The limit.
        max: usize,
    },
    /// More values (scalars, arrays, objects) in the whole document than
    /// [`JsonLimits::max_values`].
    #[error("more than {max} values")]
    TooManyValues {
        /// The limit.
        max: usize,
    },
    /// A key starting with `$` (a MongoDB query or update operator) or containing NUL.
    #[error("operator key at {pointer}")]
    OperatorKey {
        /// Where (the pointer ends with the key).
        pointer: String,
    },
    /// A key containing `.` (a MongoDB path into a sub-document), when refused.
    #[error("dotted key at {pointer}")]
    DottedKey {
        /// Where (the pointer ends with the key).
        pointer: String,
    },
}

/// Which keys a document store would read as operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperatorKeys {
    /// Any key is accepted (the document never reaches a document store as a query).
    Allow,
    /// Keys starting with `$` (`$where`, `$ne`, `$gt`, `$regex`, `$expr`, …) and keys with
    /// a NUL are refused.
    Refuse,
    /// As [`Refuse`](Self::Refuse), and keys containing `.` too (`{"profile.role": …}`
    /// addresses a nested field in MongoDB queries and updates).
    RefuseWithDots,
}

/// Limits of a JSON document. The defaults suit a request body of a web API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JsonLimits {
    /// Largest raw document, in bytes ([`JsonLimits::parse`] only). Default 1 MiB.
    pub max_total_bytes: usize,
    /// Deepest nesting of arrays and objects (the top-level value is at depth 1).
    /// Default 32; at most [`JsonLimits::DEPTH_CEILING`].
    pub max_depth: usize,
    /// Longest string value or key, in characters (Unicode scalar values). Default 1000.
    pub max_string_chars: usize,
    /// Most object keys in the whole document. Default 1000.
    pub max_keys: usize,
    /// Most values in the whole document. Default 10 000.
    pub max_values: usize,
    /// Operator keys. Default [`OperatorKeys::Allow`].
    pub operator_keys: OperatorKeys,
}

impl Default for JsonLimits {
    fn default() -> Self {
        Self {
            max_total_bytes: 1 << 20,
            max_depth: 32,
            max_string_chars: 1000,
            max_keys: 1000,
            max_values: 10_000,
            operator_keys: OperatorKeys::Allow,
        }
    }
}

/// One step of a path into the document.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

struct Walk<'a> {
    limits: &'a JsonLimits,
    path: Vec<Step<'a>>,
    keys: usize,
    values: usize,
}

/// The JSON Pointer (RFC 6901) of `path`, cut to 128 bytes.
fn pointer(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        out.push('/');
        match step {
            Step::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Step::Index(i) => out.push_str(&i.to_string()),
        }
        if out.len() > 128 {
            let cut = crate::text::truncate_bytes(&out, 125).len();
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out
}

impl JsonLimits {
    /// The largest [`max_depth`](Self::max_depth) honoured: the walk recurses once per
    /// level, and this bounds its stack use.
    pub const DEPTH_CEILING: usize = 256;

    /// The defaults, refusing MongoDB operator keys (`$…`), and dotted keys when `dots`.
    pub fn for_document_store(dots: bool) -> Self {
        Self {
            operator_keys: if dots {
                OperatorKeys::RefuseWithDots
            } else {
                OperatorKeys::Refuse
            },
            ..Self::default()
        }
    }

    /// Parses `bytes` as JSON within [`max_total_bytes`](Self::max_total_bytes), then
    /// [`check`](Self::check)s the value.
    ///
    /// ```
    /// use palisade_sanitize::json::{JsonError, JsonLimits};
    ///
    /// let store = JsonLimits::for_document_store(false);
    /// let ok = store.parse(br#"{"name": "O'Brien", "note": "1=1; DROP TABLE users"}"#)?;
    /// assert_eq!(ok["name"], "O'Brien");
    /// let login = br#"{"user": "admin", "password": {"$ne": ""}}"#;
    /// assert_eq!(
    ///     store.parse(login),
    ///     Err(JsonError::OperatorKey { pointer: "/password/$ne".into() })
    /// );
    /// # Ok::<(), JsonError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`JsonError::TooLarge`], [`JsonError::Syntax`], or those of [`check`](Self::check).
    pub fn parse(&self, bytes: &[u8]) -> Result<Value, JsonError> {
        if bytes.len() > self.max_total_bytes {
            return Err(JsonError::TooLarge {
                max: self.max_total_bytes,
            });
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| JsonError::Syntax {
            line: e.line(),
            column: e.column(),
        })?;
        self.check(&value)?;
        Ok(value)
    }

    /// Walks `value` and checks every limit; the first violation found (depth first, in
    /// document order) is returned.
    ///
    /// # Errors
    ///
    /// [`JsonError::TooDeep`], [`JsonError::StringTooLong`], [`JsonError::TooManyKeys`],
    /// [`JsonError::TooManyValues`], [`JsonError::OperatorKey`], [`JsonError::DottedKey`].
    pub fn check(&self, value: &Value) -> Result<(), JsonError> {
        let mut walk = Walk {
            limits: self,
            path: Vec::new(),
            keys: 0,
            values: 0,
        };
        walk.value(value, 1)
    }
}

impl<'a> Walk<'a> {
    fn string(&self, s: &str) -> Result<(), JsonError> {
        let max = self.limits.max_string_chars;
        if s.len() > max && s.chars().count() > max {
            return Err(JsonError::StringTooLong {
                max,
                pointer: pointer(&self.path),
            });
        }
        Ok(())
    }

    fn key(&mut self, key: &'a str) -> Result<(), JsonError> {
        self.keys += 1;
        if self.keys > self.limits.max_keys {
            return Err(JsonError::TooManyKeys {
                max: self.limits.max_keys,
            });
        }
        self.path.push(Step::Key(key));
        self.string(key)?;
        let refuse = self.limits.operator_keys;
        if refuse != OperatorKeys::Allow && (key.starts_with('$') || key.contains('\0')) {
            return Err(JsonError::OperatorKey {
                pointer: pointer(&self.path),
            });
        }
        if refuse == OperatorKeys::RefuseWithDots && key.contains('.') {
            return Err(JsonError::DottedKey {
                pointer: pointer(&self.path),
            });
        }
        Ok(())
    }

    fn value(&mut self, value: &'a Value, depth: usize) -> Result<(), JsonError> {
        self.values += 1;
        if self.values > self.limits.max_values {
            return Err(JsonError::TooManyValues {
                max: self.limits.max_values,
            });
        }
        let max_depth = self.limits.max_depth.min(JsonLimits::DEPTH_CEILING);
        match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
            Value::String(s) => self.string(s),
            Value::Array(_) | Value::Object(_) if depth > max_depth => Err(JsonError::TooDeep {
                max: max_depth,
                pointer: pointer(&self.path),
            }),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Step::Index(i));
                    self.value(item, depth + 1)?;
                    self.path.pop();
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, v) in map {
                    self.key(k)?;
                    self.value(v, depth + 1)?;
                    self.path.pop();
                }
                Ok(())
            }
        }
    }
}
