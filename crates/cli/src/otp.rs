//! `palisade otp hotp | totp | uri`: RFC 4226 / RFC 6238 codes and `otpauth://` Key URIs.
//!
//! Secrets are given as hex (`--secret-hex`) or base32 (`--secret-base32`, RFC 4648, any
//! case, padding optional), parsed straight into a `SecretString` (redacted in `Debug`).
//! Like every command-line argument, they are visible to other local users in the process
//! list: this command is for testing and provisioning, not for production secrets.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use palisade_otp::{DEFAULT_STEP, HmacAlgorithm, Hotp, KeyUri, OtpSecret, Totp};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::{Outcome, parse_secret};

/// `palisade otp …`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the HOTP code (RFC 4226) for a counter.
    Hotp(HotpArgs),
    /// Print the TOTP code (RFC 6238) for a time (default: now).
    Totp(TotpArgs),
    /// Print an otpauth:// Key URI (Google Authenticator's format) for TOTP, SHA-1, 6 digits,
    /// 30 s; with a new random 20-byte secret unless one is given.
    Uri(UriArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum AlgorithmArg {
    Sha1,
    Sha256,
    Sha512,
}

impl From<AlgorithmArg> for HmacAlgorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Sha1 => Self::Sha1,
            AlgorithmArg::Sha256 => Self::Sha256,
            AlgorithmArg::Sha512 => Self::Sha512,
        }
    }
}

/// The shared secret and the code's shape, common to `hotp` and `totp`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("secret").required(true).args(["secret_hex", "secret_base32"])))]
pub(crate) struct CodeArgs {
    /// The secret in hex (e.g. the RFC vectors' 3132…30).
    #[arg(long, value_name = "H", value_parser = parse_secret)]
    secret_hex: Option<SecretString>,
    /// The secret in base32 (RFC 4648), as in otpauth:// URIs.
    #[arg(long, value_name = "B", value_parser = parse_secret)]
    secret_base32: Option<SecretString>,
    /// Digits of the code, 6 to 8.
    #[arg(long, default_value_t = 6)]
    digits: u8,
    /// The HMAC hash.
    #[arg(long, value_enum, default_value = "sha1")]
    algorithm: AlgorithmArg,
}

#[derive(Debug, Args)]
pub(crate) struct HotpArgs {
    #[command(flatten)]
    code: CodeArgs,
    /// The counter.
    #[arg(long, value_name = "N")]
    counter: u64,
}

#[derive(Debug, Args)]
pub(crate) struct TotpArgs {
    #[command(flatten)]
    code: CodeArgs,
    /// The time, in Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    time: Option<u64>,
    /// The time step, in seconds.
    #[arg(long, default_value_t = DEFAULT_STEP)]
    step: u64,
}

#[derive(Debug, Args)]
pub(crate) struct UriArgs {
    /// The provider or service shown in the authenticator app.
    #[arg(long, value_name = "I")]
    issuer: String,
    /// The account name shown in the authenticator app.
    #[arg(long, value_name = "A")]
    account: String,
    /// The secret in base32 (default: a new random 20-byte secret).
    #[arg(long, value_name = "B", value_parser = parse_secret)]
    secret_base32: Option<SecretString>,
}

pub(crate) fn run(cmd: Command) -> Outcome {
    let result = match cmd {
        Command::Hotp(args) => hotp(&args.code).map(|h| h.generate(args.counter)),
        Command::Totp(args) => totp(&args),
        Command::Uri(args) => uri(&args),
    };
    match result {
        Ok(line) => Outcome::Ok(format!("{line}\n")),
        Err(message) => Outcome::Usage(message),
    }
}

fn secret(args: &CodeArgs) -> Result<OtpSecret, String> {
    match (&args.secret_hex, &args.secret_base32) {
        (Some(h), None) => {
            let bytes = Zeroizing::new(
                hex::decode(h.expose_secret().trim())
                    .map_err(|_| "--secret-hex: not hexadecimal".to_owned())?,
            );
            Ok(OtpSecret::from_bytes(&bytes))
        }
        (None, Some(b)) => {
            OtpSecret::from_base32(b.expose_secret()).map_err(|e| format!("--secret-base32: {e}"))
        }
        _ => Err("give one of --secret-hex or --secret-base32".to_owned()),
    }
}

fn hotp(args: &CodeArgs) -> Result<Hotp, String> {
    Hotp::new(secret(args)?, args.algorithm.into(), args.digits).map_err(|e| e.to_string())
}

fn totp(args: &TotpArgs) -> Result<String, String> {
    let totp = Totp::new(hotp(&args.code)?, args.step, 0).map_err(|e| e.to_string())?;
    let time = match args.time {
        Some(t) => t,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "the system clock is before 1970".to_owned())?
            .as_secs(),
    };
    Ok(totp.generate_at(time))
}

fn uri(args: &UriArgs) -> Result<String, String> {
    let secret = match &args.secret_base32 {
        Some(b) => OtpSecret::from_base32(b.expose_secret())
            .map_err(|e| format!("--secret-base32: {e}"))?,
        None => OtpSecret::generate().map_err(|e| e.to_string())?,
    };
    KeyUri::totp(Some(args.issuer.clone()), args.account.clone(), secret)
        .to_uri()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::Cli;

    /// `Debug` of parsed `otp` arguments never shows the secret.
    #[test]
    fn debug_of_otp_arguments_redacts_secrets() {
        for (flag, secret) in [
            ("--secret-hex", "3132333435363738393031323334353637383930"),
            ("--secret-base32", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        ] {
            let Ok(cli) =
                Cli::try_parse_from(["palisade", "otp", "hotp", flag, secret, "--counter", "1"])
            else {
                unreachable!("valid arguments")
            };
            let debug = format!("{cli:?}");
            assert!(!debug.contains(secret), "{debug}");
            assert!(debug.contains("REDACTED"), "{debug}");
        }
    }
}
