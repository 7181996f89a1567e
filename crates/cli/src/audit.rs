//! `palisade audit append | verify | checkpoint | public-key`: a tamper-evident JSONL audit
//! log (palisade-audit) from the shell.
//!
//! The log is one JSON object per line (`tenant`, `seq`, `actor`, `action`, `resource`,
//! `reason`, `time`, `mac`, …; `docs/formats.md`), one HMAC-SHA256 chain per tenant under
//! the chain key `--key-hex` (32 bytes, hex; epoch 1). Checkpoints are Ed25519-signed JSON
//! lines. Keys on the command line are visible to other local users in the process list:
//! this command is for operations and tests, not for a service's own writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use palisade_audit::{
    Action, Actor, AuditError, AuditSink, ChainError, ChainKey, ChainKeys, Checkpoint,
    CheckpointSigner, Event, EventDraft, FsyncPolicy, JsonlSink, Reason, Resource, Sealer,
    public_key_from_hex, verify_with_checkpoints,
};
use palisade_rbac::TenantId;
use secrecy::{ExposeSecret, SecretString};

use crate::{Outcome, parse_secret};

/// `palisade audit …`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Append one event as one JSON line to the log. An action or resource type that
    /// requires a reason (export, anonymize, recording) and has none: error, exit 2.
    Append(AppendArgs),
    /// Verify every tenant's chain in the log (and against checkpoints): `valid: N events`
    /// (exit 0) or `invalid: seq N: <reason>` (exit 1).
    Verify(VerifyArgs),
    /// Print a signed checkpoint (one JSON line) of each tenant's chain in the log, after
    /// verifying it.
    Checkpoint(CheckpointArgs),
    /// Print the Ed25519 public key (hex) of a checkpoint signing key.
    PublicKey(PublicKeyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// The JSONL log file (created if absent).
    #[arg(long, value_name = "FILE")]
    log: PathBuf,
    /// The chain key, 32 bytes in hex.
    #[arg(long, value_name = "K", value_parser = parse_secret)]
    key_hex: SecretString,
}

#[derive(Debug, Args)]
pub(crate) struct AppendArgs {
    #[command(flatten)]
    log: LogArgs,
    /// The tenant.
    #[arg(long, value_name = "T")]
    tenant: String,
    /// The actor's subject id.
    #[arg(long, value_name = "A")]
    actor: String,
    /// The action (`read`, `export`, `credential.read`, …).
    #[arg(long, value_name = "ACTION")]
    action: String,
    /// The resource, `TYPE:ID`.
    #[arg(long, value_name = "TYPE:ID")]
    resource: String,
    /// Why.
    #[arg(long, value_name = "R")]
    reason: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    log: LogArgs,
    /// A file of checkpoints (one JSON line each) to verify the log against.
    #[arg(long, value_name = "FILE", requires = "public_key_hex")]
    checkpoint: Option<PathBuf>,
    /// The Ed25519 public key (hex) that signed the checkpoints.
    #[arg(long, value_name = "P", requires = "checkpoint")]
    public_key_hex: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CheckpointArgs {
    #[command(flatten)]
    log: LogArgs,
    /// The Ed25519 signing key (32-byte seed), hex.
    #[arg(long, value_name = "S", value_parser = parse_secret)]
    signing_key_hex: SecretString,
}

#[derive(Debug, Args)]
pub(crate) struct PublicKeyArgs {
    /// The Ed25519 signing key (32-byte seed), hex.
    #[arg(long, value_name = "S", value_parser = parse_secret)]
    signing_key_hex: SecretString,
}

pub(crate) fn run(cmd: Command) -> Outcome {
    match cmd {
        Command::Append(args) => append(&args),
        Command::Verify(args) => verify(&args),
        Command::Checkpoint(args) => checkpoint(&args),
        Command::PublicKey(args) => {
            match CheckpointSigner::from_hex(args.signing_key_hex.expose_secret()) {
                Ok(s) => Outcome::Ok(format!("{}\n", hex::encode(s.public_key().as_bytes()))),
                Err(e) => Outcome::Usage(e.to_string()),
            }
        }
    }
}

fn keys(hex_key: &str) -> Result<ChainKeys, AuditError> {
    Ok(ChainKeys::new(ChainKey::from_hex(1, hex_key)?))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

fn append(args: &AppendArgs) -> Outcome {
    let draft = || -> Result<EventDraft, AuditError> {
        let tenant = TenantId::new(&args.tenant).map_err(|_| AuditError::InvalidField {
            field: "tenant",
            reason: "not a valid tenant id",
        })?;
        let mut d = EventDraft::new(
            tenant,
            Actor::parse(&args.actor)?,
            Action::new(&args.action)?,
            Resource::parse(&args.resource)?,
        );
        if let Some(r) = &args.reason {
            d = d.with_reason(Reason::new(r)?);
        }
        Ok(d)
    };
    let result = (|| -> Result<(), String> {
        let draft = draft().map_err(|e| e.to_string())?;
        let sealer =
            Sealer::new(keys(args.log.key_hex.expose_secret()).map_err(|e| e.to_string())?);
        // Refused before the file is even opened.
        sealer.check(&draft).map_err(|e| e.to_string())?;
        let sink = JsonlSink::open(&args.log.log, sealer, FsyncPolicy::Always)
            .map_err(|e| e.to_string())?;
        runtime()?
            .block_on(sink.append(draft))
            .map_err(|e| e.to_string())?;
        Ok(())
    })();
    match result {
        Ok(()) => Outcome::Ok(String::new()),
        Err(message) => Outcome::Usage(message),
    }
}

/// The log's events grouped by tenant, in file order; or the `invalid:` verdict for a line
/// that does not parse (named by the sequence number expected there).
fn load(path: &Path) -> Result<BTreeMap<TenantId, Vec<Event>>, Outcome> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return Err(Outcome::Usage(format!("cannot read the log: {e}"))),
    };
    let mut by_tenant: BTreeMap<TenantId, Vec<Event>> = BTreeMap::new();
    let mut last_seq = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match Event::from_json_line(line) {
            Ok(e) => {
                last_seq = e.seq;
                by_tenant.entry(e.tenant.clone()).or_default().push(e);
            }
            Err(e) => {
                return Err(Outcome::Invalid(format!(
                    "seq {}: line {} is not a valid event ({e})",
                    last_seq.saturating_add(1),
                    i.saturating_add(1)
                )));
            }
        }
    }
    Ok(by_tenant)
}

fn check_all(
    keys: &ChainKeys,
    log: &BTreeMap<TenantId, Vec<Event>>,
    checkpoints: &[Checkpoint],
) -> Result<(), ChainError> {
    for (tenant, events) in log {
        verify_with_checkpoints(keys, tenant, None, events, checkpoints)?;
    }
    // A checkpoint of a tenant with no event left in the log: its whole chain was removed.
    for cp in checkpoints {
        if !log.contains_key(&cp.tenant) && cp.seq > 0 {
            verify_with_checkpoints(keys, &cp.tenant, None, &[], checkpoints)?;
        }
    }
    Ok(())
}

fn verify(args: &VerifyArgs) -> Outcome {
    let keys = match keys(args.log.key_hex.expose_secret()) {
        Ok(k) => k,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    let mut checkpoints = Vec::new();
    if let (Some(file), Some(pk)) = (&args.checkpoint, &args.public_key_hex) {
        let pk = match public_key_from_hex(pk) {
            Ok(pk) => pk,
            Err(e) => return Outcome::Usage(e.to_string()),
        };
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => return Outcome::Usage(format!("cannot read the checkpoint file: {e}")),
        };
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let cp = match Checkpoint::from_json_line(line) {
                Ok(cp) => cp,
                Err(e) => {
                    return Outcome::Usage(format!("checkpoint line {}: {e}", i.saturating_add(1)));
                }
            };
            if cp.verify(&pk).is_err() {
                return Outcome::Invalid(format!(
                    "seq {}: checkpoint signature does not verify",
                    cp.seq
                ));
            }
            checkpoints.push(cp);
        }
    }
    let log = match load(&args.log.log) {
        Ok(log) => log,
        Err(outcome) => return outcome,
    };
    match check_all(&keys, &log, &checkpoints) {
        Ok(()) => {
            let n: usize = log.values().map(Vec::len).sum();
            Outcome::Ok(format!("valid: {n} events\n"))
        }
        Err(e) => Outcome::Invalid(e.to_string()),
    }
}

fn checkpoint(args: &CheckpointArgs) -> Outcome {
    let (keys, signer) = match (
        keys(args.log.key_hex.expose_secret()),
        CheckpointSigner::from_hex(args.signing_key_hex.expose_secret()),
    ) {
        (Ok(k), Ok(s)) => (k, s),
        (Err(e), _) | (_, Err(e)) => return Outcome::Usage(e.to_string()),
    };
    let log = match load(&args.log.log) {
        Ok(log) => log,
        Err(outcome) => return outcome,
    };
    if log.is_empty() {
        return Outcome::Usage("the log holds no event".into());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut out = String::new();
    for (tenant, events) in &log {
        match verify_with_checkpoints(&keys, tenant, None, events, &[]) {
            Ok(head) => {
                out.push_str(&signer.sign(tenant, &head, now).to_json_line());
                out.push('\n');
            }
            Err(e) => return Outcome::Invalid(e.to_string()),
        }
    }
    Outcome::Ok(out)
}
