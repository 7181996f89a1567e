//! Slack: `X-Slack-Signature: v0=<hex>`, the HMAC-SHA256 of `v0:<timestamp>:<body>` keyed
//! with the signing secret, the timestamp in `X-Slack-Request-Timestamp` (Unix seconds).
//!
//! Source: <https://api.slack.com/authentication/verifying-requests-from-slack>.

use std::borrow::Cow;

use crate::Provider;
use crate::encoding::Encoding;
use crate::headers::KnownHeader;
use crate::hmac_scheme::{HmacScheme, Part, fixed_hmac_scheme};
use palisade_core::HmacAlgorithm;

static SIGNATURE: KnownHeader = KnownHeader::new("X-Slack-Signature", "x-slack-signature");
static TIMESTAMP: KnownHeader =
    KnownHeader::new("X-Slack-Request-Timestamp", "x-slack-request-timestamp");

fixed_hmac_scheme! {
    /// Slack's request signature scheme (version `v0`).
    ///
    /// The timestamp is checked against the verifier's tolerance (Slack recommends five
    /// minutes, the default). The replay key is a hash of the signed content
    /// (`v0:timestamp:body`); see [`ReplayKey`](crate::ReplayKey).
    Slack = HmacScheme::fixed(
        Provider::Slack,
        &SIGNATURE,
        "v0=",
        Encoding::Hex,
        HmacAlgorithm::Sha256,
        &[
            Part::Literal(Cow::Borrowed("v0:")),
            Part::Timestamp,
            Part::Literal(Cow::Borrowed(":")),
            Part::Body,
        ],
        Some(&TIMESTAMP),
    )
}
