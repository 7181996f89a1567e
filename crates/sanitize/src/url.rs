//! Outbound URLs that cannot reach inside: [`UrlPolicy`] and its typed refusals.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use url::{Host, Url};

use palisade_telemetry::URL_BLOCKED;

use crate::ip::{IpBlock, check_ip};

/// The host name suffixes refused by default (the name itself and every name under it):
/// `localhost` (RFC 6761 §6.3), `local` (mDNS, RFC 6762), `internal` (ICANN's private-use TLD,
/// and cloud metadata names such as `metadata.google.internal`), `localdomain`, `intranet`,
/// `lan`, `home`, `corp`, `private`, `home.arpa` (RFC 8375), `arpa` (reverse-DNS names),
/// `test` and `invalid` (RFC 6761).
pub const DEFAULT_BLOCKED_NAME_SUFFIXES: [&str; 13] = [
    "localhost",
    "local",
    "internal",
    "localdomain",
    "intranet",
    "lan",
    "home",
    "corp",
    "private",
    "home.arpa",
    "arpa",
    "test",
    "invalid",
];

/// The longest URL accepted by default, in bytes (of the input and of its canonical form).
pub const DEFAULT_MAX_LENGTH: usize = 2048;

/// Whether IP-literal hosts (`http://203.0.113.7/`, `http://[2001:db8::1]/`) are accepted.
///
/// Whatever the rule, an IP literal in a refused range (loopback, private, …) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IpLiterals {
    /// The host allowlist applies to IP literals as to names: with no allowlist every public IP
    /// literal passes; with one, only the IP literals it lists (the default).
    #[default]
    AsHosts,
    /// Public IP literals pass even when a host allowlist is set (the allowlist then restricts
    /// names only).
    Allow,
    /// Every IP literal is refused.
    Refuse,
}

/// One entry of a host allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostPattern {
    /// Exactly this name (lowercase, IDNA `xn--` form, no trailing dot).
    Exact(String),
    /// Any name strictly under this one: `*.example.com` matches `cdn.example.com` and
    /// `a.b.example.com`, not `example.com` (list it too) nor `badexample.com`.
    Suffix(String),
    /// Exactly this IP literal.
    Ip(IpAddr),
}

impl HostPattern {
    /// Parses `api.example.com` (exact), `*.example.com` (any subdomain), `203.0.113.7` or
    /// `[2001:db8::1]` (an IP literal). Names are normalized as the `url` crate normalizes a
    /// URL's host (lowercase, IDNA), and a trailing dot is dropped.
    ///
    /// # Errors
    /// [`UrlError::InvalidHostPattern`] when the pattern is not a valid host.
    pub fn parse(pattern: &str) -> Result<Self, UrlError> {
        let invalid = |source| UrlError::InvalidHostPattern {
            pattern: pattern.to_owned(),
            source,
        };
        let (suffix, rest) = match pattern.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        match Host::parse(rest).map_err(invalid)? {
            Host::Domain(d) => {
                let name = d.trim_end_matches('.').to_owned();
                if name.is_empty() {
                    return Err(invalid(url::ParseError::EmptyHost));
                }
                Ok(if suffix {
                    Self::Suffix(name)
                } else {
                    Self::Exact(name)
                })
            }
            Host::Ipv4(_) | Host::Ipv6(_) if suffix => {
                Err(invalid(url::ParseError::InvalidDomainCharacter))
            }
            Host::Ipv4(a) => Ok(Self::Ip(IpAddr::V4(a))),
            Host::Ipv6(a) => Ok(Self::Ip(IpAddr::V6(a))),
        }
    }

    fn matches_name(&self, name: &str) -> bool {
        match self {
            Self::Exact(n) => n == name,
            Self::Suffix(s) => is_strictly_under(name, s),
            Self::Ip(_) => false,
        }
    }
}

/// `name` is `parent` or a name under it.
fn is_at_or_under(name: &str, parent: &str) -> bool {
    name == parent || is_strictly_under(name, parent)
}

/// `name` is a name strictly under `parent` (`a.parent`, not `aparent`).
fn is_strictly_under(name: &str, parent: &str) -> bool {
    name.strip_suffix(parent)
        .and_then(|rest| rest.strip_suffix('.'))
        .is_some_and(|label| !label.is_empty())
}

/// Why a URL (or one address it resolves to) is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockReason {
    /// The URL is longer than the policy's maximum, in bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The input holds an ASCII control character (tab, CR, LF, NUL, …), which the URL
    /// Standard would silently strip or reject.
    ControlCharacter {
        /// The byte.
        byte: u8,
    },
    /// The scheme is not allowed.
    Scheme {
        /// The scheme, lowercase.
        scheme: String,
    },
    /// The URL carries a user name or password (`https://user:pass@host/`).
    UserInfo,
    /// The URL has no host (or an empty one).
    NoHost,
    /// The scheme has no default port and the URL gives none.
    NoPort,
    /// The port is not allowed.
    Port {
        /// The port.
        port: u16,
    },
    /// A host allowlist is set and the host is not on it.
    HostNotAllowed {
        /// The host, canonical.
        host: String,
    },
    /// The host is a name under a refused suffix (`localhost`, `*.internal`, …).
    BlockedName {
        /// The host, canonical.
        host: String,
        /// The refused suffix it is at or under.
        suffix: String,
    },
    /// The host is a single label (`http://metadata/`): resolvers complete it with the
    /// machine's search domains, reaching internal hosts.
    SingleLabelName {
        /// The host.
        host: String,
    },
    /// The host is an IP literal and the policy refuses IP literals
    /// ([`IpLiterals::Refuse`], or [`IpLiterals::AsHosts`] with an allowlist not listing it).
    IpLiteral {
        /// The address.
        addr: IpAddr,
    },
    /// The host is not something the `url` crate's host parser accepts (an opaque host of a
    /// non-special scheme).
    InvalidHost {
        /// The host as written.
        host: String,
    },
    /// The host is an IP literal in a refused range.
    Address(IpBlock),
    /// The host name resolves to an address in a refused range.
    ResolvesTo {
        /// The host name.
        host: String,
        /// The refused address.
        block: IpBlock,
    },
}

impl BlockReason {
    /// A fixed label naming the reason (`"scheme"`, `"address"`, `"resolves_to"`, …): the
    /// `reason` field of the `url.blocked` event and a bounded metric label. It holds no part
    /// of the URL.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "too_long",
            Self::ControlCharacter { .. } => "control_character",
            Self::Scheme { .. } => "scheme",
            Self::UserInfo => "user_info",
            Self::NoHost => "no_host",
            Self::NoPort => "no_port",
            Self::Port { .. } => "port",
            Self::HostNotAllowed { .. } => "host_not_allowed",
            Self::BlockedName { .. } => "blocked_name",
            Self::SingleLabelName { .. } => "single_label_name",
            Self::IpLiteral { .. } => "ip_literal",
            Self::InvalidHost { .. } => "invalid_host",
            Self::Address(_) => "address",
            Self::ResolvesTo { .. } => "resolves_to",
        }
    }
}

/// Emits palisade-telemetry's `url.blocked` event (level WARN, target `palisade_sanitize`)
/// for a refused URL or address: the reason's [label](BlockReason::label) only, never the URL
/// or its host, which may carry a credential or a customer's address.
pub(crate) fn report_blocked(reason: &BlockReason) {
    tracing::event!(
        name: URL_BLOCKED,
        target: "palisade_sanitize",
        tracing::Level::WARN,
        event = URL_BLOCKED,
        reason = reason.label(),
    );
}

fn report_url_error(error: &UrlError) {
    if let UrlError::Blocked { reason } = error {
        report_blocked(reason);
    }
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len, max } => write!(f, "URL is {len} bytes, more than {max}"),
            Self::ControlCharacter { byte } => {
                write!(f, "URL holds the control character 0x{byte:02x}")
            }
            Self::Scheme { scheme } => write!(f, "scheme {scheme:?} is not allowed"),
            Self::UserInfo => f.write_str("URL carries a user name or password"),
            Self::NoHost => f.write_str("URL has no host"),
            Self::NoPort => f.write_str("scheme has no default port and the URL gives none"),
            Self::Port { port } => write!(f, "port {port} is not allowed"),
            Self::HostNotAllowed { host } => write!(f, "host {host} is not on the allowlist"),
            Self::BlockedName { host, suffix } => {
                write!(f, "host {host} is an internal name (under {suffix})")
            }
            Self::SingleLabelName { host } => {
                write!(
                    f,
                    "host {host} is a single-label name (completed by search domains)"
                )
            }
            Self::IpLiteral { addr } => write!(f, "IP literal {addr} is not allowed"),
            Self::InvalidHost { host } => write!(f, "host {host:?} is not a valid host"),
            Self::Address(block) => write!(f, "address {block}"),
            Self::ResolvesTo { host, block } => write!(f, "{host} resolves to {block}"),
        }
    }
}

/// Errors of URL checks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The input is not a URL (WHATWG URL Standard, as the `url` crate parses it).
    #[error("not a valid URL: {0}")]
    Parse(#[from] url::ParseError),
    /// The URL is valid but the policy refuses it.
    #[error("blocked: {reason}")]
    Blocked {
        /// Why.
        reason: BlockReason,
    },
    /// A host allowlist entry is not a valid host.
    #[error("invalid host pattern {pattern:?}: {source}")]
    InvalidHostPattern {
        /// The pattern as given.
        pattern: String,
        /// What the `url` crate's host parser said.
        source: url::ParseError,
    },
    /// DNS resolution failed.
    #[error("could not resolve {host}: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// DNS answered with no address.
    #[error("{host} resolves to no address")]
    NoAddresses {
        /// The host name.
        host: String,
    },
}

impl From<BlockReason> for UrlError {
    fn from(reason: BlockReason) -> Self {
        Self::Blocked { reason }
    }
}

/// A URL that passed a [`UrlPolicy`]: connect to its [`ip`](CheckedUrl::ip) when it is an IP
/// literal, else to the addresses `resolve_and_check` (feature `dns`) returns for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUrl {
    url: Url,
    port: u16,
    ip: Option<IpAddr>,
}

impl CheckedUrl {
    /// The parsed, canonical URL (send this one, not the input string).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The parsed URL, by value.
    pub fn into_url(self) -> Url {
        self.url
    }

    /// The port to connect to (the scheme's default when the URL gives none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address when the host is an IP literal (already checked).
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    /// The host name when the host is a name (canonical, trailing dots kept as written).
    pub fn host_name(&self) -> Option<&str> {
        match self.ip {
            Some(_) => None,
            None => self.url.host_str(),
        }
    }
}

/// What an outbound URL may be: schemes, ports, hosts, IP literals, length. Every IP address
/// (literal or, with `resolve_and_check`, resolved) is checked against the IANA special-purpose
/// ranges of [`crate::ip`].
///
/// The default: `https` and `http` on their default ports (443, 80), any public host, public IP
/// literals allowed, no user info, internal names ([`DEFAULT_BLOCKED_NAME_SUFFIXES`]) and
/// single-label names refused, at most [`DEFAULT_MAX_LENGTH`] bytes.
///
/// URLs are parsed with the `url` crate (the WHATWG URL Standard, as browsers parse them): it
/// turns `http://2130706433/`, `http://0x7f.1/`, `http://0177.0.0.1/` and `http://127.1/`
/// into `127.0.0.1`, lowercases and IDNA-maps names; the checks run on that canonical form.
#[derive(Debug, Clone)]
pub struct UrlPolicy {
    schemes: Vec<String>,
    ports: Vec<u16>,
    any_port: bool,
    hosts: Vec<HostPattern>,
    ip_literals: IpLiterals,
    blocked_suffixes: Vec<String>,
    single_label: bool,
    exempt_nets: Vec<IpNet>,
    max_len: usize,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl UrlPolicy {
    /// The default policy (see [`UrlPolicy`]).
    pub fn new() -> Self {
        Self {
            schemes: vec!["https".to_owned(), "http".to_owned()],
            ports: Vec::new(),
            any_port: false,
            hosts: Vec::new(),
            ip_literals: IpLiterals::AsHosts,
            blocked_suffixes: DEFAULT_BLOCKED_NAME_SUFFIXES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            single_label: false,
            exempt_nets: Vec::new(),
            max_len: DEFAULT_MAX_LENGTH,
        }
    }

    /// Replaces the allowed schemes (compared lowercase): `["https"]` refuses plain HTTP.
    #[must_use]
    pub fn schemes<I, S>(mut self, schemes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.schemes = schemes
            .into_iter()
            .map(|s| s.as_ref().to_ascii_lowercase())
            .collect();
        self
    }

    /// Allows `port` besides the scheme's default one.
    #[must_use]
    pub fn allow_port(mut self, port: u16) -> Self {
        self.ports.push(port);
        self
    }

    /// Allows any port.
    #[must_use]
    pub fn allow_any_port(mut self) -> Self {
        self.any_port = true;
        self
    }

    /// Adds an entry to the host allowlist (see [`HostPattern::parse`]): once one is set, only
    /// the hosts it lists pass (as the seed's `ALLOWED_AUDIO_DOMAINS`).
    ///
    /// # Errors
    /// [`UrlError::InvalidHostPattern`].
    pub fn allow_host(mut self, pattern: &str) -> Result<Self, UrlError> {
        self.hosts.push(HostPattern::parse(pattern)?);
        Ok(self)
    }

    /// Sets the IP-literal rule (default [`IpLiterals::AsHosts`]).
    #[must_use]
    pub fn ip_literals(mut self, rule: IpLiterals) -> Self {
        self.ip_literals = rule;
        self
    }

    /// Replaces the refused name suffixes (default [`DEFAULT_BLOCKED_NAME_SUFFIXES`]); each
    /// refuses the name itself and every name under it. Names the allowlist lists pass anyway.
    #[must_use]
    pub fn blocked_name_suffixes<I, S>(mut self, suffixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.blocked_suffixes = suffixes
            .into_iter()
            .map(|s| normalize_suffix(s.as_ref()))
            .collect();
        self
    }

    /// Adds a refused name suffix (`corp.example.com` refuses it and every name under it).
    #[must_use]
    pub fn block_name_suffix(mut self, suffix: &str) -> Self {
        self.blocked_suffixes.push(normalize_suffix(suffix));
        self
    }

    /// Accepts single-label host names (`http://intranet-box/`); refused by default.
    #[must_use]
    pub fn allow_single_label_names(mut self, allow: bool) -> Self {
        self.single_label = allow;
        self
    }

    /// Exempts the addresses of `net` from the special-purpose range check (a known internal
    /// service, a test server on loopback). Use sparingly: every address in `net` becomes
    /// reachable, through literals and DNS answers alike.
    #[must_use]
    pub fn exempt_net(mut self, net: IpNet) -> Self {
        self.exempt_nets.push(net);
        self
    }

    /// Sets the maximum length in bytes (default [`DEFAULT_MAX_LENGTH`]).
    #[must_use]
    pub fn max_length(mut self, bytes: usize) -> Self {
        self.max_len = bytes;
        self
    }

    /// Parses `input` and checks it: the returned [`CheckedUrl`] is what to send.
    ///
    /// # Errors
    /// [`UrlError::Parse`] for a string that is no URL, [`UrlError::Blocked`] with the
    /// [`BlockReason`] for a URL the policy refuses.
    pub fn check(&self, input: &str) -> Result<CheckedUrl, UrlError> {
        self.check_input(input).inspect_err(report_url_error)
    }

    fn check_input(&self, input: &str) -> Result<CheckedUrl, UrlError> {
        if input.len() > self.max_len {
            return Err(BlockReason::TooLong {
                len: input.len(),
                max: self.max_len,
            }
            .into());
        }
        // The URL Standard strips tabs and newlines anywhere and C0 controls and spaces at the
        // ends: what is fetched would differ from what was logged or compared. Refused.
        if let Some(byte) = input.bytes().find(|b| *b < 0x20 || *b == 0x7f) {
            return Err(BlockReason::ControlCharacter { byte }.into());
        }
        let url = Url::parse(input)?;
        let (port, ip) = self.verify(&url)?;
        Ok(CheckedUrl { url, port, ip })
    }

    /// Checks an already parsed URL (a redirect's `Location`, resolved against the request
    /// URL).
    ///
    /// # Errors
    /// [`UrlError::Blocked`] with the [`BlockReason`].
    pub fn check_url(&self, url: &Url) -> Result<CheckedUrl, UrlError> {
        let (port, ip) = self.verify(url).inspect_err(report_blocked)?;
        Ok(CheckedUrl {
            url: url.clone(),
            port,
            ip,
        })
    }

    /// Checks one address (a DNS answer, a peer): the special-purpose ranges, unless
    /// [exempted](Self::exempt_net).
    ///
    /// # Errors
    /// The [`IpBlock`] saying which range holds it.
    pub fn check_addr(&self, addr: IpAddr) -> Result<(), IpBlock> {
        if self.exempt_nets.iter().any(|n| n.contains(&addr)) {
            return Ok(());
        }
        check_ip(addr)
    }

    /// Checks a host name (no IP literal) against the allowlist, the refused suffixes and the
    /// single-label rule: what [`check`](Self::check) does for a URL's name, for a resolver
    /// that only sees names. `name` is taken as the `url` crate gives it (canonical); a
    /// trailing dot is ignored.
    ///
    /// # Errors
    /// The [`BlockReason`].
    pub fn check_name(&self, name: &str) -> Result<(), BlockReason> {
        let bare = name.trim_end_matches('.');
        if bare.is_empty() {
            return Err(BlockReason::NoHost);
        }
        if !self.hosts.is_empty() {
            return if self.hosts.iter().any(|p| p.matches_name(bare)) {
                Ok(())
            } else {
                Err(BlockReason::HostNotAllowed {
                    host: name.to_owned(),
                })
            };
        }
        if let Some(suffix) = self
            .blocked_suffixes
            .iter()
            .find(|s| is_at_or_under(bare, s))
        {
            return Err(BlockReason::BlockedName {
                host: name.to_owned(),
                suffix: suffix.clone(),
            });
        }
        if !self.single_label && !bare.contains('.') {
            return Err(BlockReason::SingleLabelName {
                host: name.to_owned(),
            });
        }
        Ok(())
    }

    /// Checks an IP-literal host: ranges, then the IP-literal rule.
    fn check_literal(&self, addr: IpAddr) -> Result<(), BlockReason> {
        self.check_addr(addr).map_err(BlockReason::Address)?;
        let allowed = match self.ip_literals {
            IpLiterals::Allow => true,
            IpLiterals::Refuse => false,
            IpLiterals::AsHosts => {
                self.hosts.is_empty()
                    || self
                        .hosts
                        .iter()
                        .any(|p| matches!(p, HostPattern::Ip(a) if *a == addr))
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(BlockReason::IpLiteral { addr })
        }
    }

    /// The port and, for an IP literal, the address of an allowed URL.
    fn verify(&self, url: &Url) -> Result<(u16, Option<IpAddr>), BlockReason> {
        let len = url.as_str().len();
        if len > self.max_len {
            return Err(BlockReason::TooLong {
                len,
                max: self.max_len,
            });
        }
        let scheme = url.scheme();
        if !self.schemes.iter().any(|s| s == scheme) {
            return Err(BlockReason::Scheme {
                scheme: scheme.to_owned(),
            });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(BlockReason::UserInfo);
        }
        let port = url.port_or_known_default().ok_or(BlockReason::NoPort)?;
        if let Some(explicit) = url.port()
            && !self.any_port
            && !self.ports.contains(&explicit)
        {
            return Err(BlockReason::Port { port: explicit });
        }
        let reparsed;
        let host: Host<&str> = match url.host() {
            None => return Err(BlockReason::NoHost),
            // A non-special scheme's host is opaque: parse it as a special scheme's host would
            // be, so `2130706433` is seen as the address a resolver would make of it.
            Some(Host::Domain(d)) if !is_special(scheme) => {
                reparsed =
                    Host::parse(d).map_err(|_| BlockReason::InvalidHost { host: d.to_owned() })?;
                match &reparsed {
                    Host::Domain(name) => Host::Domain(name.as_str()),
                    Host::Ipv4(a) => Host::Ipv4(*a),
                    Host::Ipv6(a) => Host::Ipv6(*a),
                }
            }
            Some(h) => h,
        };
        match host {
            Host::Domain(name) => {
                self.check_name(name)?;
                Ok((port, None))
            }
            Host::Ipv4(a) => {
                self.check_literal(IpAddr::V4(a))?;
                Ok((port, Some(IpAddr::V4(a))))
            }
            Host::Ipv6(a) => {
                self.check_literal(IpAddr::V6(a))?;
                Ok((port, Some(IpAddr::V6(a))))
            }
        }
    }
}

/// The WHATWG "special" schemes, whose hosts the `url` crate parses (IPv4 forms, IDNA).
fn is_special(scheme: &str) -> bool {
    matches!(scheme, "http" | "https" | "ws" | "wss" | "ftp" | "file")
}

fn normalize_suffix(s: &str) -> String {
    s.trim_start_matches("*.")
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(policy: &UrlPolicy, url: &str) -> BlockReason {
        match policy.check(url) {
            Err(UrlError::Blocked { reason }) => reason,
            other => panic!("{url}: {other:?}"),
        }
    }

    /// What each refusal says (the error's `Display`, what a caller logs or returns).
    #[test]
    fn refusals_say_why() {
        let p = UrlPolicy::new();
        let cases = [
            ("ftp://example.com/", "scheme \"ftp\" is not allowed"),
            (
                "https://user:pw@example.com/",
                "URL carries a user name or password",
            ),
            ("https://example.com:8443/", "port 8443 is not allowed"),
            (
                "https://db.internal/",
                "host db.internal is an internal name (under internal)",
            ),
        ];
        for (url, want) in cases {
            assert_eq!(reason(&p, url).to_string(), want, "{url}");
            assert_eq!(
                p.check(url).unwrap_err().to_string(),
                format!("blocked: {want}")
            );
        }
        let loopback = reason(&p, "http://127.0.0.1/").to_string();
        assert!(loopback.starts_with("address 127.0.0.1"), "{loopback}");
    }

    #[test]
    fn host_patterns() {
        assert_eq!(
            HostPattern::parse("API.Example.COM.").unwrap(),
            HostPattern::Exact("api.example.com".into())
        );
        assert_eq!(
            HostPattern::parse("*.bücher.example").unwrap(),
            HostPattern::Suffix("xn--bcher-kva.example".into())
        );
        assert_eq!(
            HostPattern::parse("[2001:db8::1]").unwrap(),
            HostPattern::Ip("2001:db8::1".parse().unwrap())
        );
        assert!(HostPattern::parse("*.10.0.0.1").is_err());
        assert!(HostPattern::parse("").is_err());
        assert!(HostPattern::parse("a b").is_err());
    }

    #[test]
    fn suffix_allowlist_matches_whole_labels() {
        let p = UrlPolicy::new().allow_host("*.example.com").unwrap();
        assert!(p.check("https://a.example.com/").is_ok());
        assert!(p.check("https://a.b.example.com./").is_ok());
        for url in [
            "https://example.com/",
            "https://badexample.com/",
            "https://example.com.evil.net/",
            "https://a.example.com@evil.net/",
        ] {
            assert!(p.check(url).is_err(), "{url}");
        }
    }

    #[test]
    fn ip_literal_rules() {
        let public = "http://93.184.216.34/";
        assert!(UrlPolicy::new().check(public).is_ok());
        let refuse = UrlPolicy::new().ip_literals(IpLiterals::Refuse);
        assert!(matches!(
            reason(&refuse, public),
            BlockReason::IpLiteral { .. }
        ));
        let listed = UrlPolicy::new().allow_host("example.com").unwrap();
        assert!(matches!(
            reason(&listed, public),
            BlockReason::IpLiteral { .. }
        ));
        let listed = listed.allow_host("93.184.216.34").unwrap();
        assert!(listed.check(public).is_ok());
        let allow = UrlPolicy::new()
            .allow_host("example.com")
            .unwrap()
            .ip_literals(IpLiterals::Allow);
        assert!(allow.check(public).is_ok());
        // Ranges first: an internal literal is refused for its range under every rule.
        assert!(matches!(
            reason(&allow, "http://10.0.0.1/"),
            BlockReason::Address(_)
        ));
    }

    #[test]
    fn names() {
        let p = UrlPolicy::new();
        for url in [
            "http://localhost/",
            "http://LOCALHOST./",
            "http://a.b.localhost/",
            "http://metadata.google.internal/",
            "http://printer.local/",
            "http://router.home.arpa/",
        ] {
            assert!(
                matches!(reason(&p, url), BlockReason::BlockedName { .. }),
                "{url}"
            );
        }
        assert!(matches!(
            reason(&p, "http://metadata/"),
            BlockReason::SingleLabelName { .. }
        ));
        assert!(
            p.clone()
                .allow_single_label_names(true)
                .check("http://metadata/")
                .is_ok()
        );
        assert!(p.check("http://notlocalhost.com/").is_ok());
        assert!(matches!(
            reason(
                &p.clone().block_name_suffix("corp.example.com"),
                "https://x.corp.example.com/"
            ),
            BlockReason::BlockedName { .. }
        ));
    }

    #[test]
    fn opaque_hosts_are_parsed_as_hosts() {
        let p = UrlPolicy::new().schemes(["gopher"]).allow_port(70);
        assert!(matches!(
            reason(&p, "gopher://2130706433:70/x"),
            BlockReason::Address(_)
        ));
        assert!(matches!(
            reason(&p, "gopher://example.com/x"),
            BlockReason::NoPort
        ));
        assert!(p.check("gopher://example.com:70/x").is_ok());
    }

    #[test]
    fn length_ports_userinfo() {
        let p = UrlPolicy::new().max_length(30);
        assert!(matches!(
            reason(&p, "https://example.com/aaaaaaaaaaaaaaaaaaaa"),
            BlockReason::TooLong { max: 30, .. }
        ));
        // The limit is inclusive, for a string and for a parsed URL alike.
        let at_limit = "https://example.com/aaaaaaaaaa";
        assert_eq!(at_limit.len(), 30);
        assert!(p.check(at_limit).is_ok());
        assert!(p.check_url(&Url::parse(at_limit).unwrap()).is_ok());
        let over = Url::parse("https://example.com/aaaaaaaaaaa").unwrap();
        assert!(matches!(
            p.check_url(&over),
            Err(UrlError::Blocked {
                reason: BlockReason::TooLong { len: 31, max: 30 }
            })
        ));
        let p = UrlPolicy::new();
        assert!(p.check("https://example.com:443/").is_ok());
        assert_eq!(
            reason(&p, "https://example.com:80/"),
            BlockReason::Port { port: 80 }
        );
        assert_eq!(
            reason(&p, "https://:pw@example.com/"),
            BlockReason::UserInfo
        );
        assert_eq!(reason(&p, "https://u@example.com/"), BlockReason::UserInfo);
        assert!(
            p.clone()
                .allow_any_port()
                .check("https://example.com:81/")
                .is_ok()
        );
        let checked = p.check("HTTPS://Example.COM/a/../b").unwrap();
        assert_eq!(checked.url().as_str(), "https://example.com/b");
        assert_eq!(checked.port(), 443);
        assert_eq!(checked.host_name(), Some("example.com"));
    }
}
