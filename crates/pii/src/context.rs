//! Where a ciphertext belongs: tenant, table, column and row.

use std::fmt;

use crate::PiiError;

/// The place a value is stored: the associated data every envelope is bound to.
///
/// `table` and `column` also select the per-field key (HKDF info), so one field's key never
/// decrypts another field. `tenant` and `row` are bound through the associated data only: a
/// ciphertext copied to another row, another tenant, another column or another table fails
/// to decrypt with [`PiiError::Decryption`].
///
/// All four are arbitrary UTF-8 strings (each length-prefixed in the associated data, so no
/// choice of separators can make two contexts collide). Use the row's primary key as `row`,
/// fixed at insert time; an empty `row` binds a value to its column only, which lets it be
/// swapped between rows of one tenant. Values that must move (a tenant migration) are
/// re-encrypted under the new context.
///
/// ```
/// use palisade_pii::Context;
/// let ctx = Context::new("tenant-42", "leads", "phone", "lead-17");
/// assert_eq!(Context::parse("tenant-42/leads/phone/lead-17")?, ctx);
/// # Ok::<(), palisade_pii::PiiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Context<'a> {
    tenant: &'a str,
    table: &'a str,
    column: &'a str,
    row: &'a str,
}

impl<'a> Context<'a> {
    /// The context of `tenant`'s value in `table`.`column` of row `row`.
    pub const fn new(tenant: &'a str, table: &'a str, column: &'a str, row: &'a str) -> Self {
        Self {
            tenant,
            table,
            column,
            row,
        }
    }

    /// Parses `tenant/table/column/row`: exactly four `/`-separated parts (so none may
    /// contain `/`; build a [`Context::new`] for such values), of which `table` and `column`
    /// must not be empty.
    ///
    /// # Errors
    ///
    /// [`PiiError::InvalidContext`] otherwise.
    pub fn parse(text: &'a str) -> Result<Self, PiiError> {
        let mut parts = text.split('/');
        let (Some(tenant), Some(table), Some(column), Some(row), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(PiiError::InvalidContext {
                reason: "expected tenant/table/column/row (four parts separated by `/`)",
            });
        };
        if table.is_empty() || column.is_empty() {
            return Err(PiiError::InvalidContext {
                reason: "table and column must not be empty",
            });
        }
        Ok(Self::new(tenant, table, column, row))
    }

    /// The tenant (organization, account) owning the value.
    pub const fn tenant(&self) -> &'a str {
        self.tenant
    }

    /// The table (or collection, or struct) holding the value.
    pub const fn table(&self) -> &'a str {
        self.table
    }

    /// The column (or field) holding the value.
    pub const fn column(&self) -> &'a str {
        self.column
    }

    /// The row's identifier (its primary key).
    pub const fn row(&self) -> &'a str {
        self.row
    }
}

impl fmt::Display for Context<'_> {
    /// Writes `tenant/table/column/row`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.tenant, self.table, self.column, self.row
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_refuses_wrong_shapes() {
        for bad in ["", "a/b/c", "a/b/c/d/e", "a//c/d", "a/b//d"] {
            assert!(Context::parse(bad).is_err(), "{bad}");
        }
        let c = Context::parse("/leads/phone/").unwrap();
        assert_eq!((c.tenant(), c.row()), ("", ""));
        assert_eq!(c.to_string(), "/leads/phone/");
    }
}
