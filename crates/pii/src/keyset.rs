//! The keyset: a keyring serialized as JSON, its key material wrapped under a KEK.

use std::borrow::Borrow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::aead::{Cipher, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::buf::put_lp;
use crate::derive::{KEYSET_MAC_LABEL, KEYSET_WRAP_LABEL, derive};
use crate::key::{Entry, KeyList};
use crate::{Algorithm, KeyId, KeyProvider, KeyPurpose, KeyStatus, Keyring, PiiError};

/// The `format` field of every keyset document.
pub const KEYSET_FORMAT: &str = "palisade-pii-keyset";
/// The keyset document version this crate writes and reads.
pub const KEYSET_VERSION: u32 = 1;
/// At most this many keys per list are accepted when loading.
pub const MAX_KEYS: usize = 1024;

/// Length of a wrapped key: nonce (12) + encrypted key (32) + tag (16).
const WRAPPED_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;
const WRAP_AAD_LABEL: &[u8] = b"palisade-pii/v1/keyset-key";
const MAC_LABEL: &[u8] = b"palisade-pii/v1/keyset";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Protection {
    Kek,
    None,
}

impl Protection {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Kek => "kek",
            Self::None => "none",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    format: String,
    version: u32,
    protection: Protection,
    encryption_keys: Vec<KeyDoc>,
    index_keys: Vec<KeyDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyDoc {
    id: u32,
    status: KeyStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    algorithm: Option<Algorithm>,
    material: String,
}

impl Drop for KeyDoc {
    fn drop(&mut self) {
        // Unprotected keysets hold raw key material here.
        self.material.zeroize();
    }
}

/// The KEK's two subkeys.
struct Protector {
    wrap: Cipher,
    mac: Zeroizing<[u8; KEY_LEN]>,
}

impl Protector {
    fn new(provider: &dyn KeyProvider) -> Result<Self, PiiError> {
        let kek = provider.key_encryption_key()?;
        let wrap = derive(kek.bytes(), KEYSET_WRAP_LABEL, &[], &[])?;
        Ok(Self {
            wrap: Cipher::new(Algorithm::Aes256Gcm, &wrap),
            mac: derive(kek.bytes(), KEYSET_MAC_LABEL, &[], &[])?,
        })
    }

    fn wrap(
        &self,
        purpose: KeyPurpose,
        e: &Entry,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Vec<u8>, PiiError> {
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(e.key());
        let aad = wrap_aad(purpose, e.id.get(), e.algorithm);
        let body = out
            .get_mut(NONCE_LEN..)
            .ok_or_else(|| PiiError::keyset("wrap buffer"))?;
        let tag = self.wrap.seal_in_place(&nonce, &aad, body)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn unwrap(
        &self,
        purpose: KeyPurpose,
        k: &KeyDoc,
        wrapped: &[u8],
    ) -> Result<SecretBox<[u8; KEY_LEN]>, PiiError> {
        let (nonce, rest) = wrapped
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(PiiError::KeysetAuthentication)?;
        let (ciphertext, tag) = rest
            .split_last_chunk::<TAG_LEN>()
            .ok_or(PiiError::KeysetAuthentication)?;
        let aad = wrap_aad(purpose, k.id, k.algorithm);
        let mut result = Ok(());
        let key = SecretBox::init_with_mut(|out: &mut [u8; KEY_LEN]| {
            result = self
                .wrap
                .open_into(nonce, &aad, ciphertext, tag, out)
                .map_err(|_| PiiError::KeysetAuthentication);
        });
        result.map(|()| key)
    }

    fn mac(&self) -> Result<Hmac<Sha256>, PiiError> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(self.mac.as_ref())
            .map_err(|_| PiiError::KeyDerivation)
    }
}

fn wrap_aad(purpose: KeyPurpose, id: u32, algorithm: Option<Algorithm>) -> Vec<u8> {
    let mut aad = Vec::with_capacity(48);
    put_lp(&mut aad, WRAP_AAD_LABEL);
    aad.push(purpose.code());
    aad.extend_from_slice(&id.to_be_bytes());
    aad.push(algorithm.map_or(0, Algorithm::id));
    aad
}

/// Decodes the wrapped material of a list, sorted by id.
fn decode_wrapped(list: &[KeyDoc]) -> Result<Vec<(&KeyDoc, Vec<u8>)>, PiiError> {
    let mut out = list
        .iter()
        .map(|k| {
            let wrapped = URL_SAFE_NO_PAD
                .decode(&k.material)
                .ok()
                .filter(|w| w.len() == WRAPPED_LEN)
                .ok_or_else(|| {
                    PiiError::keyset("wrapped key material is not 60 bytes of base64url")
                })?;
            Ok((k, wrapped))
        })
        .collect::<Result<Vec<_>, PiiError>>()?;
    out.sort_by_key(|(k, _)| k.id);
    Ok(out)
}

/// The canonical bytes the keyset MAC covers: every list (encryption, then index) sorted by
/// id, each key's id, status, algorithm and wrapped material.
fn mac_input<K: Borrow<KeyDoc>>(lists: [&[(K, Vec<u8>)]; 2]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    put_lp(&mut out, MAC_LABEL);
    out.extend_from_slice(&KEYSET_VERSION.to_be_bytes());
    for list in lists {
        out.extend_from_slice(&(list.len() as u64).to_be_bytes());
        for (k, wrapped) in list {
            let k = k.borrow();
            out.extend_from_slice(&k.id.to_be_bytes());
            out.push(k.status.code());
            out.push(k.algorithm.map_or(0, Algorithm::id));
            put_lp(&mut out, wrapped);
        }
    }
    out
}

impl Keyring {
    /// Loads a keyset saved by [`Keyring::to_json`], unwrapping its keys with the KEK from
    /// `provider` and checking the keyset MAC, so nothing in it (a key, a status, an id) can
    /// be changed, added or removed without the KEK.
    ///
    /// # Errors
    ///
    /// [`PiiError::InvalidKeyset`] for a document that is not a version-1 keyset (JSON
    /// syntax, unknown fields, duplicate or zero ids, not exactly one primary per list, more
    /// than [`MAX_KEYS`] keys in a list), [`PiiError::ProtectionMismatch`] for an
    /// unprotected keyset (an attacker who can write the file must not be able to swap in
    /// keys of their own), errors of the provider, and [`PiiError::KeysetAuthentication`]
    /// when the KEK is wrong or the document was modified.
    pub fn from_json(json: &str, provider: &dyn KeyProvider) -> Result<Self, PiiError> {
        let doc = parse_doc(json, Protection::Kek)?;
        let protector = Protector::new(provider)?;
        let enc = decode_wrapped(&doc.encryption_keys)?;
        let idx = decode_wrapped(&doc.index_keys)?;
        let tag = doc
            .mac
            .as_deref()
            .and_then(|m| URL_SAFE_NO_PAD.decode(m).ok())
            .ok_or(PiiError::KeysetAuthentication)?;
        let mut mac = protector.mac()?;
        mac.update(&mac_input([&enc, &idx]));
        mac.verify_slice(&tag)
            .map_err(|_| PiiError::KeysetAuthentication)?;
        let entries = |purpose: KeyPurpose, list: &[(&KeyDoc, Vec<u8>)]| {
            list.iter()
                .map(|(k, wrapped)| {
                    let material = protector.unwrap(purpose, k, wrapped)?;
                    entry(k, material)
                })
                .collect::<Result<Vec<_>, PiiError>>()
        };
        Ok(Self::from_lists(
            KeyList::from_entries(
                KeyPurpose::Encryption,
                entries(KeyPurpose::Encryption, &enc)?,
            )?,
            KeyList::from_entries(KeyPurpose::Index, entries(KeyPurpose::Index, &idx)?)?,
        ))
    }

    /// Loads an unprotected (development) keyset written by
    /// [`Keyring::to_json_unprotected`]: key material in clear, no MAC.
    ///
    /// # Errors
    ///
    /// [`PiiError::InvalidKeyset`] as for [`Keyring::from_json`], and
    /// [`PiiError::ProtectionMismatch`] for a KEK-protected keyset.
    pub fn from_json_unprotected(json: &str) -> Result<Self, PiiError> {
        let doc = parse_doc(json, Protection::None)?;
        let entries = |list: &[KeyDoc]| {
            list.iter()
                .map(|k| {
                    let mut result = Ok(());
                    let material = SecretBox::init_with_mut(|out: &mut [u8; KEY_LEN]| {
                        result = URL_SAFE_NO_PAD
                            .decode_slice(&k.material, out)
                            .ok()
                            .filter(|&n| n == KEY_LEN)
                            .map(|_| ())
                            .ok_or_else(|| {
                                PiiError::keyset("key material is not 32 bytes of base64url")
                            });
                    });
                    result.and_then(|()| entry(k, material))
                })
                .collect::<Result<Vec<_>, PiiError>>()
        };
        Ok(Self::from_lists(
            KeyList::from_entries(KeyPurpose::Encryption, entries(&doc.encryption_keys)?)?,
            KeyList::from_entries(KeyPurpose::Index, entries(&doc.index_keys)?)?,
        ))
    }

    /// Serializes the keyring as a JSON keyset whose key material is wrapped under the KEK
    /// from `provider` (AES-256-GCM with a key derived from the KEK, a fresh nonce per key,
    /// the purpose, id and algorithm as associated data), with an HMAC-SHA256 over the whole
    /// keyset. The output holds no secret and may be stored next to the data it protects,
    /// though keeping it apart from the database is better.
    ///
    /// ```json
    /// {"format":"palisade-pii-keyset","version":1,"protection":"kek",
    ///  "encryption_keys":[{"id":1,"status":"primary","algorithm":"aes-256-gcm","material":"<80 base64url chars>"}],
    ///  "index_keys":[{"id":1,"status":"primary","material":"<80 base64url chars>"}],
    ///  "mac":"<43 base64url chars>"}
    /// ```
    ///
    /// Usage counters are not saved.
    ///
    /// # Errors
    ///
    /// Errors of the provider; [`PiiError::Random`].
    pub fn to_json(&self, provider: &dyn KeyProvider) -> Result<String, PiiError> {
        let protector = Protector::new(provider)?;
        let mut lists = [Vec::new(), Vec::new()];
        for (purpose, out) in [KeyPurpose::Encryption, KeyPurpose::Index]
            .into_iter()
            .zip(lists.iter_mut())
        {
            for e in &self.list(purpose).entries {
                let wrapped = protector.wrap(purpose, e, self.nonces.next()?)?;
                out.push((key_doc(e, URL_SAFE_NO_PAD.encode(&wrapped)), wrapped));
            }
        }
        let [enc, idx] = &lists;
        let mut mac = protector.mac()?;
        mac.update(&mac_input([enc.as_slice(), idx.as_slice()]));
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        let [enc, idx] = lists;
        let doc = Doc {
            format: KEYSET_FORMAT.to_owned(),
            version: KEYSET_VERSION,
            protection: Protection::Kek,
            encryption_keys: enc.into_iter().map(|(k, _)| k).collect(),
            index_keys: idx.into_iter().map(|(k, _)| k).collect(),
            mac: Some(tag),
        };
        serde_json::to_string_pretty(&doc).map_err(|e| PiiError::keyset(e.to_string()))
    }

    /// Serializes the keyring with its key material in clear (unpadded base64url) and no
    /// MAC: for development and tests only. The result is a secret.
    ///
    /// # Errors
    ///
    /// [`PiiError::InvalidKeyset`] if serialization fails (it does not in practice).
    pub fn to_json_unprotected(&self) -> Result<SecretString, PiiError> {
        let list = |purpose: KeyPurpose| -> Vec<KeyDoc> {
            self.list(purpose)
                .entries
                .iter()
                .map(|e| key_doc(e, URL_SAFE_NO_PAD.encode(e.key())))
                .collect()
        };
        let doc = Doc {
            format: KEYSET_FORMAT.to_owned(),
            version: KEYSET_VERSION,
            protection: Protection::None,
            encryption_keys: list(KeyPurpose::Encryption),
            index_keys: list(KeyPurpose::Index),
            mac: None,
        };
        let mut out = Vec::with_capacity(1024);
        serde_json::to_writer_pretty(&mut out, &doc)
            .map_err(|e| PiiError::keyset(e.to_string()))?;
        String::from_utf8(out)
            .map(SecretString::from)
            .map_err(|_| PiiError::keyset("serialized keyset is not UTF-8"))
    }
}

fn key_doc(e: &Entry, material: String) -> KeyDoc {
    KeyDoc {
        id: e.id.get(),
        status: e.status,
        algorithm: e.algorithm,
        material,
    }
}

fn entry(k: &KeyDoc, material: SecretBox<[u8; KEY_LEN]>) -> Result<Entry, PiiError> {
    let id = KeyId::new(k.id).ok_or_else(|| PiiError::keyset("key id 0"))?;
    Ok(Entry::new(id, k.status, k.algorithm, material))
}

/// Parses and checks the document shape (not the key material).
fn parse_doc(json: &str, expected: Protection) -> Result<Doc, PiiError> {
    let doc: Doc = serde_json::from_str(json).map_err(json_error)?;
    if doc.format != KEYSET_FORMAT {
        return Err(PiiError::keyset("`format` is not \"palisade-pii-keyset\""));
    }
    if doc.version != KEYSET_VERSION {
        return Err(PiiError::keyset(format!(
            "unsupported keyset version {}",
            doc.version
        )));
    }
    if doc.protection != expected {
        return Err(PiiError::ProtectionMismatch {
            expected: expected.as_str(),
            found: doc.protection.as_str(),
        });
    }
    if doc.protection == Protection::None && doc.mac.is_some() {
        return Err(PiiError::keyset("an unprotected keyset has no `mac`"));
    }
    for (list, needs_algorithm) in [(&doc.encryption_keys, true), (&doc.index_keys, false)] {
        if list.len() > MAX_KEYS {
            return Err(PiiError::keyset("too many keys"));
        }
        if list
            .iter()
            .any(|k| k.algorithm.is_some() != needs_algorithm)
        {
            return Err(PiiError::keyset(
                "encryption keys need an `algorithm`; index keys have none",
            ));
        }
    }
    Ok(doc)
}

/// A JSON error, without echoing long quoted input (which could be key material put in the
/// wrong field).
fn json_error(e: serde_json::Error) -> PiiError {
    let message = e.to_string();
    let echoes_input = message
        .split('`')
        .skip(1)
        .step_by(2)
        .any(|quoted| quoted.len() > 24);
    if echoes_input {
        PiiError::keyset(format!(
            "JSON does not match the keyset shape at line {} column {}",
            e.line(),
            e.column()
        ))
    } else {
        PiiError::keyset(format!("JSON: {message}"))
    }
}
