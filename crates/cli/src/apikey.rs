//! `palisade apikey`: generate API keys and check their format offline.
//!
//! ```text
//! palisade apikey generate --prefix P   prints a new key <P>_<id>_<secret><checksum>
//! palisade apikey check KEY             prints `valid` (exit 0) or `invalid: <reason>`
//!                                       (exit 1): format and checksum only, no lookup
//! ```
//!
//! `generate` only prints the key: store its hash with palisade-auth's `ApiKeys` (the CLI
//! holds no pepper or store).

use clap::Subcommand;
use palisade_auth::{ApiKey, ApiKeyPrefix};
use secrecy::{ExposeSecret, SecretString};

use crate::{Outcome, parse_secret};

/// `palisade apikey` sub-commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print a new API key: a random 16-character id and a 256-bit secret from the OS
    /// CSPRNG, with a CRC-32 checksum.
    Generate {
        /// The key prefix: 1–16 of [a-z0-9], starting with a letter.
        #[arg(long, value_name = "P")]
        prefix: String,
    },
    /// Check a key's format and checksum (no lookup): `valid` or `invalid: <reason>`.
    Check {
        /// The key.
        #[arg(value_name = "KEY", value_parser = parse_secret)]
        key: SecretString,
    },
}

/// Runs a `palisade apikey` sub-command.
pub(crate) fn run(cmd: Command) -> Outcome {
    match cmd {
        Command::Generate { prefix } => {
            let prefix = match ApiKeyPrefix::new(&prefix) {
                Ok(p) => p,
                Err(e) => return Outcome::Usage(format!("--prefix: {e}")),
            };
            match ApiKey::generate(&prefix) {
                Ok(key) => Outcome::Ok(format!("{}\n", key.to_secret_string().expose_secret())),
                Err(e) => Outcome::Usage(e.to_string()),
            }
        }
        Command::Check { key } => match ApiKey::parse(key.expose_secret().trim()) {
            Ok(_) => Outcome::Ok("valid\n".into()),
            Err(e) => Outcome::Invalid(e.to_string()),
        },
    }
}
