//! `palisade`: Palisade's security building blocks on the command line.
//!
//! ```text
//! palisade webhook verify --provider github --secret "It's a Secret to Everybody" \
//!     --header 'X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' \
//!     < body
//! palisade webhook sign --provider stripe --secret whsec_… --body-file event.json
//! palisade ratelimit simulate --algorithm gcra --limit 10 --period 1 --burst 5 --at 0,0.05,0.1
//! palisade pii kek                             # a new KEK: keep it in a secrets manager
//! export PALISADE_KEK=…                         # injected at run time; or --kek-file PATH (0600)
//! palisade pii keygen > keyring.json            # refused without a KEK (exit 2)
//! printf '+14389007409' | palisade pii encrypt --keyring keyring.json --context acme/leads/phone/17
//! palisade pii decrypt --keyring keyring.json --context acme/leads/phone/17 <<< 'pii1.…'
//! palisade url check 'http://2130706433/'        # blocked: address 127.0.0.1 is in … (exit 1)
//! palisade url check https://cdn.example.com/a.mp3 --allow-host '*.example.com' --resolve
//! palisade phone normalize '(415) 555-0123' --region US   # +14155550123
//! palisade rbac check --policy policy.toml --roles agent --permission bookings:delete
//! palisade rbac check --scopes 'admin:*' --permission administrator:read   # deny: … (exit 1)
//! palisade rbac lint --policy policy.toml
//! palisade jwt verify --token eyJ… --jwks jwks.json --issuer https://issuer.example
//! palisade apikey generate --prefix pal          # pal_<id>_<secret><checksum>
//! palisade apikey check pal_…                    # valid (exit 0) / invalid: <reason> (exit 1)
//! palisade audit append --log audit.jsonl --key-hex $K --tenant acme --actor u-7 \
//!     --action export --resource lead:17 --reason 'customer asked for a copy'
//! palisade audit verify --log audit.jsonl --key-hex $K   # valid: 1 events
//! ```
//!
//! Exit status: 0 when the request is valid (or the command succeeded), 1 when it is invalid
//! (`invalid: <reason>` on stdout), 2 on a usage or configuration error (message on stderr).
//! Secrets are never printed, except the new key `pii kek` exists to print.
//!
//! The same from Rust, for tools that embed the command:
//!
//! ```
//! use std::process::ExitCode;
//!
//! // GCRA, 2 per second: the third request at the same instant is refused.
//! let status = palisade_cli::run_from([
//!     "palisade", "ratelimit", "simulate", "--algorithm", "gcra",
//!     "--limit", "2", "--period", "1", "--at", "0,0,0",
//! ]);
//! assert_eq!(status, ExitCode::SUCCESS);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod apikey;
mod audit;
mod jwt;
mod otp;
mod password;
mod phone;
mod pii;
mod ratelimit;
mod rbac;
mod url;
mod webhook;

/// Parses a secret argument (a key, a token, a seed) straight into a
/// [`SecretString`](secrecy::SecretString): zeroized on drop, redacted in the argument
/// structs' `Debug`.
fn parse_secret(value: &str) -> Result<secrecy::SecretString, std::convert::Infallible> {
    Ok(secrecy::SecretString::from(value))
}

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Palisade: webhook verification and signing, rate-limit simulation, and field-level
/// encryption of personal data, from the shell.
#[derive(Debug, Parser)]
#[command(name = "palisade", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify or sign webhook requests (Standard Webhooks, Stripe, GitHub, Meta, Slack,
    /// Twilio, Shopify, Vapi).
    #[command(subcommand)]
    Webhook(webhook::Command),
    /// Simulate rate-limit algorithms (GCRA, token and leaky buckets, fixed and sliding
    /// windows) over request times.
    #[command(subcommand)]
    Ratelimit(ratelimit::Command),
    /// Encrypt and decrypt personal data fields, manage keyrings, compute blind indexes.
    #[command(subcommand)]
    Pii(pii::Command),
    /// HOTP/TOTP codes (RFC 4226, RFC 6238) and otpauth:// Key URIs.
    #[command(subcommand)]
    Otp(otp::Command),
    /// Hash passwords with argon2id (PHC strings) and verify PHC strings of any argon2
    /// implementation.
    #[command(subcommand)]
    Password(password::Command),
    /// Check outbound URLs against the SSRF policy.
    #[command(subcommand)]
    Url(url::Command),
    /// Normalize phone numbers to E.164, validated against libphonenumber's metadata.
    #[command(subcommand)]
    Phone(phone::Command),
    /// Check a permission against a policy's roles or a list of scopes; lint policy files.
    #[command(subcommand)]
    Rbac(rbac::Command),
    /// Verify JWT bearer tokens (HS256 secret or a JWKS file).
    #[command(subcommand)]
    Jwt(jwt::Command),
    /// Generate API keys and check their format and checksum.
    #[command(subcommand)]
    Apikey(apikey::Command),
    /// Append to, verify and checkpoint a tamper-evident audit log (HMAC chain, Ed25519
    /// checkpoints).
    #[command(subcommand)]
    Audit(audit::Command),
}

/// How a command ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Success, with what to print on stdout.
    Ok(String),
    /// The input was checked and refused (exit 1), with the reason.
    Invalid(String),
    /// A URL refused by the SSRF policy (exit 1, `blocked: <reason>` on stdout).
    Blocked(String),
    /// A usage or configuration error (exit 2), with the message for stderr.
    Usage(String),
}

/// Runs the `palisade` command with the process's arguments and standard input.
pub fn run() -> ExitCode {
    run_from(std::env::args_os())
}

/// Runs the `palisade` command with `args` (the first is the program name), printing to
/// standard output and standard error, and returns its exit status: 0 success or valid, 1
/// invalid, 2 usage or configuration error.
pub fn run_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version on stdout (exit 0) and usage errors on stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let outcome = match cli.command {
        Command::Webhook(cmd) => webhook::run(cmd),
        Command::Ratelimit(cmd) => ratelimit::run(cmd),
        Command::Pii(cmd) => pii::run(cmd),
        Command::Otp(cmd) => otp::run(cmd),
        // Its own output contract: `valid` / `invalid`, exit 0 / 1 / 2.
        Command::Password(cmd) => return password::run(cmd),
        Command::Url(cmd) => url::run(cmd),
        Command::Phone(cmd) => phone::run(cmd),
        // Its own output contract: `allow` / `deny: <why>`, exit 0 / 1 / 2.
        Command::Rbac(cmd) => return rbac::run(cmd),
        Command::Jwt(cmd) => jwt::run(cmd),
        Command::Apikey(cmd) => apikey::run(cmd),
        Command::Audit(cmd) => audit::run(cmd),
    };
    match outcome {
        Outcome::Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Outcome::Invalid(reason) => {
            println!("invalid: {reason}");
            ExitCode::from(1)
        }
        Outcome::Blocked(reason) => {
            println!("blocked: {reason}");
            ExitCode::from(1)
        }
        Outcome::Usage(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::Cli;

    /// `Debug` of parsed arguments (a log line, a panic message) never shows a secret.
    #[test]
    fn debug_of_parsed_arguments_redacts_secrets() {
        let secret = "It's a Secret to Everybody";
        for command in ["verify", "sign"] {
            let cli = Cli::try_parse_from([
                "palisade",
                "webhook",
                command,
                "--provider",
                "github",
                "--secret",
                secret,
                "--secret",
                "second-secret-during-rotation",
                "--secret-env",
                "WEBHOOK_SECRET",
            ])
            .unwrap();
            let debug = format!("{cli:?}");
            assert!(!debug.contains(secret), "{debug}");
            assert!(!debug.contains("Secret to"), "{debug}");
            assert!(!debug.contains("second-secret"), "{debug}");
            assert!(debug.contains("REDACTED"), "{debug}");
            // What is not secret is still shown.
            assert!(debug.contains("WEBHOOK_SECRET"), "{debug}");
        }
    }

    /// The same for the audit keys, an API key being checked and a JWT being verified.
    #[test]
    fn debug_redacts_audit_keys_api_keys_and_tokens() {
        let chain = "11".repeat(32);
        let seed = "22".repeat(32);
        let api_key = "pk_0123456789abcdef_secretpart";
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        let cases: [&[&str]; 4] = [
            &[
                "audit",
                "checkpoint",
                "--log",
                "a.jsonl",
                "--key-hex",
                &chain,
                "--signing-key-hex",
                &seed,
            ],
            &["audit", "public-key", "--signing-key-hex", &seed],
            &["apikey", "check", api_key],
            &["jwt", "verify", "--token", token, "--hs256-secret", &chain],
        ];
        for args in cases {
            let cli = Cli::try_parse_from(std::iter::once("palisade").chain(args.iter().copied()))
                .unwrap();
            let debug = format!("{cli:?}");
            for secret in [&chain[..], &seed[..], api_key, token] {
                assert!(!debug.contains(secret), "{debug}");
            }
            assert!(debug.contains("REDACTED"), "{debug}");
        }
    }
}
