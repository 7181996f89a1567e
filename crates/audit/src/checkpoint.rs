//! Signed checkpoints: a statement of where a tenant's chain stood, for a third party, and
//! the anchor the chain restarts from after a purge.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use palisade_rbac::TenantId;
use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox};
use serde::{Deserialize, Serialize};

use crate::chain::{ChainVerifier, Head};
use crate::error::{AuditError, ChainError, Fault};
use crate::event::{Event, FORMAT_VERSION};
use crate::jsonl::{MAX_LINE_LEN, json_error};
use crate::key::{ChainKeys, ChainMac};

/// The domain-separation prefix of the signed message.
pub const CHECKPOINT_DOMAIN: &[u8] = b"palisade-audit/checkpoint/v1";

/// An Ed25519 (RFC 8032) key that signs checkpoints. `Debug` prints the public key only.
pub struct CheckpointSigner(SigningKey);

impl CheckpointSigner {
    /// From the 32-byte secret seed, in hex (the CLI's `--signing-key-hex`).
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidKey`] for anything but 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, AuditError> {
        let mut seed = SecretBox::new(Box::new([0u8; 32]));
        hex::decode_to_slice(text.trim(), seed.expose_secret_mut()).map_err(|_| {
            AuditError::InvalidKey {
                reason: "expected a 64-hex-digit Ed25519 seed",
            }
        })?;
        Ok(Self(SigningKey::from_bytes(seed.expose_secret())))
    }

    /// From the 32-byte seed.
    pub fn from_seed(seed: &SecretBox<[u8; 32]>) -> Self {
        Self(SigningKey::from_bytes(seed.expose_secret()))
    }

    /// The public key, to hand to whoever checks checkpoints.
    pub fn public_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// Signs where `tenant`'s chain stands (`head`) at `time_ms` (milliseconds since the
    /// Unix epoch).
    pub fn sign(&self, tenant: &TenantId, head: &Head, time_ms: u64) -> Checkpoint {
        let mut cp = Checkpoint {
            tenant: tenant.clone(),
            seq: head.seq,
            mac: head.mac,
            epoch: head.epoch.unwrap_or(0),
            time_ms,
            public_key: self.public_key(),
            signature: Signature::from_bytes(&[0; 64]),
        };
        cp.signature = self.0.sign(&cp.signed_message());
        cp
    }
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CheckpointSigner({})",
            hex::encode(self.public_key().as_bytes())
        )
    }
}

/// Parses a 32-byte Ed25519 public key in hex (the CLI's `--public-key-hex`).
///
/// # Errors
///
/// [`AuditError::InvalidKey`].
pub fn public_key_from_hex(text: &str) -> Result<VerifyingKey, AuditError> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| AuditError::InvalidKey {
        reason: "expected a 64-hex-digit Ed25519 public key",
    })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| AuditError::InvalidKey {
        reason: "not an Ed25519 public key",
    })
}

/// A signed statement: `tenant`'s chain had `seq` events, the last with MAC `mac`, in
/// chain-key epoch `epoch` (0 for an empty chain), at `time_ms`.
///
/// The signed message is
/// `"palisade-audit/checkpoint/v1" | lp(tenant) | seq u64 BE | epoch u32 BE | mac (32 bytes)
/// | time_ms u64 BE` (`lp`: `u32` BE length, then the bytes); its JSON line form is
/// `{"v":1,"tenant":…,"seq":…,"epoch":…,"mac":hex,"time":ms,"public_key":hex,"signature":hex}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The tenant.
    pub tenant: TenantId,
    /// The last sequence number covered.
    pub seq: u64,
    /// Its MAC.
    pub mac: ChainMac,
    /// The epoch of the next event after it.
    pub epoch: u32,
    /// When it was signed, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The key that signed it.
    pub public_key: VerifyingKey,
    /// The Ed25519 signature.
    pub signature: Signature,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    v: u8,
    tenant: String,
    seq: u64,
    epoch: u32,
    mac: String,
    time: u64,
    public_key: String,
    signature: String,
}

impl Checkpoint {
    /// The bytes signed.
    pub fn signed_message(&self) -> Vec<u8> {
        let tenant = self.tenant.as_str().as_bytes();
        let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + tenant.len() + 56);
        m.extend_from_slice(CHECKPOINT_DOMAIN);
        m.extend_from_slice(
            &u32::try_from(tenant.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        m.extend_from_slice(tenant);
        m.extend_from_slice(&self.seq.to_be_bytes());
        m.extend_from_slice(&self.epoch.to_be_bytes());
        m.extend_from_slice(self.mac.as_bytes());
        m.extend_from_slice(&self.time_ms.to_be_bytes());
        m
    }

    /// Checks the signature (strict RFC 8032 verification) and that `public_key` signed it.
    ///
    /// # Errors
    ///
    /// [`AuditError::BadSignature`].
    pub fn verify(&self, public_key: &VerifyingKey) -> Result<(), AuditError> {
        if self.public_key != *public_key {
            return Err(AuditError::BadSignature);
        }
        public_key
            .verify_strict(&self.signed_message(), &self.signature)
            .map_err(|_| AuditError::BadSignature)
    }

    /// The head it states: where the chain restarts after a purge.
    pub fn head(&self) -> Head {
        Head {
            seq: self.seq,
            mac: self.mac,
            epoch: (self.epoch != 0).then_some(self.epoch),
        }
    }

    /// The JSON line form (no trailing newline).
    pub fn to_json_line(&self) -> String {
        let line = Line {
            v: FORMAT_VERSION,
            tenant: self.tenant.as_str().to_owned(),
            seq: self.seq,
            epoch: self.epoch,
            mac: self.mac.to_hex(),
            time: self.time_ms,
            public_key: hex::encode(self.public_key.as_bytes()),
            signature: hex::encode(self.signature.to_bytes()),
        };
        serde_json::to_string(&line).unwrap_or_default()
    }

    /// Parses the JSON line form (not the signature's validity: [`Checkpoint::verify`]).
    ///
    /// # Errors
    ///
    /// [`AuditError::Malformed`] (`checkpoint`).
    pub fn from_json_line(line: &str) -> Result<Self, AuditError> {
        let bad = |reason: &str| AuditError::malformed("checkpoint", reason);
        if line.len() > MAX_LINE_LEN {
            return Err(bad("line longer than 8 KiB"));
        }
        let l: Line = serde_json::from_str(line).map_err(|e| json_error("checkpoint", &e))?;
        if l.v != FORMAT_VERSION {
            return Err(bad("unsupported version"));
        }
        let tenant = TenantId::new(&l.tenant).map_err(|_| bad("tenant is not a valid id"))?;
        let mut pk = [0u8; 32];
        hex::decode_to_slice(&l.public_key, &mut pk).map_err(|_| bad("public_key: 64 hex"))?;
        let public_key =
            VerifyingKey::from_bytes(&pk).map_err(|_| bad("public_key: not an Ed25519 key"))?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&l.signature, &mut sig).map_err(|_| bad("signature: 128 hex"))?;
        if (l.seq == 0) != (l.epoch == 0) {
            return Err(bad("epoch 0 is only for an empty chain (seq 0)"));
        }
        Ok(Self {
            tenant,
            seq: l.seq,
            mac: ChainMac::from_hex(&l.mac).map_err(|_| bad("mac: 64 hex"))?,
            epoch: l.epoch,
            time_ms: l.time,
            public_key,
            signature: Signature::from_bytes(&sig),
        })
    }
}

/// Verifies one tenant's stored events (in stored order) against checkpoints whose
/// signatures the caller has checked: the chain starts at `anchor` (the checkpoint a purge
/// left) when given, else at sequence 1, or right after the checkpoint whose sequence number
/// precedes the first stored event; each checkpoint within the log must match the MAC
/// stored at its sequence number, and a checkpoint past the log's end proves that its tail
/// was truncated. Returns the head after the last event.
///
/// # Errors
///
/// [`ChainError`] at the first bad sequence number: the chain's own faults, then
/// [`Fault::CheckpointMismatch`], [`Fault::Truncated`], [`Fault::NoAnchor`].
pub fn verify_with_checkpoints(
    keys: &ChainKeys,
    tenant: &TenantId,
    anchor: Option<&Checkpoint>,
    events: &[Event],
    checkpoints: &[Checkpoint],
) -> Result<Head, ChainError> {
    let mine = || checkpoints.iter().filter(|c| c.tenant == *tenant);
    let start = match (anchor, events.first()) {
        (Some(anchor), _) => anchor.head(),
        (None, None | Some(Event { seq: 1, .. })) => Head::GENESIS,
        (None, Some(first)) => match mine().find(|c| c.seq.checked_add(1) == Some(first.seq)) {
            Some(anchor) => anchor.head(),
            None => {
                let seq = mine()
                    .map(|c| c.seq)
                    .filter(|s| *s < first.seq)
                    .max()
                    .unwrap_or(0)
                    .saturating_add(1);
                return Err(ChainError {
                    seq,
                    fault: Fault::NoAnchor { first: first.seq },
                });
            }
        },
    };
    let mut v = ChainVerifier::new(keys, tenant.clone(), start);
    let mut pending: Vec<&Checkpoint> = mine().filter(|c| c.seq > start.seq).collect();
    pending.sort_by_key(|c| c.seq);
    let mut next = pending.iter().peekable();
    for e in events {
        v.push(e)?;
        while let Some(cp) = next.next_if(|c| c.seq <= e.seq) {
            if cp.seq == e.seq && cp.mac != e.mac {
                return Err(ChainError {
                    seq: cp.seq,
                    fault: Fault::CheckpointMismatch,
                });
            }
        }
    }
    let head = v.head();
    if let Some(cp) = next.next() {
        return Err(ChainError {
            seq: head.seq.saturating_add(1),
            fault: Fault::Truncated {
                checkpoint_seq: cp.seq,
            },
        });
    }
    Ok(head)
}
