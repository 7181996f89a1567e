//! Meta's webhook verification handshake (WhatsApp Cloud API, Messenger, Instagram).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use palisade_webhook::SecretString;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tower::Layer;
use tracing::Level;

use crate::guard::{Guard, GuardService, Sealed};
use crate::response::plain;
use crate::telemetry::{self, emit};

/// The longest `hub.challenge` echoed, in bytes. Meta sends a decimal integer; anything
/// longer, or with bytes other than ASCII letters, digits, `-` and `_`, is refused (the echo
/// is the one place a request's text is sent back verbatim).
pub const MAX_CHALLENGE_LEN: usize = 128;

/// Why a [`MetaHandshakeLayer`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaHandshakeError {
    /// The verify token is empty: any request without a token would match it.
    #[error("the Meta verify token is empty")]
    EmptyVerifyToken,
}

/// A [`Layer`] answering Meta's verification handshake on a webhook route, and passing every
/// other request to the inner service (the route's [`WebhookLayer`](crate::WebhookLayer)).
///
/// When a webhook is configured in Meta's App Dashboard (WhatsApp Cloud API, Messenger,
/// Instagram), Meta sends `GET <callback>?hub.mode=subscribe&hub.verify_token=<token>&hub.challenge=<n>`
/// and expects the body `<n>` with 200 when `<token>` is the verify token typed into the
/// dashboard ("Getting Started", Meta for Developers, Graph API Webhooks). This layer:
///
/// - answers a `GET` (or `HEAD`) with `hub.mode=subscribe`, a `hub.verify_token` equal to the
///   configured token (compared in constant time, on SHA-256 digests so the token's length
///   does not show either) and a `hub.challenge` of at most [`MAX_CHALLENGE_LEN`] ASCII
///   letters, digits, `-` or `_` with **200** and the challenge as `text/plain`;
/// - answers any other `GET` or `HEAD` with **403** `verification refused`, emitting
///   `webhook.handshake_refused` (warn, field `reason`: `mode`, `token`, `challenge`;
///   never the token) and counting
///   [`palisade_webhook_handshakes_total{outcome}`](telemetry::METRIC_WEBHOOK_HANDSHAKES)
///   (`answered` or `refused`);
/// - passes every other method to the inner service (the signed `POST` deliveries).
///
/// The verify token is not the app secret that signs deliveries: it only proves, once, that
/// the dashboard's owner controls the endpoint.
///
/// ```
/// use palisade_tower::{MetaHandshakeLayer, WebhookLayer};
/// use palisade_webhook::{Meta, SecretString, Verifier};
///
/// let verifier = Verifier::new(Meta, [SecretString::from("meta-app-secret-0123456789")])?;
/// let handshake = MetaHandshakeLayer::new(SecretString::from("my-verify-token"))?;
/// // Outermost: the handshake's GET never reaches the signature check.
/// let layers = tower::ServiceBuilder::new().layer(handshake).layer(WebhookLayer::new(verifier));
/// # let _ = layers;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct MetaHandshakeLayer {
    /// SHA-256 of the verify token.
    token_digest: Arc<[u8; 32]>,
}

impl fmt::Debug for MetaHandshakeLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaHandshakeLayer")
            .field("verify_token", &"[REDACTED]")
            .finish()
    }
}

impl MetaHandshakeLayer {
    /// A layer expecting `verify_token` (the dashboard's "Verify token").
    ///
    /// # Errors
    /// [`MetaHandshakeError::EmptyVerifyToken`] for an empty token.
    pub fn new(verify_token: SecretString) -> Result<Self, MetaHandshakeError> {
        let token = verify_token.expose_secret();
        if token.is_empty() {
            return Err(MetaHandshakeError::EmptyVerifyToken);
        }
        Ok(Self {
            token_digest: Arc::new(Sha256::digest(token.as_bytes()).into()),
        })
    }

    /// The answer to a `GET`/`HEAD` with query string `query` (absent: empty).
    fn handshake<R: From<Bytes>>(&self, query: &str) -> Response<R> {
        match self.check(query) {
            Ok(challenge) => {
                metrics::counter!(telemetry::METRIC_WEBHOOK_HANDSHAKES, "outcome" => "answered")
                    .increment(1);
                plain(StatusCode::OK, challenge)
            }
            Err(reason) => {
                emit!(
                    Level::WARN,
                    telemetry::WEBHOOK_HANDSHAKE_REFUSED,
                    provider = "meta",
                    reason,
                    status = 403u16,
                );
                metrics::counter!(telemetry::METRIC_WEBHOOK_HANDSHAKES, "outcome" => "refused")
                    .increment(1);
                plain(StatusCode::FORBIDDEN, "verification refused")
            }
        }
    }

    /// The challenge to echo, or the reason of the refusal.
    fn check(&self, query: &str) -> Result<String, &'static str> {
        let (mut mode, mut token, mut challenge) = (None, None, None);
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "hub.mode" => &mut mode,
                "hub.verify_token" => &mut token,
                "hub.challenge" => &mut challenge,
                _ => continue,
            };
            // A repeated parameter is ambiguous: refused rather than guessed.
            if slot.replace(value).is_some() {
                return Err("duplicate");
            }
        }
        if mode.as_deref() != Some("subscribe") {
            return Err("mode");
        }
        let given = Sha256::digest(token.as_deref().unwrap_or("").as_bytes());
        if !bool::from(given.as_slice().ct_eq(self.token_digest.as_slice())) {
            return Err("token");
        }
        let challenge = challenge.ok_or("challenge")?;
        if challenge.is_empty()
            || challenge.len() > MAX_CHALLENGE_LEN
            || !challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("challenge");
        }
        Ok(challenge.into_owned())
    }
}

impl Sealed for MetaHandshakeLayer {}

impl Guard for MetaHandshakeLayer {
    fn answer<B, R: From<Bytes>>(&self, req: &Request<B>) -> Option<Response<R>> {
        matches!(*req.method(), Method::GET | Method::HEAD)
            .then(|| self.handshake(req.uri().query().unwrap_or("")))
    }
}

impl<I> Layer<I> for MetaHandshakeLayer {
    type Service = MetaHandshakeService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        GuardService::new(inner, self.clone())
    }
}

/// The [`Service`](tower::Service) of a [`MetaHandshakeLayer`]: see there.
pub type MetaHandshakeService<I> = GuardService<I, MetaHandshakeLayer>;

#[cfg(test)]
mod tests {
    use palisade_webhook::SecretString;
    use proptest::prelude::*;

    use super::{MAX_CHALLENGE_LEN, MetaHandshakeError, MetaHandshakeLayer};

    fn layer() -> MetaHandshakeLayer {
        MetaHandshakeLayer::new(SecretString::from("verify-me")).unwrap()
    }

    #[test]
    fn empty_tokens_are_refused() {
        assert_eq!(
            MetaHandshakeLayer::new(SecretString::from("")).err(),
            Some(MetaHandshakeError::EmptyVerifyToken)
        );
    }

    #[test]
    fn percent_encoded_parameters_are_decoded() {
        assert_eq!(
            layer().check("hub.mode=subscribe&hub.verify_token=verify%2Dme&hub.challenge=42"),
            Ok("42".to_owned())
        );
        assert_eq!(
            layer().check(
                "hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1&hub.challenge=2"
            ),
            Err("duplicate")
        );
    }

    proptest! {
        /// Any query: no panic; an echoed challenge is always short, plain ASCII; the wrong
        /// token is never answered.
        #[test]
        fn answers_only_the_token_with_a_plain_challenge(query in "\\PC{0,200}") {
            if let Ok(challenge) = layer().check(&query) {
                prop_assert!(!challenge.is_empty() && challenge.len() <= MAX_CHALLENGE_LEN);
                prop_assert!(challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            }
            let wrong = format!("hub.mode=subscribe&hub.verify_token=x{query}&hub.challenge=1");
            prop_assert!(layer().check(&wrong).is_err());
        }
    }
}
