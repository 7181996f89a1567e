//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>`, keyed with the app's
//! client secret.
//!
//! Source: <https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook>.

use crate::Provider;
use crate::encoding::Encoding;
use crate::headers::KnownHeader;
use crate::hmac_scheme::{HmacScheme, Part, fixed_hmac_scheme};
use palisade_core::HmacAlgorithm;

static HMAC_SHA256: KnownHeader =
    KnownHeader::new("X-Shopify-Hmac-Sha256", "x-shopify-hmac-sha256");

fixed_hmac_scheme! {
    /// Shopify's webhook signature scheme.
    ///
    /// No timestamp is signed: the replay key is a hash of the body. Shopify's
    /// `X-Shopify-Webhook-Id` is not signed, so it is not used for replay detection.
    Shopify = HmacScheme::fixed(
        Provider::Shopify,
        &HMAC_SHA256,
        "",
        Encoding::Base64,
        HmacAlgorithm::Sha256,
        &[Part::Body],
        None,
    )
}
