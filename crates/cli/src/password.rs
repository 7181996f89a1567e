//! `palisade password`: argon2id password hashes (PHC strings) from the shell.
//!
//! ```text
//! palisade password hash                 password on stdin (one trailing newline stripped),
//!                                        PHC string on stdout; exit 0
//! palisade password verify --phc PHC     password on stdin; prints `valid` (exit 0) or
//!                                        `invalid` (exit 1); a malformed or unsupported PHC
//!                                        string, or a too long password: an error on stderr,
//!                                        exit 2
//! ```
//!
//! Hashes use OWASP's argon2id parameters (m = 19456 KiB, t = 2, p = 1); `verify` accepts the
//! argon2id/argon2i/argon2d PHC strings of other implementations, up to m = 262144 KiB,
//! t = 16, p = 16. Peppered hashes (`pid=`) cannot be verified here (no pepper is configured
//! on the command line): exit 2.

use std::io::Read;
use std::process::ExitCode;

use clap::Subcommand;
use palisade_otp::{MAX_PASSWORD_BYTES, Passwords};
use secrecy::SecretString;
use zeroize::Zeroizing;

/// `palisade password` sub-commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Hash the password on stdin (one trailing newline stripped) with argon2id and OWASP's
    /// parameters; prints the PHC string.
    Hash,
    /// Verify the password on stdin (one trailing newline stripped) against a PHC string;
    /// prints `valid` (exit 0) or `invalid` (exit 1); exit 2 for a malformed string.
    Verify {
        /// The stored PHC string, e.g. `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
        #[arg(long)]
        phc: String,
    },
}

/// Runs a `palisade password` sub-command; prints its own output and returns the exit status.
pub(crate) fn run(cmd: Command) -> ExitCode {
    match execute(cmd) {
        Ok(Answer::Printed(line)) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Ok(Answer::Invalid) => {
            println!("invalid");
            ExitCode::from(1)
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

enum Answer {
    Printed(String),
    Invalid,
}

fn execute(cmd: Command) -> Result<Answer, String> {
    let passwords = Passwords::default();
    let password = read_password()?;
    match cmd {
        Command::Hash => passwords
            .hash(&password)
            .map(Answer::Printed)
            .map_err(|e| e.to_string()),
        Command::Verify { phc } => match passwords.verify(&password, phc.trim()) {
            Ok(true) => Ok(Answer::Printed("valid".to_owned())),
            Ok(false) => Ok(Answer::Invalid),
            Err(e) => Err(e.to_string()),
        },
    }
}

/// Reads the password from stdin: at most [`MAX_PASSWORD_BYTES`] bytes after stripping one
/// trailing `\n` (or `\r\n`), UTF-8. The read buffer is zeroized.
fn read_password() -> Result<SecretString, String> {
    // Two bytes more than the limit: room for "\r\n", and one more tells "too long".
    let limit = MAX_PASSWORD_BYTES + 3;
    let mut input = Zeroizing::new(Vec::with_capacity(limit));
    std::io::stdin()
        .lock()
        .take(u64::try_from(limit).unwrap_or(u64::MAX))
        .read_to_end(&mut input)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let mut bytes: &[u8] = &input;
    if let Some(rest) = bytes.strip_suffix(b"\n") {
        bytes = rest.strip_suffix(b"\r").unwrap_or(rest);
    }
    if bytes.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "the password is longer than the maximum of {MAX_PASSWORD_BYTES} bytes"
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "the password is not UTF-8".to_owned())?;
    // An exact-size copy, so that no reallocation leaves a copy behind.
    let password = SecretString::from(text.to_owned());
    Ok(password)
}
