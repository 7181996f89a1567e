//! Meta Graph API webhooks, WhatsApp Cloud API included:
//! `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, keyed with the app secret.
//!
//! Source: <https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads>.
//! Meta signs the exact bytes it sends, in which non-ASCII characters are escaped as
//! `\uXXXX`: verify the raw body, never a re-serialized one.

use crate::Provider;
use crate::encoding::Encoding;
use crate::hmac_scheme::{HmacScheme, Part, fixed_hmac_scheme};
use palisade_core::HmacAlgorithm;

fixed_hmac_scheme! {
    /// Meta's (Facebook, Instagram, WhatsApp Cloud API) webhook signature scheme.
    ///
    /// The secret is the app secret. No timestamp is signed: the replay key is a hash of the
    /// body.
    Meta = HmacScheme::fixed(
        Provider::Meta,
        &crate::github::HUB_SIGNATURE_256,
        "sha256=",
        Encoding::Hex,
        HmacAlgorithm::Sha256,
        &[Part::Body],
        None,
    )
}
