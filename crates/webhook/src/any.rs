//! A scheme chosen at run time, for configuration files and the command line.

use crate::error::SecretError;
use crate::key::Key;
use crate::lazy::LazyVerified;
use crate::time::Tolerance;
use crate::verifier::{Message, Request, Scheme, SignedHeaders};
use crate::{
    GitHub, HmacScheme, Meta, Provider, Shopify, Slack, StandardWebhooks, Stripe, Twilio, Vapi,
    WebhookError,
};

/// Any scheme of this crate, chosen at run time.
///
/// ```
/// use palisade_webhook::{AnyScheme, Provider, Verifier};
/// use secrecy::SecretString;
///
/// let provider: Provider = "shopify".parse()?;
/// let v = Verifier::new(AnyScheme::for_provider(provider)?, [SecretString::from("shpss_0123456789abcdef")])?;
/// assert_eq!(v.scheme().provider(), Provider::Shopify);
/// # use palisade_webhook::Scheme;
/// # Ok::<(), palisade_webhook::WebhookError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnyScheme {
    /// [`StandardWebhooks`].
    Standard(StandardWebhooks),
    /// [`Stripe`].
    Stripe(Stripe),
    /// [`GitHub`].
    GitHub(GitHub),
    /// [`Meta`].
    Meta(Meta),
    /// [`Slack`].
    Slack(Slack),
    /// [`Twilio`].
    Twilio(Twilio),
    /// [`Shopify`].
    Shopify(Shopify),
    /// [`Vapi`].
    Vapi(Vapi),
    /// [`HmacScheme`].
    Hmac(HmacScheme),
}

impl AnyScheme {
    /// The provider's scheme with its defaults (GitHub without legacy SHA-1, Vapi's HMAC
    /// credential with its default plan, never the weaker `x-vapi-secret` mode, which must be
    /// chosen explicitly with `AnyScheme::from(Vapi::server_secret())`).
    ///
    /// # Errors
    /// [`WebhookError::InvalidConfig`] for [`Provider::Hmac`], which needs an [`HmacScheme`]
    /// (use `AnyScheme::from(scheme)`).
    pub fn for_provider(provider: Provider) -> Result<Self, WebhookError> {
        Ok(match provider {
            Provider::Standard => Self::Standard(StandardWebhooks),
            Provider::Stripe => Self::Stripe(Stripe),
            Provider::GitHub => Self::GitHub(GitHub::new()),
            Provider::Meta => Self::Meta(Meta),
            Provider::Slack => Self::Slack(Slack),
            Provider::Twilio => Self::Twilio(Twilio::default()),
            Provider::Shopify => Self::Shopify(Shopify),
            Provider::Vapi => Self::Vapi(Vapi::hmac(Vapi::default_hmac_plan())),
            Provider::Hmac => {
                return Err(WebhookError::config(
                    "the generic HMAC provider needs a header, algorithm and encoding",
                ));
            }
        })
    }

    fn inner(&self) -> &dyn Scheme {
        match self {
            Self::Standard(s) => s,
            Self::Stripe(s) => s,
            Self::GitHub(s) => s,
            Self::Meta(s) => s,
            Self::Slack(s) => s,
            Self::Twilio(s) => s,
            Self::Shopify(s) => s,
            Self::Vapi(s) => s,
            Self::Hmac(s) => s,
        }
    }
}

macro_rules! from_scheme {
    ($($variant:ident($ty:ty)),* $(,)?) => {$(
        impl From<$ty> for AnyScheme {
            fn from(s: $ty) -> Self {
                Self::$variant(s)
            }
        }
    )*};
}
from_scheme!(
    Standard(StandardWebhooks),
    Stripe(Stripe),
    GitHub(GitHub),
    Meta(Meta),
    Slack(Slack),
    Twilio(Twilio),
    Shopify(Shopify),
    Vapi(Vapi),
    Hmac(HmacScheme),
);

impl Scheme for AnyScheme {
    fn provider(&self) -> Provider {
        self.inner().provider()
    }

    fn parse_secret(&self, secret: &str) -> Result<Key, SecretError> {
        self.inner().parse_secret(secret)
    }

    fn verify_lazy<'a>(
        &'a self,
        keys: &[Key],
        request: &Request<'a>,
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<LazyVerified<'a>, WebhookError> {
        self.inner().verify_lazy(keys, request, now, tolerance)
    }

    fn sign(
        &self,
        key: &Key,
        message: &Message<'_>,
        now: i64,
    ) -> Result<SignedHeaders, WebhookError> {
        self.inner().sign(key, message, now)
    }
}
