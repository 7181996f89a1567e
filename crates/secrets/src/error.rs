//! The one error type of this crate.

/// Why a secret could not be fetched, validated or rotated.
///
/// No variant carries a secret's value: only names, paths, counts and fixed reasons.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// A secret name that no source accepts: empty, longer than
    /// [`MAX_NAME_LEN`](crate::MAX_NAME_LEN), starting with `.`, or with a byte other than
    /// ASCII letters, digits, `_`, `-` and `.` (so a name is never a path).
    #[error("invalid secret name `{name}`: {reason}")]
    InvalidName {
        /// The name (names are not secret; cut at 64 bytes).
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Required secrets the source does not have: every one of them, in the order asked.
    #[error("missing required secrets: {}", names.join(", "))]
    Missing {
        /// Their names.
        names: Vec<String>,
    },
    /// A secret's value is not UTF-8.
    #[error("secret `{name}` is not UTF-8")]
    NotUtf8 {
        /// The secret's name.
        name: String,
    },
    /// A secret file is larger than [`MAX_SECRET_LEN`](crate::MAX_SECRET_LEN) bytes.
    #[error("secret `{name}` is larger than {max} bytes")]
    TooLarge {
        /// The secret's name.
        name: String,
        /// The limit, in bytes.
        max: usize,
    },
    /// The source could not be read (a directory or file that cannot be opened, a `.env`
    /// line that does not parse). `what` names the path or the line number, never a value.
    #[error("secret source `{source_name}` unavailable: {what}")]
    Unavailable {
        /// The source (`env`, `directory`, `dotenv`).
        source_name: &'static str,
        /// What failed.
        what: String,
    },
    /// A `.env` file was opened while the production flag is set: `.env` files are for
    /// development only.
    #[error(
        "refusing to read secrets from the .env file `{path}` in production: use environment \
         variables or a secrets directory"
    )]
    DotenvInProduction {
        /// The file's path.
        path: String,
    },
    /// The value built from new secrets was refused by its builder (a rotation keeps the
    /// previous value). `reason` is the builder error's `Display`, which must not quote a
    /// secret.
    #[error("could not build from the secrets: {reason}")]
    Build {
        /// What the builder said.
        reason: String,
    },
}
