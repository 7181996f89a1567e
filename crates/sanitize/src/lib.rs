//! Input that cannot hurt: outbound URLs that cannot reach inside (SSRF), credentials in URLs.
//!
//! ```
//! use palisade_sanitize::url::{BlockReason, UrlError, UrlPolicy};
//!
//! let policy = UrlPolicy::new();
//! // A public host on the default port passes; send the canonical URL it returns.
//! let ok = policy.check("https://cdn.example.com/audio/1.mp3")?;
//! assert_eq!(ok.port(), 443);
//!
//! // 127.0.0.1 in decimal, octal, hex, short form and IPv4-mapped IPv6: all refused.
//! for sneaky in [
//!     "http://2130706433/",
//!     "http://0177.0.0.1/",
//!     "http://0x7f.1/",
//!     "http://127.1/",
//!     "http://[::ffff:127.0.0.1]/",
//!     "http://169.254.169.254/latest/meta-data/",
//!     "http://localhost./",
//!     "http://metadata.google.internal/",
//! ] {
//!     assert!(matches!(policy.check(sneaky), Err(UrlError::Blocked { .. })), "{sneaky}");
//! }
//!
//! // An allowlist, as the seed's ALLOWED_AUDIO_DOMAINS.
//! let audio = UrlPolicy::new().schemes(["https"]).allow_host("*.twilio.com")?;
//! assert!(audio.check("https://api.twilio.com/x.wav").is_ok());
//! let refused = audio.check("https://twilio.com.evil.example/x.wav").unwrap_err();
//! assert!(matches!(refused, UrlError::Blocked { reason: BlockReason::HostNotAllowed { .. } }));
//! # Ok::<(), UrlError>(())
//! ```
//!
//! # Pieces
//!
//! - [`url::UrlPolicy`]: schemes, ports, host allowlist (exact and `*.` suffix), IP-literal
//!   rule, refused internal names, user info, length; [`url::UrlPolicy::check`] returns a
//!   [`url::CheckedUrl`] or a [`url::UrlError`] whose [`url::BlockReason`] says why. Parsing
//!   is the `url` crate's (WHATWG), never our own.
//! - [`ip`]: every range of the IANA IPv4 and IPv6 special-purpose registries, with IPv4
//!   embedded in IPv6 (mapped, compatible, 6to4, Teredo, NAT64) re-checked as IPv4.
//! - `resolve` (feature `dns`): `resolve_and_check` resolves a name and refuses the URL if
//!   any address of the answer is refused; connect to exactly the addresses it returns.
//! - `reqwest` (feature `reqwest`): a `reqwest::dns::Resolve` checking every answer at
//!   connect time, a redirect policy re-checking every hop, proxies from the environment
//!   ignored.
//! - [`credential`]: credential parameters in a query string (`?token=`, `?api_key=`).
//!
//! What is blocked, why, and what is left to the caller: `docs/threat-model/sanitize.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod credential;
pub mod ip;
#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "dns")]
pub mod resolve;
pub mod url;
// phone.rs, path.rs, text.rs, json.rs: merged from the sanitize-input branch

pub use crate::credential::{DEFAULT_CREDENTIAL_PARAMS, find_credential_param};
pub use crate::ip::{Embedding, IpBlock, check_ip};
#[cfg(feature = "dns")]
pub use crate::resolve::resolve_and_check;
pub use crate::url::{BlockReason, CheckedUrl, HostPattern, IpLiterals, UrlError, UrlPolicy};
