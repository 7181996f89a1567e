//! Verify and sign webhook requests from the raw bytes, for every common sender.
//!
//! ```
//! use palisade_webhook::{Request, StandardWebhooks, Stripe, Verifier, WebhookError};
//! use secrecy::SecretString;
//!
//! // Standard Webhooks (Svix): a vector from the reference libraries' tests.
//! let standard = Verifier::new(
//!     StandardWebhooks,
//!     [SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
//! )?;
//! let headers = [
//!     ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
//!     ("webhook-timestamp", "1614265330"),
//!     ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
//! ];
//! let body = br#"{"test": 2432232314}"#;
//! let verified = standard.verify_at(&Request::new(&headers, body), 1_614_265_400)?;
//! println!("replay key {}", verified.replay_key);
//!
//! // The same request 10 minutes later is refused. The error's fields say by how much, for
//! // the logs; its `Display`, which may reach the client, does not.
//! let late = standard.verify_at(&Request::new(&headers, body), 1_614_265_930);
//! assert_eq!(
//!     late,
//!     Err(WebhookError::TimestampOutsideTolerance { skew_secs: 600, tolerance_secs: 300 })
//! );
//! assert_eq!(late.unwrap_err().to_string(), "timestamp outside tolerance: too old");
//!
//! // Stripe, during a secret roll: either secret is accepted.
//! let stripe = Verifier::new(
//!     Stripe,
//!     [SecretString::from("whsec_new_0123456789abcdef"), SecretString::from("whsec_old_0123456789abcdef")],
//! )?;
//! let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
//! let headers = stripe.sign(&palisade_webhook::Message::new(body))?; // as Stripe would send
//! assert_eq!(stripe.verify(&Request::new(&headers, body))?.secret_index, 0);
//! # Ok::<(), WebhookError>(())
//! ```
//!
//! # What it checks
//!
//! | provider | scheme type | headers | signed content |
//! |---|---|---|---|
//! | Standard Webhooks / Svix | [`StandardWebhooks`] | `webhook-id`, `webhook-timestamp`, `webhook-signature` (or `svix-*`) | `id.timestamp.body`, HMAC-SHA256 base64 (`v1`), Ed25519 (`v1a`, feature `ed25519`) |
//! | Stripe | [`Stripe`] | `Stripe-Signature: t=…,v1=…` | `t.body`, HMAC-SHA256 hex |
//! | GitHub | [`GitHub`] | `X-Hub-Signature-256: sha256=…` | body, HMAC-SHA256 hex |
//! | Meta / WhatsApp | [`Meta`] | `X-Hub-Signature-256: sha256=…` | body, HMAC-SHA256 hex |
//! | Slack | [`Slack`] | `X-Slack-Signature: v0=…`, `X-Slack-Request-Timestamp` | `v0:ts:body`, HMAC-SHA256 hex |
//! | Twilio | [`Twilio`] | `X-Twilio-Signature` | URL + sorted form parameters, HMAC-SHA1 (or SHA-256) base64 |
//! | Shopify | [`Shopify`] | `X-Shopify-Hmac-Sha256` | body, HMAC-SHA256 base64 |
//! | Vapi | [`Vapi`] | an HMAC credential (`x-signature`, `x-timestamp`), or `x-vapi-secret`: one mode, chosen explicitly | configurable (HMAC), nothing (secret header) |
//! | anyone else | [`HmacScheme`] | configurable | template over body, timestamp, id, method, URL |
//!
//! For every scheme:
//!
//! - **the raw body**: bodies are `&[u8]`, need not be UTF-8, and are never re-serialized;
//! - **rotation**: a [`Verifier`] holds several secrets and accepts any;
//!   [`Verified::secret_index`] says which matched;
//! - **timestamps**, where signed, must lie within a [`Tolerance`] (default 300 s each way,
//!   bounds inclusive) of an injectable [`Clock`];
//! - **headers** are looked up without regard to case over [`http::HeaderMap`] or plain
//!   `(name, value)` pairs ([`Headers`]); a repeated signature header is refused;
//! - **constant-time comparison** of the decoded MAC bytes, after a length check
//!   (`subtle`);
//! - **typed errors** ([`WebhookError`]) that say what failed and never contain a secret;
//! - **replay keys** ([`ReplayKey`]) taken from signed material only (a signed delivery id, or
//!   a hash of the signed content), never from the signature, so they do not depend on which
//!   secret matched;
//! - **signing** ([`Verifier::sign`]) produces the headers the provider would send.
//!
//! Secrets enter as [`secrecy::SecretString`] and live in zeroize-on-drop buffers; no `Debug`
//! output shows them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod any;
mod encoding;
mod error;
mod github;
mod headers;
mod hmac_scheme;
mod key;
mod mac;
mod meta;
mod shopify;
mod slack;
mod standard;
mod stripe;
mod time;
pub mod twilio;
mod vapi;
mod verified;
mod verifier;

pub use any::AnyScheme;
pub use encoding::Encoding;
pub use error::{SecretError, WebhookError};
pub use github::GitHub;
pub use headers::{Headers, KnownHeader, Lookup};
pub use hmac_scheme::{HmacScheme, HmacSchemeBuilder, TimestampUnit};
pub use key::Key;
pub use mac::Algorithm;
pub use meta::Meta;
pub use secrecy::SecretString;
pub use shopify::Shopify;
pub use slack::Slack;
pub use standard::{
    KEY_LEN_RANGE as STANDARD_KEY_LEN_RANGE, MAX_SIGNATURES as STANDARD_MAX_SIGNATURES,
    StandardWebhooks,
};
pub use stripe::{MAX_V1 as STRIPE_MAX_V1, Stripe, StripeSignatureHeader};
pub use time::{Clock, FixedClock, SystemClock, Tolerance};
pub use twilio::Twilio;
pub use vapi::Vapi;
pub use verified::{Provider, ReplayKey, Verified};
pub use verifier::{MIN_SECRET_LEN, Message, Request, Scheme, SignedHeaders, Verifier};
