//! `reqwest` integration (feature `reqwest`): a DNS resolver that refuses internal addresses
//! at connect time, a redirect policy that re-checks every hop, and a client builder that
//! ignores proxy environment variables.
//!
//! This crate enables no TLS feature of reqwest: enable one (`rustls`, `native-tls`) on your
//! own `reqwest` dependency; cargo unifies the features.

use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;

use crate::resolve::resolve_name;
use crate::url::{CheckedUrl, UrlError, UrlPolicy};

/// The redirects followed by [`client_builder`] before giving up.
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// A [`reqwest::dns::Resolve`] that checks each name against a [`UrlPolicy`] and refuses the
/// whole answer when any address of it is in a refused range (see
/// [`resolve_name`]). reqwest connects to the addresses it returns, so the check holds at
/// connect time: no second lookup, no DNS rebinding.
///
/// reqwest does not call a resolver for IP-literal URLs: check those with
/// [`UrlPolicy::check`] (the [`Guarded`] client does) and on redirects with
/// [`redirect_policy`].
#[derive(Debug, Clone)]
pub struct SsrfResolver {
    policy: Arc<UrlPolicy>,
}

impl SsrfResolver {
    /// A resolver enforcing `policy`.
    pub fn new(policy: Arc<UrlPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for SsrfResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // reqwest sets the URL's port on each address it connects to.
            let addrs = resolve_name(&policy, &host, 0).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A redirect policy that checks every `Location` (resolved against the request URL) with
/// `policy` before following it, and stops after `max` redirects.
pub fn redirect_policy(policy: Arc<UrlPolicy>, max: usize) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > max {
            return attempt.error(TooManyRedirects { max });
        }
        match policy.check_url(attempt.url()) {
            Ok(_) => attempt.follow(),
            Err(e) => attempt.error(e),
        }
    })
}

/// More redirects than the policy follows.
#[derive(Debug, thiserror::Error)]
#[error("more than {max} redirects")]
pub struct TooManyRedirects {
    /// The maximum.
    pub max: usize,
}

/// A `reqwest::ClientBuilder` with the [`SsrfResolver`], the [`redirect_policy`]
/// ([`DEFAULT_MAX_REDIRECTS`]) and proxies off: `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` are
/// ignored (through a proxy, the proxy resolves the name and this resolver never sees it). A
/// proxy set afterwards with `.proxy(…)` is used; the names it resolves are then unchecked.
pub fn client_builder(policy: Arc<UrlPolicy>) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(SsrfResolver::new(Arc::clone(&policy)))
        .redirect(redirect_policy(policy, DEFAULT_MAX_REDIRECTS))
        .no_proxy()
}

/// A reqwest client that checks every URL it is given with its policy before sending.
#[derive(Debug, Clone)]
pub struct Guarded {
    client: reqwest::Client,
    policy: Arc<UrlPolicy>,
}

impl Guarded {
    /// A client built by [`client_builder`] for `policy`.
    ///
    /// # Errors
    /// reqwest's, when the client cannot be built.
    pub fn new(policy: UrlPolicy) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = client_builder(Arc::clone(&policy)).build()?;
        Ok(Self { client, policy })
    }

    /// Wraps a client built from [`client_builder`] with the same `policy`.
    pub fn from_parts(client: reqwest::Client, policy: Arc<UrlPolicy>) -> Self {
        Self { client, policy }
    }

    /// Checks `url` and returns a GET request for its canonical form.
    ///
    /// # Errors
    /// [`UrlError`] when the policy refuses the URL.
    pub fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, UrlError> {
        let checked: CheckedUrl = self.policy.check(url)?;
        Ok(self.client.get(checked.into_url()))
    }

    /// Checks `url` and returns a request of `method` for its canonical form.
    ///
    /// # Errors
    /// [`UrlError`] when the policy refuses the URL.
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, UrlError> {
        let checked = self.policy.check(url)?;
        Ok(self.client.request(method, checked.into_url()))
    }
}
