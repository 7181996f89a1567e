//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
//!
//! Source: <https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries>.
//! The key is the webhook secret's UTF-8 bytes. GitHub signs no timestamp, so the replay key
//! is a hash of the body; keep replay entries for as long as GitHub may redeliver.

use crate::encoding::Encoding;
use crate::headers::KnownHeader;
use crate::hmac_scheme::{HmacScheme, Part};
use crate::key::Key;
use crate::lazy::LazyVerified;
use crate::time::Tolerance;
use crate::verifier::{Message, Request, Scheme, SignedHeaders};
use crate::{Provider, WebhookError, headers};
use palisade_core::HmacAlgorithm;

const BODY: &[Part] = &[Part::Body];
/// `X-Hub-Signature-256`, shared with Meta.
pub(crate) static HUB_SIGNATURE_256: KnownHeader =
    KnownHeader::new("X-Hub-Signature-256", "x-hub-signature-256");
static HUB_SIGNATURE: KnownHeader = KnownHeader::new("X-Hub-Signature", "x-hub-signature");

static SHA256: HmacScheme = HmacScheme::fixed(
    Provider::GitHub,
    &HUB_SIGNATURE_256,
    "sha256=",
    Encoding::Hex,
    HmacAlgorithm::Sha256,
    BODY,
    None,
);
static SHA1: HmacScheme = HmacScheme::fixed(
    Provider::GitHub,
    &HUB_SIGNATURE,
    "sha1=",
    Encoding::Hex,
    HmacAlgorithm::Sha1,
    BODY,
    None,
);

/// GitHub's webhook signature scheme.
///
/// By default only `X-Hub-Signature-256` is accepted. [`GitHub::with_legacy_sha1`] also
/// accepts the legacy `X-Hub-Signature: sha1=<hex>` header, and only when the SHA-256 header
/// is absent; GitHub sends both, so enable it only for senders that still send SHA-1 alone
/// (old GitHub Enterprise Server versions).
///
/// ```
/// use palisade_webhook::{GitHub, Request, Verifier};
/// use secrecy::SecretString;
///
/// // GitHub's documented example.
/// let v = Verifier::new(GitHub::new(), [SecretString::from("It's a Secret to Everybody")])?;
/// let headers = [(
///     "X-Hub-Signature-256",
///     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
/// )];
/// v.verify(&Request::new(&headers, b"Hello, World!"))?;
/// # Ok::<(), palisade_webhook::WebhookError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GitHub {
    legacy_sha1: bool,
}

impl GitHub {
    /// SHA-256 signatures only.
    pub const fn new() -> Self {
        Self { legacy_sha1: false }
    }

    /// Also accepts `X-Hub-Signature: sha1=…` when `X-Hub-Signature-256` is absent.
    pub const fn with_legacy_sha1() -> Self {
        Self { legacy_sha1: true }
    }

    fn pick(&self, request: &Request<'_>) -> &'static HmacScheme {
        if self.legacy_sha1
            && matches!(
                headers::optional(request.headers, &HUB_SIGNATURE_256),
                Ok(None)
            )
        {
            &SHA1
        } else {
            &SHA256
        }
    }
}

impl Scheme for GitHub {
    fn provider(&self) -> Provider {
        Provider::GitHub
    }

    fn verify_lazy<'a>(
        &'a self,
        keys: &[Key],
        request: &Request<'a>,
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<LazyVerified<'a>, WebhookError> {
        self.pick(request)
            .verify_lazy(keys, request, now, tolerance)
    }

    fn sign(
        &self,
        key: &Key,
        message: &Message<'_>,
        now: i64,
    ) -> Result<SignedHeaders, WebhookError> {
        let mut out = SHA256.sign(key, message, now)?;
        if self.legacy_sha1 {
            out.0.extend(SHA1.sign(key, message, now)?.0);
        }
        Ok(out)
    }
}
