//! Verify and sign webhook requests from the raw bytes, for every common sender.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod any;
mod encoding;
mod error;
mod github;
mod headers;
mod hmac_scheme;
mod key;
mod lazy;
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
pub use lazy::LazyVerified;
pub use meta::Meta;
pub use palisade_core::{
    CapPolicy, Clock, HmacAlgorithm, ManualClock, SystemClock, Timestamp, UnknownHmacAlgorithm,
};
pub use secrecy::SecretString;
pub use shopify::Shopify;
pub use slack::Slack;
pub use standard::{
    KEY_LEN_RANGE as STANDARD_KEY_LEN_RANGE, MAX_SIGNATURES as STANDARD_MAX_SIGNATURES,
    StandardWebhooks,
};
pub use stripe::{MAX_V1 as STRIPE_MAX_V1, Stripe, StripeSignatureHeader};
pub use time::{OutsideTolerance, Tolerance};
pub use twilio::Twilio;
pub use vapi::Vapi;
pub use verified::{Provider, REPLAY_KEY_BLAKE3_FROM, ReplayKey, Verified};
pub use verifier::{MIN_SECRET_LEN, Message, Request, Scheme, SignedHeaders, Verifier};
