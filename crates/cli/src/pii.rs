//! `palisade pii kek | keygen | encrypt | decrypt | rotate | blind-index`.
//!
//! The key-encryption key (KEK) comes from `--kek-file` or, failing that, the `PALISADE_KEK`
//! environment variable (64 hex digits or base64 of 32 bytes).
//!
//! `keygen` and `rotate` write a keyring, and refuse (exit 2, saying how to pass a KEK) to
//! write one without a KEK, unless `--insecure-plaintext-keyring` asks for an unencrypted
//! development keyring (a warning says so on stderr). `encrypt`, `decrypt` and `blind-index`
//! read the keyring as it was written: a development keyring without a KEK (with the same
//! warning), a protected one with its KEK.
//!
//! `kek` prints a new KEK (32 bytes from the operating system's random number generator, as
//! unpadded base64url), a form both `PALISADE_KEK` and `--kek-file` accept.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use palisade_pii::{
    Algorithm, BlindIndex, Context, DEFAULT_KEK_VAR, EnvKeyProvider, FileKeyProvider, Kek,
    KeyProvider, Keyring, Normalizer, PiiError,
};
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::Outcome;

/// `palisade pii …`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print a new key-encryption key: 32 bytes from the operating system's random number
    /// generator, as unpadded base64url on one line, the form PALISADE_KEK and --kek-file
    /// accept.
    ///
    /// Store it where only the service reads it, never in the repository or an image: in a
    /// secrets manager (Vault, AWS Secrets Manager, GCP Secret Manager, Kubernetes Secret)
    /// injected as PALISADE_KEK at run time, or in a file readable by the service's user only
    /// (`umask 077; palisade pii kek > kek.txt`, mode 0600) passed with --kek-file. Losing it
    /// makes every keyring written with it, and so every value encrypted, unreadable.
    Kek,
    /// Print a new keyring (JSON) on stdout: one primary encryption key, one index key.
    Keygen(KeygenArgs),
    /// Encrypt standard input (bytes, as is) for a context; print the `pii1.…` ciphertext on
    /// one line.
    Encrypt(CryptArgs),
    /// Decrypt a `pii1.…` ciphertext from standard input; print the plaintext. Exit 1, with
    /// no plaintext, on any authentication failure.
    Decrypt(CryptArgs),
    /// Print the keyring with a new primary key; the old keys stay for decryption.
    Rotate(RotateArgs),
    /// Print the blind index (hex) of the value on standard input (one trailing newline is
    /// ignored).
    BlindIndex(BlindIndexArgs),
}

/// Where the KEK comes from.
#[derive(Debug, Args)]
pub(crate) struct KekArgs {
    /// Read the key-encryption key from this file (32 raw bytes, 64 hex digits or base64)
    /// instead of the PALISADE_KEK environment variable.
    #[arg(long, value_name = "PATH")]
    kek_file: Option<PathBuf>,
}

/// For the commands that write a keyring: whether an unencrypted one may be written.
#[derive(Debug, Args)]
pub(crate) struct WriteArgs {
    /// Write the keyring with its keys in clear (development only), when no key-encryption
    /// key is given. Without it, writing a keyring needs a KEK (PALISADE_KEK or --kek-file).
    #[arg(long, conflicts_with = "kek_file")]
    insecure_plaintext_keyring: bool,
}

/// Arguments of `palisade pii keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// AEAD of the primary key.
    #[arg(long, value_enum, default_value_t = AlgorithmArg::Aes256Gcm)]
    algorithm: AlgorithmArg,
    #[command(flatten)]
    kek: KekArgs,
    #[command(flatten)]
    write: WriteArgs,
}

/// Arguments of `palisade pii encrypt` and `decrypt`.
#[derive(Debug, Args)]
pub(crate) struct CryptArgs {
    /// The keyring file (JSON).
    #[arg(long, value_name = "FILE")]
    keyring: PathBuf,
    /// Where the value is stored: `tenant/table/column/row` (table and column not empty).
    #[arg(long, value_name = "TENANT/TABLE/COLUMN/ROW")]
    context: String,
    #[command(flatten)]
    kek: KekArgs,
}

/// Arguments of `palisade pii rotate`.
#[derive(Debug, Args)]
pub(crate) struct RotateArgs {
    /// The keyring file (JSON).
    #[arg(long, value_name = "FILE")]
    keyring: PathBuf,
    /// AEAD of the new primary key (default: the current primary's).
    #[arg(long, value_enum)]
    algorithm: Option<AlgorithmArg>,
    #[command(flatten)]
    kek: KekArgs,
    #[command(flatten)]
    write: WriteArgs,
}

/// Arguments of `palisade pii blind-index`.
#[derive(Debug, Args)]
pub(crate) struct BlindIndexArgs {
    /// The keyring file (JSON).
    #[arg(long, value_name = "FILE")]
    keyring: PathBuf,
    /// The indexed field, as `table.column`.
    #[arg(long, value_name = "TABLE.COLUMN")]
    field: String,
    /// How the value is canonicalized first.
    #[arg(long, value_enum, default_value_t = NormalizerArg::Exact)]
    normalizer: NormalizerArg,
    /// Bits kept (1 to 256).
    #[arg(long, default_value_t = palisade_pii::DEFAULT_BITS)]
    bits: u16,
    /// The tenant (part of the index input; empty for a global index).
    #[arg(long, default_value = "")]
    tenant: String,
    #[command(flatten)]
    kek: KekArgs,
}

/// AEADs offered on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum AlgorithmArg {
    /// AES-256-GCM (NIST SP 800-38D).
    #[value(name = "aes-256-gcm")]
    Aes256Gcm,
    /// AES-256-GCM-SIV (RFC 8452), nonce-misuse resistant.
    #[value(name = "aes-256-gcm-siv")]
    Aes256GcmSiv,
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Aes256Gcm => Self::Aes256Gcm,
            AlgorithmArg::Aes256GcmSiv => Self::Aes256GcmSiv,
        }
    }
}

/// Normalizers offered on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum NormalizerArg {
    /// Byte for byte.
    Exact,
    /// Trimmed, whitespace collapsed, lowercased.
    Text,
    /// Trimmed, lowercased email address.
    Email,
    /// E.164 phone number, parsed and validated against libphonenumber's metadata
    /// (palisade-sanitize).
    Phone,
    /// ASCII digits only.
    Digits,
}

impl From<NormalizerArg> for Normalizer {
    fn from(n: NormalizerArg) -> Self {
        match n {
            NormalizerArg::Exact => Self::Exact,
            NormalizerArg::Text => Self::Text,
            NormalizerArg::Email => Self::Email,
            NormalizerArg::Phone => Self::Phone,
            NormalizerArg::Digits => Self::Digits,
        }
    }
}

/// Runs a `pii` subcommand.
pub(crate) fn run(cmd: Command) -> Outcome {
    let result = match cmd {
        Command::Kek => new_kek(),
        Command::Keygen(args) => keygen(&args),
        Command::Encrypt(args) => encrypt(&args),
        Command::Decrypt(args) => decrypt(&args),
        Command::Rotate(args) => rotate(&args),
        Command::BlindIndex(args) => blind_index(&args),
    };
    result.unwrap_or_else(|e| e)
}

fn new_kek() -> Result<Outcome, Outcome> {
    let kek = Kek::generate().map_err(usage)?;
    let mut line = kek.to_base64();
    line.push('\n');
    write_secret(line.as_bytes())
}

fn keygen(args: &KeygenArgs) -> Result<Outcome, Outcome> {
    let kek = writing_kek(&args.kek, &args.write)?;
    let keyring = Keyring::generate_with(args.algorithm.into()).map_err(usage)?;
    save(&keyring, kek.as_ref())
}

fn encrypt(args: &CryptArgs) -> Result<Outcome, Outcome> {
    let keyring = load(&args.keyring, &args.kek)?;
    let ctx = Context::parse(&args.context).map_err(usage)?;
    let plaintext = read_stdin()?;
    let text = keyring.encrypt_to_text(&ctx, &plaintext).map_err(usage)?;
    Ok(Outcome::Ok(format!("{text}\n")))
}

fn decrypt(args: &CryptArgs) -> Result<Outcome, Outcome> {
    let keyring = load(&args.keyring, &args.kek)?;
    let ctx = Context::parse(&args.context).map_err(usage)?;
    let input = read_stdin()?;
    let text = std::str::from_utf8(&input)
        .map_err(|_| Outcome::Invalid("malformed envelope: not UTF-8".to_owned()))?;
    match keyring.decrypt_text(&ctx, text.trim()) {
        Ok(plaintext) => write_secret(plaintext.expose_secret()),
        // Every refusal of the ciphertext (malformed, unknown or retired key, authentication
        // failure) is exit 1; the message never holds plaintext.
        Err(e) => Ok(Outcome::Invalid(e.to_string())),
    }
}

fn rotate(args: &RotateArgs) -> Result<Outcome, Outcome> {
    let kek = writing_kek(&args.kek, &args.write)?;
    let mut keyring = load_with(&args.keyring, kek.as_ref())?;
    match args.algorithm {
        None => keyring.rotate().map(drop),
        Some(a) => keyring
            .add_key(a.into())
            .and_then(|id| keyring.promote(palisade_pii::KeyPurpose::Encryption, id)),
    }
    .map_err(usage)?;
    save(&keyring, kek.as_ref())
}

fn blind_index(args: &BlindIndexArgs) -> Result<Outcome, Outcome> {
    let keyring = load(&args.keyring, &args.kek)?;
    let (table, column) = args
        .field
        .split_once('.')
        .filter(|(t, c)| !t.is_empty() && !c.is_empty())
        .ok_or_else(|| Outcome::Usage("--field wants `table.column`".to_owned()))?;
    let index = BlindIndex::new(table, column, args.normalizer.into())
        .with_bits(args.bits)
        .map_err(usage)?;
    let input = read_stdin()?;
    let value = std::str::from_utf8(&input)
        .map_err(|_| Outcome::Invalid("the value is not UTF-8".to_owned()))?;
    let value = value
        .strip_suffix('\n')
        .map_or(value, |v| v.strip_suffix('\r').unwrap_or(v));
    match keyring.blind_index(&index, &args.tenant, value) {
        Ok(v) => Ok(Outcome::Ok(format!("{v}\n"))),
        Err(e @ PiiError::Normalization { .. }) => Ok(Outcome::Invalid(e.to_string())),
        Err(e) => Err(usage(e)),
    }
}

/// Why `keygen` and `rotate` refuse to run without a KEK, and how to give one.
const NO_KEK_FOR_WRITING: &str = "no key-encryption key: a keyring is only written \
     with its keys encrypted. Set PALISADE_KEK to 32 bytes as 64 hex digits or base64 (for \
     example from `palisade pii kek`, kept in a secret manager), or \
     pass --kek-file PATH; for a development keyring with its keys in clear, pass \
     --insecure-plaintext-keyring";

/// The KEK from `--kek-file` or `PALISADE_KEK`, if any.
fn given_kek(args: &KekArgs) -> Result<Option<Kek>, Outcome> {
    let kek = match &args.kek_file {
        Some(path) => FileKeyProvider::new(path).key_encryption_key(),
        None if std::env::var_os(DEFAULT_KEK_VAR).is_some() => {
            EnvKeyProvider::default().key_encryption_key()
        }
        None => return Ok(None),
    };
    kek.map(Some).map_err(usage)
}

fn warn_unencrypted() {
    eprintln!(
        "warning: no key-encryption key ({DEFAULT_KEK_VAR} or --kek-file): \
         using an UNENCRYPTED development keyring"
    );
}

/// The KEK for reading a keyring, or `None` for an unencrypted development keyring (with a
/// warning on stderr).
fn kek(args: &KekArgs) -> Result<Option<Kek>, Outcome> {
    let kek = given_kek(args)?;
    if kek.is_none() {
        warn_unencrypted();
    }
    Ok(kek)
}

/// The KEK for writing a keyring: required, unless `--insecure-plaintext-keyring` asks for a
/// development keyring (`None`, with a warning on stderr). The flag and a KEK together are
/// refused, so that neither silently wins.
fn writing_kek(args: &KekArgs, write: &WriteArgs) -> Result<Option<Kek>, Outcome> {
    match (given_kek(args)?, write.insecure_plaintext_keyring) {
        (Some(kek), false) => Ok(Some(kek)),
        (Some(_), true) => Err(Outcome::Usage(format!(
            "--insecure-plaintext-keyring writes a keyring in clear, but a key-encryption key \
             was given ({DEFAULT_KEK_VAR}): drop one of them"
        ))),
        (None, true) => {
            warn_unencrypted();
            Ok(None)
        }
        (None, false) => Err(Outcome::Usage(NO_KEK_FOR_WRITING.to_owned())),
    }
}

fn load(path: &Path, args: &KekArgs) -> Result<Keyring, Outcome> {
    load_with(path, kek(args)?.as_ref())
}

fn load_with(path: &Path, kek: Option<&Kek>) -> Result<Keyring, Outcome> {
    let json = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| Outcome::Usage(format!("cannot read {}: {e}", path.display())))?,
    );
    let loaded = match kek {
        Some(kek) => Keyring::from_json(&json, kek),
        None => Keyring::from_json_unprotected(&json),
    };
    loaded.map_err(|e| match e {
        PiiError::ProtectionMismatch { found: "kek", .. } => Outcome::Usage(format!(
            "{} is protected by a key-encryption key: set {DEFAULT_KEK_VAR} or pass --kek-file",
            path.display()
        )),
        PiiError::ProtectionMismatch { .. } => Outcome::Usage(format!(
            "{} is an unencrypted development keyring, but a key-encryption key was given",
            path.display()
        )),
        e => Outcome::Usage(format!("{}: {e}", path.display())),
    })
}

fn save(keyring: &Keyring, kek: Option<&Kek>) -> Result<Outcome, Outcome> {
    match kek {
        Some(kek) => keyring
            .to_json(kek)
            .map(|json| Outcome::Ok(format!("{json}\n")))
            .map_err(usage),
        None => {
            let json = keyring.to_json_unprotected().map_err(usage)?;
            write_secret(json.expose_secret().as_bytes())?;
            write_secret(b"\n")
        }
    }
}

/// Writes secret bytes straight to stdout (never through a non-zeroized `String`).
fn write_secret(bytes: &[u8]) -> Result<Outcome, Outcome> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Outcome::Usage(format!("cannot write standard output: {e}")))?;
    Ok(Outcome::Ok(String::new()))
}

/// Reads all of standard input into a zeroizing buffer, growing it by copy so that no
/// reallocation leaves a stray copy of the plaintext behind.
fn read_stdin() -> Result<Zeroizing<Vec<u8>>, Outcome> {
    let mut input = Zeroizing::new(Vec::with_capacity(8192));
    let mut chunk = Zeroizing::new([0u8; 8192]);
    let mut stdin = std::io::stdin().lock();
    loop {
        let n = match stdin.read(chunk.as_mut_slice()) {
            Ok(0) => return Ok(input),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Outcome::Usage(format!("cannot read standard input: {e}"))),
        };
        let read = chunk.get(..n).unwrap_or_default();
        if input.len() + n > input.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(2 * (input.len() + n)));
            bigger.extend_from_slice(&input);
            input = bigger;
        }
        input.extend_from_slice(read);
    }
}

fn usage(e: PiiError) -> Outcome {
    Outcome::Usage(e.to_string())
}
