//! Input that cannot hurt: outbound URLs that cannot reach inside (SSRF), credentials in URLs,
//! phone numbers in E.164, path joins that stay in their base, text without control characters
//! or bidi overrides, JSON within limits and without MongoDB operators.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod credential;
#[cfg(feature = "html")]
pub mod html;
pub mod ip;
pub mod json;
pub mod path;
pub mod phone;
#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "dns")]
pub mod resolve;
pub mod text;
pub mod url;

pub use crate::credential::{DEFAULT_CREDENTIAL_PARAMS, find_credential_param};
pub use crate::ip::{Embedding, IpBlock, check_ip};
#[cfg(feature = "dns")]
pub use crate::resolve::resolve_and_check;
pub use crate::url::{BlockReason, CheckedUrl, HostPattern, IpLiterals, UrlError, UrlPolicy};
