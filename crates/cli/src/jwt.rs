//! `palisade jwt verify`: verify a JWT bearer token with palisade-auth.
//!
//! ```text
//! palisade jwt verify --token T (--hs256-secret S | --jwks FILE) [--issuer I]
//!     [--audience A] [--now UNIX_SECONDS] [--leeway SECONDS]
//! ```
//!
//! Prints the token's claims as one line of JSON (exit 0) or `invalid: <reason>` (exit 1); a
//! usage error (a missing or conflicting option, an HMAC secret shorter than 32 bytes, an
//! unreadable JWKS) exits 2. `--hs256-secret` verifies HS256 only (the secret's raw bytes);
//! `--jwks` verifies with the algorithm of each key of the set (RS256, ES256, EdDSA, …),
//! chosen by the token's `kid`. `exp` is required; the leeway defaults to 0 seconds; `--now`
//! defaults to the system clock.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use palisade_auth::{JwtValidation, KeySet, VerifyingKey};
use secrecy::{ExposeSecret, SecretString};

use crate::{Outcome, parse_secret};

/// `palisade jwt` sub-commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Verify a JWT (signature with the key's own algorithm, exp/nbf/iat, issuer, audience)
    /// and print its claims as one line of JSON.
    Verify(VerifyArgs),
}

/// The arguments of `palisade jwt verify`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("key").required(true).args(["hs256_secret", "jwks"])))]
pub(crate) struct VerifyArgs {
    /// The token (compact JWS).
    #[arg(long, value_name = "T", value_parser = parse_secret)]
    token: SecretString,
    /// The HS256 shared secret (its raw bytes, at least 32). HS256 only.
    #[arg(long, value_name = "S", value_parser = parse_secret)]
    hs256_secret: Option<SecretString>,
    /// A JWKS file (RFC 7517): each key verifies its own algorithm, selected by `kid`.
    #[arg(long, value_name = "FILE")]
    jwks: Option<std::path::PathBuf>,
    /// The issuer `iss` must name.
    #[arg(long, value_name = "I")]
    issuer: Option<String>,
    /// This service's audience: `aud` must name it.
    #[arg(long, value_name = "A")]
    audience: Option<String>,
    /// The time to verify at, in Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// Clock-skew allowance for exp, nbf and iat, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    leeway: u64,
}

/// Runs a `palisade jwt` sub-command.
pub(crate) fn run(cmd: Command) -> Outcome {
    let Command::Verify(args) = cmd;
    let keys = match (&args.hs256_secret, &args.jwks) {
        (Some(secret), None) => match VerifyingKey::hs256(secret.expose_secret().as_bytes()) {
            Ok(key) => KeySet::single(key),
            Err(e) => return Outcome::Usage(format!("--hs256-secret: {e}")),
        },
        (None, Some(path)) => {
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) => return Outcome::Usage(format!("cannot read the JWKS file: {e}")),
            };
            match KeySet::from_jwks_json(&text) {
                Ok(keys) => keys,
                Err(e) => return Outcome::Usage(format!("--jwks: {e}")),
            }
        }
        // clap's group makes exactly one present.
        _ => return Outcome::Usage("give one of --hs256-secret or --jwks".into()),
    };
    let mut validation = JwtValidation::new().leeway_secs(args.leeway);
    if let Some(issuer) = args.issuer {
        validation = validation.issuer(issuer);
    }
    if let Some(audience) = args.audience {
        validation = validation.audience(audience);
    }
    let now = args.now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    match validation.verify(&keys, args.token.expose_secret().trim(), now) {
        Ok(claims) => Outcome::Ok(format!("{}\n", claims.to_json())),
        Err(e) => Outcome::Invalid(e.to_string()),
    }
}
