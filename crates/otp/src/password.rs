//! Password hashing with argon2id, PHC strings, rehash policy, peppers and a dummy hash.
//!
//! [`Passwords`] hashes with argon2id (RFC 9106) through the RustCrypto `argon2` crate, with
//! [OWASP's parameters](https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id)
//! by default ([`PasswordPolicy::OWASP`]: m = 19456 KiB, t = 2, p = 1), a 16-byte salt from the
//! operating system's CSPRNG and a 32-byte tag, and stores the result as a PHC string:
//!
//! ```text
//! $argon2id$v=19$m=19456,t=2,p=1$<salt, B64>$<tag, B64>
//! $argon2id$v=19$m=19456,t=2,p=1,pid=<pepper id>$<salt, B64>$<tag, B64>      (peppered)
//! ```
//!
//! B64 is standard base64 without padding, as in the PHC string format and the reference
//! implementation. [`Passwords::verify`] also accepts argon2i and argon2d hashes, versions 19
//! (0x13) and 16 (0x10, also when the `v=` field is absent), salts of 8 to 48 bytes, tags of 10
//! to 64 bytes (the `phc` crate's bounds) and an optional `data=` (associated data) parameter, so the hashes of the
//! reference C library, argon2-cffi, libsodium or PHP verify unchanged; [`Passwords::needs_rehash`]
//! then says to store a new argon2id hash on the next successful login.
//!
//! # The pepper
//!
//! With a [`Pepper`] (a server-side key kept out of the database; the same type as the peppers
//! of one-time codes), the argon2 input is not the password but
//! `HMAC-SHA256(pepper key, "palisade-otp/password/v1" ‖ password)` (32 bytes; the label keeps
//! it apart from the codes' keyed hashes under the same key), and the stored string carries
//! the pepper's id as one more PHC parameter after `m`, `t` and `p`: `,pid=<id>`, the id being
//! 1 to 32 characters of `[A-Za-z0-9-]`. The string stays a well-formed PHC string; another
//! implementation refuses it (an unknown parameter) rather than verifying it wrongly. Peppers
//! rotate: the hash is verified with the pepper its `pid` names (the current one or a retired
//! one still configured), and `needs_rehash` answers `true` for any hash whose `pid` is not the
//! current pepper's (or that has one when no pepper is current, or none when one is). A hash
//! naming a pepper that is not configured is [`PasswordError::UnknownPepper`].
//!
//! # Bounds
//!
//! Passwords are at most [`MAX_PASSWORD_BYTES`] (1024) bytes ([`PasswordError::TooLong`]);
//! the argon2 cost of a stored hash is bounded by the policy's verification limits (by default
//! m ≤ 262144 KiB, t ≤ 16, p ≤ 16: libsodium's MODERATE level fits), so a forged or corrupted
//! PHC string cannot make one verification allocate gigabytes
//! ([`PasswordError::ParameterOutOfRange`]). No input panics.
//!
//! # Unknown users
//!
//! [`Passwords::verify_unknown_user`] runs the same argon2 computation as a real verification
//! (current parameters and pepper, a random salt and tag made at construction) and answers
//! `false`, so a login for an account that does not exist takes as long as a wrong password.

use std::fmt;

use argon2::password_hash::phc::{Ident, Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, AssociatedData, Params, PasswordHash, Version};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::pepper::Pepper;

/// The longest password accepted, in bytes (UTF-8): longer ones are
/// [`PasswordError::TooLong`], so that a megabyte "password" cannot tie up the server.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The longest PHC string parsed, in bytes: longer is [`PasswordError::Malformed`].
pub const MAX_PHC_BYTES: usize = 512;

/// The salt length of new hashes, in bytes (RFC 9106 §3.1 recommends 16).
const SALT_BYTES: usize = 16;

/// The tag length of new hashes, in bytes.
const TAG_BYTES: usize = 32;

/// Pepper ids are at most this many characters.
const MAX_PEPPER_ID_CHARS: usize = 32;

/// The PHC parameter naming the pepper.
const PEPPER_PARAM: &str = "pid";

/// Why a password could not be hashed or a PHC string could not be verified.
///
/// No variant carries the password or a pepper key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The password is longer than [`MAX_PASSWORD_BYTES`].
    #[error("the password is {len} bytes, more than the maximum of {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The maximum, [`MAX_PASSWORD_BYTES`].
        max: usize,
    },
    /// The stored string is not a well-formed argon2 PHC string.
    #[error("malformed PHC string: {reason}")]
    Malformed {
        /// What was wrong.
        reason: String,
    },
    /// The PHC string names another algorithm than argon2id, argon2i or argon2d.
    #[error("unsupported password hash algorithm `{algorithm}` (argon2id, argon2i, argon2d are)")]
    UnsupportedAlgorithm {
        /// The algorithm identifier of the string.
        algorithm: String,
    },
    /// The PHC string names an argon2 version other than 16 (0x10) or 19 (0x13).
    #[error("unsupported argon2 version {version} (16 and 19 are supported)")]
    UnsupportedVersion {
        /// The `v=` value.
        version: u32,
    },
    /// An argon2 parameter (of a PHC string or a policy) is outside the accepted range.
    #[error("argon2 parameter {name}={value} is outside the accepted range {min}..={max}")]
    ParameterOutOfRange {
        /// `m` (KiB), `t`, `p`, `salt` (bytes) or `tag` (bytes).
        name: &'static str,
        /// The value given.
        value: u64,
        /// The smallest accepted.
        min: u64,
        /// The largest accepted.
        max: u64,
    },
    /// The hash was peppered with a pepper id that is not configured.
    #[error("the hash names pepper `{id}`, which is not configured")]
    UnknownPepper {
        /// The `pid` of the PHC string.
        id: String,
    },
    /// A pepper given to [`Pepper::new`] or [`Passwords`] is not usable.
    #[error("invalid pepper: {reason}")]
    InvalidPepper {
        /// What was wrong (never the key).
        reason: &'static str,
    },
    /// The operating system's random generator failed (salt generation).
    #[error("the operating system's random generator failed")]
    Random,
    /// The argon2 computation failed (for example, memory could not be allocated).
    #[error("argon2 failed: {reason}")]
    Hashing {
        /// The `argon2` crate's message.
        reason: String,
    },
}

fn malformed(reason: impl fmt::Display) -> PasswordError {
    PasswordError::Malformed {
        reason: reason.to_string(),
    }
}

/// The argon2id cost of new hashes and the largest cost a stored hash may ask of a
/// verification.
///
/// `memory_kib` is in KiB (1024 bytes), `iterations` is argon2's `t`, `parallelism` its `p`
/// (lanes; computed on one thread). [`PasswordPolicy::OWASP`] is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    max_memory_kib: u32,
    max_iterations: u32,
    max_parallelism: u32,
}

impl PasswordPolicy {
    /// OWASP's argon2id recommendation: m = 19456 KiB (19 MiB), t = 2, p = 1; verification
    /// limits m ≤ 262144 KiB (256 MiB), t ≤ 16, p ≤ 16.
    pub const OWASP: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
        max_memory_kib: 262_144,
        max_iterations: 16,
        max_parallelism: 16,
    };

    /// A policy hashing with `memory_kib` KiB, `iterations` passes and `parallelism` lanes,
    /// with the default verification limits raised to these values if they are higher.
    ///
    /// # Errors
    ///
    /// [`PasswordError::ParameterOutOfRange`] when argon2 refuses the parameters: t ≥ 1,
    /// 1 ≤ p ≤ 2²⁴ − 1, m ≥ 8·p.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, PasswordError> {
        check_cost(
            memory_kib,
            iterations,
            parallelism,
            u32::MAX,
            u32::MAX,
            Params::MAX_P_COST,
        )?;
        Ok(Self {
            memory_kib,
            iterations,
            parallelism,
            max_memory_kib: memory_kib.max(Self::OWASP.max_memory_kib),
            max_iterations: iterations.max(Self::OWASP.max_iterations),
            max_parallelism: parallelism.max(Self::OWASP.max_parallelism),
        })
    }

    /// The same policy with other verification limits: a stored hash asking more memory (KiB),
    /// iterations or lanes is refused without being computed.
    ///
    /// # Errors
    ///
    /// [`PasswordError::ParameterOutOfRange`] when a limit is below the hashing cost.
    pub fn with_verify_limits(
        mut self,
        max_memory_kib: u32,
        max_iterations: u32,
        max_parallelism: u32,
    ) -> Result<Self, PasswordError> {
        check_cost(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            max_memory_kib,
            max_iterations,
            max_parallelism,
        )?;
        self.max_memory_kib = max_memory_kib;
        self.max_iterations = max_iterations;
        self.max_parallelism = max_parallelism;
        Ok(self)
    }

    /// Memory of new hashes, KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Iterations (passes) of new hashes.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Lanes of new hashes.
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self::OWASP
    }
}

fn out_of_range(name: &'static str, value: u64, min: u64, max: u64) -> PasswordError {
    PasswordError::ParameterOutOfRange {
        name,
        value,
        min,
        max,
    }
}

/// Checks t, p, then m against argon2's minimums and the given maximums.
fn check_cost(
    m: u32,
    t: u32,
    p: u32,
    max_m: u32,
    max_t: u32,
    max_p: u32,
) -> Result<(), PasswordError> {
    if !(Params::MIN_T_COST..=max_t).contains(&t) {
        return Err(out_of_range(
            "t",
            t.into(),
            Params::MIN_T_COST.into(),
            max_t.into(),
        ));
    }
    let max_p = max_p.min(Params::MAX_P_COST);
    if !(Params::MIN_P_COST..=max_p).contains(&p) {
        return Err(out_of_range(
            "p",
            p.into(),
            Params::MIN_P_COST.into(),
            max_p.into(),
        ));
    }
    let min_m = p.saturating_mul(8).max(Params::MIN_M_COST);
    if !(min_m..=max_m).contains(&m) {
        return Err(out_of_range("m", m.into(), min_m.into(), max_m.into()));
    }
    Ok(())
}

fn valid_pepper_id(id: &str) -> bool {
    (1..=MAX_PEPPER_ID_CHARS).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A parsed and bounds-checked argon2 PHC string.
struct Parsed {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Vec<u8>,
    tag: Vec<u8>,
    pepper_id: Option<String>,
}

/// Hashes and verifies passwords under a [`PasswordPolicy`], with optional [`Pepper`]s.
///
/// ```
/// use palisade_otp::{Passwords, PasswordPolicy};
/// use secrecy::SecretString;
///
/// let passwords = Passwords::new(PasswordPolicy::OWASP);
/// let stored = passwords.hash(&SecretString::from("correct horse battery staple"))?;
/// assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
/// assert!(passwords.verify(&SecretString::from("correct horse battery staple"), &stored)?);
/// assert!(!passwords.verify(&SecretString::from("Tr0ub4dor&3"), &stored)?);
/// assert!(!passwords.needs_rehash(&stored)?);
/// # Ok::<(), palisade_otp::PasswordError>(())
/// ```
pub struct Passwords {
    policy: PasswordPolicy,
    current: Option<Pepper>,
    retired: Vec<Pepper>,
    dummy_salt: [u8; SALT_BYTES],
    dummy_tag: [u8; TAG_BYTES],
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords")
            .field("policy", &self.policy)
            .field("current", &self.current)
            .field("retired", &self.retired)
            .finish_non_exhaustive()
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new(PasswordPolicy::OWASP)
    }
}

impl Passwords {
    /// Hashing under `policy`, without a pepper.
    ///
    /// The dummy hash of [`verify_unknown_user`](Self::verify_unknown_user) gets a random salt
    /// and tag here (from the OS CSPRNG, or zeros if it fails: the dummy only has to cost the
    /// same, never to match).
    pub fn new(policy: PasswordPolicy) -> Self {
        let mut dummy_salt = [0u8; SALT_BYTES];
        let mut dummy_tag = [0u8; TAG_BYTES];
        // A failure leaves zeros: no password's argon2 tag is all-zero in practice.
        let _ = getrandom::fill(&mut dummy_salt);
        let _ = getrandom::fill(&mut dummy_tag);
        Self {
            policy,
            current: None,
            retired: Vec::new(),
            dummy_salt,
            dummy_tag,
        }
    }

    /// Peppers new hashes with `pepper` (and verifies the hashes that name it).
    ///
    /// # Errors
    ///
    /// [`PasswordError::InvalidPepper`] when a configured pepper has the same id, or the id is
    /// not 1 to 32 characters of `[A-Za-z0-9-]` (it is written into the PHC string).
    pub fn with_pepper(mut self, pepper: Pepper) -> Result<Self, PasswordError> {
        self.check_new_id(pepper.id())?;
        if let Some(old) = self.current.take() {
            self.retired.push(old);
        }
        self.current = Some(pepper);
        Ok(self)
    }

    /// Keeps `pepper` to verify the hashes that name it, without using it for new ones
    /// (`needs_rehash` is `true` for those).
    ///
    /// # Errors
    ///
    /// As [`with_pepper`](Self::with_pepper).
    pub fn with_retired_pepper(mut self, pepper: Pepper) -> Result<Self, PasswordError> {
        self.check_new_id(pepper.id())?;
        self.retired.push(pepper);
        Ok(self)
    }

    fn check_new_id(&self, id: &str) -> Result<(), PasswordError> {
        if !valid_pepper_id(id) {
            return Err(PasswordError::InvalidPepper {
                reason: "a password pepper's id must be 1 to 32 characters of [A-Za-z0-9-]",
            });
        }
        if self.pepper(id).is_some() {
            return Err(PasswordError::InvalidPepper {
                reason: "a pepper with this id is already configured",
            });
        }
        Ok(())
    }

    fn pepper(&self, id: &str) -> Option<&Pepper> {
        self.current
            .iter()
            .chain(self.retired.iter())
            .find(|p| p.id() == id)
    }

    /// The policy.
    pub fn policy(&self) -> &PasswordPolicy {
        &self.policy
    }

    /// Hashes `password` with argon2id v19, the policy's cost, a fresh 16-byte salt, a 32-byte
    /// tag and the current pepper: the PHC string to store.
    ///
    /// # Errors
    ///
    /// [`PasswordError::TooLong`], [`PasswordError::Random`], [`PasswordError::Hashing`].
    pub fn hash(&self, password: &SecretString) -> Result<String, PasswordError> {
        let password = checked_len(password)?;
        let mut salt = [0u8; SALT_BYTES];
        getrandom::fill(&mut salt).map_err(|_| PasswordError::Random)?;
        let params = self.hash_params(TAG_BYTES)?;
        let mut tag = Zeroizing::new([0u8; TAG_BYTES]);
        let pepper = self.current.as_ref();
        compute(
            Algorithm::Argon2id,
            Version::V0x13,
            params,
            pepper,
            password,
            &salt,
            &mut tag[..],
        )?;

        let mut phc_params = ParamsString::new();
        for (name, value) in [
            ("m", self.policy.memory_kib),
            ("t", self.policy.iterations),
            ("p", self.policy.parallelism),
        ] {
            phc_params.add_decimal(name, value).map_err(malformed)?;
        }
        if let Some(pepper) = pepper {
            phc_params
                .add_str(PEPPER_PARAM, pepper.id())
                .map_err(malformed)?;
        }
        let phc = PasswordHash {
            algorithm: Ident::new("argon2id").map_err(malformed)?,
            version: Some(Version::V0x13.into()),
            params: phc_params,
            salt: Some(Salt::new(&salt).map_err(malformed)?),
            hash: Some(Output::new(&tag[..]).map_err(malformed)?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the stored PHC string `phc` (argon2id, argon2i or argon2d;
    /// peppered with the pepper its `pid` names). The tags are compared in constant time.
    ///
    /// # Errors
    ///
    /// [`PasswordError::TooLong`] for the password; for the string: [`PasswordError::Malformed`],
    /// [`PasswordError::UnsupportedAlgorithm`], [`PasswordError::UnsupportedVersion`],
    /// [`PasswordError::ParameterOutOfRange`] (above the verification limits),
    /// [`PasswordError::UnknownPepper`]; [`PasswordError::Hashing`].
    pub fn verify(&self, password: &SecretString, phc: &str) -> Result<bool, PasswordError> {
        let password = checked_len(password)?;
        let parsed = self.parse(phc)?;
        let pepper = match &parsed.pepper_id {
            None => None,
            Some(id) => Some(
                self.pepper(id)
                    .ok_or_else(|| PasswordError::UnknownPepper { id: id.clone() })?,
            ),
        };
        let mut tag = Zeroizing::new(vec![0u8; parsed.tag.len()]);
        compute(
            parsed.algorithm,
            parsed.version,
            parsed.params,
            pepper,
            password,
            &parsed.salt,
            &mut tag,
        )?;
        Ok(bool::from(tag.ct_eq(&parsed.tag)))
    }

    /// Spends the time of a [`verify`](Self::verify) of a hash made under the current policy
    /// and pepper, and answers `false`: call it when the user does not exist, so that the
    /// response time does not tell which accounts exist.
    ///
    /// # Errors
    ///
    /// [`PasswordError::TooLong`], as `verify` would; [`PasswordError::Hashing`].
    pub fn verify_unknown_user(&self, password: &SecretString) -> Result<bool, PasswordError> {
        let password = checked_len(password)?;
        let params = self.hash_params(TAG_BYTES)?;
        let mut tag = Zeroizing::new([0u8; TAG_BYTES]);
        compute(
            Algorithm::Argon2id,
            Version::V0x13,
            params,
            self.current.as_ref(),
            password,
            &self.dummy_salt,
            &mut tag[..],
        )?;
        // Compared like a real tag; the dummy tag is random, so this is false.
        let _ = bool::from(tag.ct_eq(&self.dummy_tag));
        Ok(false)
    }

    /// Whether the stored hash should be replaced by a new [`hash`](Self::hash) (after a
    /// successful verification, while the password is at hand): `true` when it is not
    /// argon2id v19, when m, t or p is below the policy, when its salt is under 16 bytes or
    /// its tag under 32, or when its pepper id is not the current pepper's.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify) for the string (except [`PasswordError::UnknownPepper`]:
    /// an unknown pepper id needs a rehash).
    pub fn needs_rehash(&self, phc: &str) -> Result<bool, PasswordError> {
        let parsed = self.parse(phc)?;
        let policy = &self.policy;
        let current_id = self.current.as_ref().map(Pepper::id);
        Ok(parsed.algorithm != Algorithm::Argon2id
            || parsed.version != Version::V0x13
            || parsed.params.m_cost() < policy.memory_kib
            || parsed.params.t_cost() < policy.iterations
            || parsed.params.p_cost() < policy.parallelism
            || parsed.salt.len() < SALT_BYTES
            || parsed.tag.len() < TAG_BYTES
            || parsed.pepper_id.as_deref() != current_id)
    }

    fn hash_params(&self, tag_len: usize) -> Result<Params, PasswordError> {
        let p = &self.policy;
        Params::new(p.memory_kib, p.iterations, p.parallelism, Some(tag_len)).map_err(hashing)
    }

    /// Parses `phc` strictly and checks its cost against the verification limits.
    fn parse(&self, phc: &str) -> Result<Parsed, PasswordError> {
        if phc.len() > MAX_PHC_BYTES {
            return Err(malformed(format_args!("longer than {MAX_PHC_BYTES} bytes")));
        }
        let hash = PasswordHash::new(phc).map_err(malformed)?;
        let algorithm = match hash.algorithm.as_str() {
            "argon2id" => Algorithm::Argon2id,
            "argon2i" => Algorithm::Argon2i,
            "argon2d" => Algorithm::Argon2d,
            other => {
                return Err(PasswordError::UnsupportedAlgorithm {
                    algorithm: other.to_owned(),
                });
            }
        };
        let version = match hash.version {
            None | Some(0x10) => Version::V0x10,
            Some(0x13) => Version::V0x13,
            Some(version) => return Err(PasswordError::UnsupportedVersion { version }),
        };
        let (mut m, mut t, mut p) = (None, None, None);
        let mut data = None;
        let mut pepper_id = None;
        for (name, value) in hash.params.iter() {
            let slot_taken = match name.as_str() {
                "m" => m.replace(value.decimal().map_err(malformed)?).is_some(),
                "t" => t.replace(value.decimal().map_err(malformed)?).is_some(),
                "p" => p.replace(value.decimal().map_err(malformed)?).is_some(),
                "data" => {
                    let data_value = AssociatedData::from_b64(value.as_str()).map_err(malformed)?;
                    data.replace(data_value).is_some()
                }
                PEPPER_PARAM => {
                    let id = value.as_str();
                    if !valid_pepper_id(id) {
                        return Err(malformed(
                            "the pepper id is not 1 to 32 characters of [A-Za-z0-9-]",
                        ));
                    }
                    pepper_id.replace(id.to_owned()).is_some()
                }
                "keyid" => return Err(malformed("argon2 secret keys (keyid) are not supported")),
                other => return Err(malformed(format_args!("unknown parameter `{other}`"))),
            };
            if slot_taken {
                return Err(malformed(format_args!(
                    "parameter `{}` appears twice",
                    name.as_str()
                )));
            }
        }
        let (Some(m), Some(t), Some(p)) = (m, t, p) else {
            return Err(malformed("the m, t and p parameters are required"));
        };
        let policy = &self.policy;
        check_cost(
            m,
            t,
            p,
            policy.max_memory_kib,
            policy.max_iterations,
            policy.max_parallelism,
        )?;
        let salt = hash.salt.ok_or_else(|| malformed("the salt is missing"))?;
        let tag = hash.hash.ok_or_else(|| malformed("the hash is missing"))?;
        let tag = tag.as_bytes().to_vec();
        if !(Params::MIN_OUTPUT_LEN..=64).contains(&tag.len()) {
            return Err(out_of_range(
                "tag",
                tag.len() as u64,
                Params::MIN_OUTPUT_LEN as u64,
                64,
            ));
        }
        let mut builder = argon2::ParamsBuilder::new();
        builder.m_cost(m).t_cost(t).p_cost(p).output_len(tag.len());
        if let Some(data) = data {
            builder.data(data);
        }
        let params = builder.build().map_err(hashing)?;
        Ok(Parsed {
            algorithm,
            version,
            params,
            salt: salt.as_ref().to_vec(),
            tag,
            pepper_id,
        })
    }
}

fn hashing(e: argon2::Error) -> PasswordError {
    PasswordError::Hashing {
        reason: e.to_string(),
    }
}

fn checked_len(password: &SecretString) -> Result<&[u8], PasswordError> {
    let bytes = password.expose_secret().as_bytes();
    if bytes.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong {
            len: bytes.len(),
            max: MAX_PASSWORD_BYTES,
        });
    }
    Ok(bytes)
}

/// argon2(`algorithm`, `version`, `params`) of the password (or of its HMAC under `pepper`)
/// and `salt`, into `out`.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    pepper: Option<&Pepper>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), PasswordError> {
    let argon2 = Argon2::new(algorithm, version, params);
    match pepper {
        Some(pepper) => {
            let input = pepper.password_mac(password);
            argon2.hash_password_into(&input[..], salt, out)
        }
        None => argon2.hash_password_into(password, salt, out),
    }
    .map_err(hashing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Passwords {
        Passwords::new(PasswordPolicy::new(64, 1, 1).unwrap())
    }

    #[test]
    fn cost_checks_bound_memory_by_lanes() {
        assert!(check_cost(64, 1, 1, 64, 1, 1).is_ok());
        assert!(matches!(
            check_cost(15, 1, 2, 1024, 4, 4),
            Err(PasswordError::ParameterOutOfRange {
                name: "m",
                min: 16,
                ..
            })
        ));
        assert!(matches!(
            check_cost(65, 1, 1, 64, 4, 4),
            Err(PasswordError::ParameterOutOfRange {
                name: "m",
                max: 64,
                ..
            })
        ));
        assert!(matches!(
            check_cost(64, 0, 1, 64, 4, 4),
            Err(PasswordError::ParameterOutOfRange { name: "t", .. })
        ));
        assert!(matches!(
            check_cost(64, 1, 0, 64, 4, 4),
            Err(PasswordError::ParameterOutOfRange { name: "p", .. })
        ));
    }

    #[test]
    fn debug_never_shows_a_pepper_key() {
        let key = b"k3y-0f-th3-p3pp3r-th4t-must-n0t-l3ak".to_vec();
        let pepper = Pepper::new("p1", secrecy::SecretBox::from(key)).unwrap();
        let passwords = small().with_pepper(pepper).unwrap();
        let debug = format!("{passwords:?}");
        assert!(!debug.contains("k3y"), "{debug}");
        assert!(debug.contains("p1"), "{debug}");
    }
}
