//! Input that cannot hurt you: phone numbers in E.164, path joins that stay in their base,
//! text without control characters or bidi overrides, JSON within limits and without
//! MongoDB operators.
//!
//! ```
//! use std::path::Path;
//! use palisade_sanitize::json::{JsonError, JsonLimits};
//! use palisade_sanitize::path::{safe_join, PathError};
//! use palisade_sanitize::phone::{PhoneNumber, Region};
//! use palisade_sanitize::text::{escape_html, TextCleaner};
//!
//! // A phone number, as a user typed it, in E.164 (validated against the numbering plan).
//! let us = Region::new("US")?;
//! assert_eq!(PhoneNumber::parse("(415) 555-0123", Some(us))?.e164(), "+14155550123");
//!
//! // A user's file name, kept inside the upload directory.
//! let base = Path::new("/srv/uploads");
//! assert_eq!(safe_join(base, "../../etc/passwd"), Err(PathError::ParentEscape));
//!
//! // Text: bidi overrides (Trojan Source) and control characters removed, NFC; escaped
//! // for HTML where it is shown. "O'Brien" is a name, not an attack.
//! let name = TextCleaner::new().single_line().clean("O'Brien\u{202E}\r\n");
//! assert_eq!(escape_html(&name), "O&#x27;Brien  ");
//!
//! // A request body for a document store: bounded, no `$` operators.
//! let limits = JsonLimits::for_document_store(false);
//! assert!(matches!(
//!     limits.parse(br#"{"password": {"$ne": ""}}"#),
//!     Err(JsonError::OperatorKey { .. })
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Pieces
//!
//! - [`phone`]: [`PhoneNumber`](phone::PhoneNumber), E.164 parsed and validated with
//!   libphonenumber's metadata (the `phonenumber` crate): national forms in a default
//!   [`Region`](phone::Region), `+`, `00` and `011` prefixes, Unicode digits, extensions
//!   kept apart, the [`NumberType`](phone::NumberType); typed [`PhoneError`](phone::PhoneError)s.
//!   `palisade-pii`'s phone normalizer for blind indexes uses it.
//! - [`path`]: [`safe_join`](path::safe_join) (lexical: `..`, absolute, NUL, drive
//!   letters, UNC) and [`safe_join_fs`](path::safe_join_fs) (also symbolic links that leave
//!   the base).
//! - [`text`]: [`check_length`](text::check_length) in bytes and characters,
//!   [`TextCleaner`](text::TextCleaner) (control characters and bidi overrides removed,
//!   NFC/NFKC), [`log_line`](text::log_line) (CR/LF neutralized),
//!   [`escape_html`](text::escape_html).
//! - [`json`]: [`JsonLimits`](json::JsonLimits), a walker over `serde_json::Value` with
//!   limits (depth, bytes, string length, keys, values) and MongoDB operator-key refusal.
//!
//! # No keyword deny-list
//!
//! Nothing here searches input for SQL or HTML keywords. Parameterized queries make SQL
//! injection impossible whatever the text; output encoding ([`text::escape_html`] or a
//! template engine's) makes XSS impossible whatever the text; a deny-list refuses
//! `O'Brien` and misses the encodings it did not think of. This crate bounds and
//! normalizes input, and refuses the structures (operator keys, traversal paths, bidi
//! overrides) that are attacks whatever the words. `docs/threat-model/sanitize.md` explains.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod json;
pub mod path;
pub mod phone;
pub mod text;
