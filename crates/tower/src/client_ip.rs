//! The client's IP address: from the socket, or from a proxy header set by a trusted proxy.
//!
//! Standards followed: RFC 9110 §5.3 (several field lines of one name are one list, in order)
//! and §5.6.1 (comma-separated lists, empty elements ignored), §5.6.4 (quoted strings);
//! RFC 7239 §4 (`Forwarded` grammar: elements of `;`-separated `token=value` pairs, values a
//! token or a quoted string, parameter names case-insensitive), §5.2 (`for`), §6 (node
//! identifiers: IPv4, `"[" IPv6 "]"`, `unknown`, obfuscated `_name`; an optional port), §6.1
//! (IPv6 quoted and bracketed), §6.3 (obfuscated identifiers) and §7.1 (each proxy appends).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use http::HeaderMap;
use http::request::Parts;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::TowerError;

/// An IP network (`address/prefix`), for the list of trusted proxies: the `ipnet` crate's
/// [`IpNet`](ipnet::IpNet).
///
/// Parse it from CIDR notation (`"10.0.0.0/8".parse()`, `"2001:db8::/32".parse()`); a single
/// address is `IpNet::from(addr)` (a `/32`, or `/128` for IPv6). Trusted networks written as
/// IPv4-mapped IPv6 (`::ffff:10.0.0.0/104`) are compared as IPv4, as the addresses are.
pub type IpNetwork = IpNet;

/// The default prefix length by which IPv6 clients are keyed: 64 bits, the smallest block an
/// ISP or a cloud provider assigns to one subscriber or one host (RFC 6177, RFC 7421).
pub const DEFAULT_IPV6_PREFIX: u8 = 64;

/// Which proxy header carries the client address when the peer is a trusted proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (de facto standard).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"` (RFC 7239).
    Forwarded,
}

type PeerFn = dyn Fn(&Parts) -> Option<IpAddr> + Send + Sync;

/// How to find the client's IP address, and the network a client is keyed by.
///
/// 1. **The peer**: the socket address of the connection, read from the request extensions:
///    a [`SocketAddr`] (what `hyper-util` users insert, and what a `tonic` or custom server
///    can insert), or, with feature `axum`, axum's `ConnectInfo<SocketAddr>` (what
///    `into_make_service_with_connect_info::<SocketAddr>()` inserts). Any other source:
///    [`ClientIp::with_peer`].
/// 2. **Proxy headers are used only when the peer is a trusted proxy** (in one of the
///    [`trusted`](ClientIp::trust) networks). The header's raw bytes are read as one list
///    (several header lines are concatenated in order) **from the right**, skipping the
///    addresses of trusted proxies; the first untrusted address is the client (the left part
///    of the header is whatever the client sent and cannot be believed). If every address is
///    trusted, the leftmost is taken.
/// 3. **A bad element spoils only itself.** Elements are split on `,` (outside quoted strings
///    in `Forwarded`, scanning from the right so that an unbalanced quote sent by the client
///    cannot swallow what the proxies appended), and a non-ASCII byte, a malformed address or
///    a stray quote in one element does not affect the others. An element reached by the walk
///    that names no address (`unknown`, an obfuscated `_name`, a `Forwarded` element without
///    `for`, garbage) stops it, and the last trusted hop is used: the element was written by a
///    trusted proxy that did not know or would not say who its client was, so everything left
///    of it is unverifiable. Empty elements are ignored (RFC 9110 §5.6.1).
/// 4. From an untrusted peer, or with no trusted network configured, headers are ignored:
///    a client cannot choose its own rate-limit key by sending `X-Forwarded-For`.
///
/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are IPv4 addresses throughout.
/// [`key_network`](Self::key_network) is the network a client is rate-limited by: its IPv4
/// address, or the `/64` of its IPv6 address ([`ipv6_prefix`](Self::ipv6_prefix)).
///
/// When no peer address can be found, [`ClientIp::resolve`] returns `None`; the
/// [`RateLimitLayer`](crate::RateLimitLayer) then answers 500 unless told to share one bucket
/// among such requests.
#[derive(Clone)]
pub struct ClientIp {
    trusted: Arc<[IpNet]>,
    header: ForwardedHeader,
    peer: Option<Arc<PeerFn>>,
    ipv6_prefix: u8,
}

impl Default for ClientIp {
    fn default() -> Self {
        Self {
            trusted: Arc::from([]),
            header: ForwardedHeader::default(),
            peer: None,
            ipv6_prefix: DEFAULT_IPV6_PREFIX,
        }
    }
}

impl fmt::Debug for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIp")
            .field("trusted", &self.trusted)
            .field("header", &self.header)
            .field("custom_peer", &self.peer.is_some())
            .field("ipv6_prefix", &self.ipv6_prefix)
            .finish()
    }
}

impl ClientIp {
    /// The peer address only (no proxy is trusted), read from a [`SocketAddr`] extension or
    /// (feature `axum`) axum's `ConnectInfo<SocketAddr>`; IPv6 clients keyed by `/64`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts proxies in `networks` to report the client in `header`.
    #[must_use]
    pub fn trust(
        mut self,
        networks: impl IntoIterator<Item = IpNetwork>,
        header: ForwardedHeader,
    ) -> Self {
        self.trusted = networks.into_iter().map(canonical_net).collect();
        self.header = header;
        self
    }

    /// Reads the peer address with `peer` instead of the extensions.
    #[must_use]
    pub fn with_peer<F>(mut self, peer: F) -> Self
    where
        F: Fn(&Parts) -> Option<IpAddr> + Send + Sync + 'static,
    {
        self.peer = Some(Arc::new(peer));
        self
    }

    /// Keys IPv6 clients by their first `prefix` bits (default [`DEFAULT_IPV6_PREFIX`], 64).
    ///
    /// Keying by the full address would give anyone holding a `/64` (every IPv6 subscriber,
    /// every cloud VM) 2^64 separate budgets. Residential ISPs commonly delegate a `/56` (or a
    /// `/48`) to each customer: use 56 where one customer should get one budget, at the cost
    /// of customers behind the same `/56` sharing it. 128 keys by the full address.
    ///
    /// # Errors
    /// [`TowerError::InvalidNetwork`] when `prefix` exceeds 128.
    pub fn ipv6_prefix(mut self, prefix: u8) -> Result<Self, TowerError> {
        if prefix > 128 {
            return Err(TowerError::InvalidNetwork {
                network: format!("::/{prefix}"),
                reason: "IPv6 prefix longer than 128 bits",
            });
        }
        self.ipv6_prefix = prefix;
        Ok(self)
    }

    /// The client address of a request, or `None` when the peer is unknown.
    pub fn resolve(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = canonical(self.peer(parts)?);
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        Some(self.walk_header(peer, &parts.headers))
    }

    /// The network the client of a request is keyed by: its IPv4 address (`/32`, IPv4-mapped
    /// IPv6 included), or its IPv6 address truncated to [`ipv6_prefix`](Self::ipv6_prefix)
    /// bits; `None` when the peer is unknown.
    pub fn key_network(&self, parts: &Parts) -> Option<IpNet> {
        Some(match self.resolve(parts)? {
            IpAddr::V4(v4) => IpNet::V4(Ipv4Net::from(v4)),
            IpAddr::V6(v6) => IpNet::V6(
                Ipv6Net::new(v6, self.ipv6_prefix)
                    .map_or_else(|_| Ipv6Net::from(v6), |n| n.trunc()),
            ),
        })
    }

    fn peer(&self, parts: &Parts) -> Option<IpAddr> {
        if let Some(f) = &self.peer {
            return f(parts);
        }
        if let Some(addr) = parts.extensions.get::<SocketAddr>() {
            return Some(addr.ip());
        }
        #[cfg(feature = "axum")]
        if let Some(info) = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
        {
            return Some(info.0.ip());
        }
        None
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// Walks the header's hops from the right, starting at the trusted `peer`.
    fn walk_header(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let (name, quoted) = match self.header {
            ForwardedHeader::XForwardedFor => ("x-forwarded-for", false),
            ForwardedHeader::Forwarded => ("forwarded", true),
        };
        let lines: Vec<&[u8]> = headers.get_all(name).iter().map(|v| v.as_bytes()).collect();
        let mut current = peer;
        // Lines from the last, each line's elements from the right: the list of all the lines
        // in order (RFC 9110 §5.3), read backwards. A quote never spans two lines.
        for line in lines.into_iter().rev() {
            for element in RevElements::new(line, quoted) {
                let element = trim_ows(element);
                if element.is_empty() {
                    continue;
                }
                let hop = match self.header {
                    ForwardedHeader::XForwardedFor => parse_node(element),
                    ForwardedHeader::Forwarded => forwarded_for(element),
                };
                let Some(ip) = hop else { return current };
                let ip = canonical(ip);
                if !self.is_trusted(ip) {
                    return ip;
                }
                current = ip;
            }
        }
        current
    }
}

/// The elements of one comma-separated field line, from the rightmost.
///
/// With `quoted`, commas inside quoted strings (RFC 9110 §5.6.4) do not split. Scanning from
/// the right, a `"` opens or closes a quoted string unless an odd number of backslashes
/// precedes it (a quoted-pair). Only the right part of the line, appended by trusted proxies,
/// is relied on, and it is split exactly as a left-to-right parse would split it; whatever a
/// client put to its left (an unbalanced quote included) ends up in elements the walk reads
/// only after the proxies' ones.
struct RevElements<'a> {
    rest: Option<&'a [u8]>,
    quoted: bool,
}

impl<'a> RevElements<'a> {
    fn new(line: &'a [u8], quoted: bool) -> Self {
        Self {
            rest: Some(line),
            quoted,
        }
    }
}

impl<'a> Iterator for RevElements<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        let mut in_quotes = false;
        let mut split = None;
        for (i, &b) in rest.iter().enumerate().rev() {
            match b {
                b'"' if self.quoted => {
                    let before = rest.get(..i).unwrap_or_default();
                    let backslashes = before.iter().rev().take_while(|&&c| c == b'\\').count();
                    if backslashes % 2 == 0 {
                        in_quotes = !in_quotes;
                    }
                }
                b',' if !in_quotes => {
                    split = Some(i);
                    break;
                }
                _ => {}
            }
        }
        match split {
            Some(i) => {
                let (left, right) = rest.split_at(i);
                self.rest = Some(left);
                Some(right.get(1..).unwrap_or_default())
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// `bytes` without leading and trailing spaces and tabs (RFC 9110 §5.6.3 OWS).
fn trim_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |e| e + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// The `for` node of one `Forwarded` element (RFC 7239 §4, §5.2), as an address; `None` when
/// the element has no `for` pair, a malformed one, or a node that is no address (`unknown`,
/// an obfuscated identifier, §6.3).
fn forwarded_for(element: &[u8]) -> Option<IpAddr> {
    let mut rest = element;
    loop {
        // Pairs are split on `;` outside quoted strings.
        let mut in_quotes = false;
        let mut escaped = false;
        let end = rest
            .iter()
            .position(|&b| {
                if escaped {
                    escaped = false;
                    return false;
                }
                match b {
                    b'\\' if in_quotes => escaped = true,
                    b'"' => in_quotes = !in_quotes,
                    b';' if !in_quotes => return true,
                    _ => {}
                }
                false
            })
            .unwrap_or(rest.len());
        let (pair, tail) = rest.split_at(end);
        let pair = trim_ows(pair);
        if let Some(eq) = pair.iter().position(|&b| b == b'=') {
            let (name, value) = pair.split_at(eq);
            if trim_ows(name).eq_ignore_ascii_case(b"for") {
                let value = trim_ows(value.get(1..).unwrap_or_default());
                return parse_node(&unquote(value)?);
            }
        }
        rest = tail.get(1..)?;
    }
}

/// A `value` (RFC 7239 §4): a token as is, or a quoted string without its quotes and with its
/// quoted-pairs undone; `None` for an unterminated quoted string.
fn unquote(value: &[u8]) -> Option<Vec<u8>> {
    let Some(inner) = value.strip_prefix(b"\"") else {
        return Some(value.to_vec());
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => out.push(*bytes.next()?),
            b'"' => return bytes.as_slice().is_empty().then_some(out),
            _ => out.push(b),
        }
    }
    None
}

/// One node (RFC 7239 §6, also the elements of `X-Forwarded-For`): `192.0.2.1`,
/// `192.0.2.1:443`, `[2001:db8::1]`, `[2001:db8::1]:443`, or a bare `2001:db8::1`. `unknown`,
/// obfuscated identifiers (`_hidden`), obfuscated ports and anything else are `None`.
fn parse_node(node: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(node).ok()?;
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    // `[v6]` without a port.
    s.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .and_then(|s| s.parse::<Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(IpAddr::V6(v6), |v4: Ipv4Addr| IpAddr::V4(v4)),
        v4 => v4,
    }
}

/// IPv4-mapped IPv6 networks (`::ffff:0:0/96` or longer) as IPv4 networks, host bits dropped.
fn canonical_net(net: IpNet) -> IpNet {
    let net = net.trunc();
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        _ => net,
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    fn parts_raw(peer: &str, headers: &[(&str, &[u8])]) -> Parts {
        let mut b = http::Request::builder();
        for (k, v) in headers {
            b = b.header(*k, HeaderValue::from_bytes(v).unwrap());
        }
        let (mut p, ()) = b.body(()).unwrap().into_parts();
        p.extensions.insert(peer.parse::<SocketAddr>().unwrap());
        p
    }

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let raw: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        parts_raw(peer, &raw)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff() -> ClientIp {
        ClientIp::new().trust(
            ["10.0.0.0/8".parse().unwrap()],
            ForwardedHeader::XForwardedFor,
        )
    }

    fn fwd() -> ClientIp {
        ClientIp::new().trust(["10.0.0.0/8".parse().unwrap()], ForwardedHeader::Forwarded)
    }

    #[test]
    fn networks_are_ipnet_and_mapped_networks_match_as_ipv4() {
        let c = ClientIp::new().trust(
            [
                "::ffff:10.0.0.0/104".parse().unwrap(),
                IpNet::from(ip("192.0.2.1")),
            ],
            ForwardedHeader::XForwardedFor,
        );
        assert!(c.is_trusted(ip("10.1.2.3")));
        assert!(c.is_trusted(canonical(ip("::ffff:10.1.2.3"))));
        assert!(c.is_trusted(ip("192.0.2.1")));
        assert!(!c.is_trusted(ip("192.0.2.2")));
        assert!(!c.is_trusted(ip("11.0.0.1")));
        assert!("10.0.0.0/33".parse::<IpNetwork>().is_err());
    }

    #[test]
    fn rightmost_untrusted_hop_wins() {
        let c = xff();
        let p = parts(
            "10.0.0.1:1",
            &[
                ("x-forwarded-for", "6.6.6.6, 203.0.113.9"),
                ("x-forwarded-for", "10.0.0.2"),
            ],
        );
        assert_eq!(c.resolve(&p), Some(ip("203.0.113.9")));
        // Untrusted peer: the header is ignored.
        let p = parts("198.51.100.1:1", &[("x-forwarded-for", "6.6.6.6")]);
        assert_eq!(c.resolve(&p), Some(ip("198.51.100.1")));
        // Garbage written by a trusted hop stops the walk at that hop.
        let p = parts(
            "10.0.0.1:1",
            &[("x-forwarded-for", "6.6.6.6, unknown, 10.0.0.3")],
        );
        assert_eq!(c.resolve(&p), Some(ip("10.0.0.3")));
        // All trusted: the leftmost.
        let p = parts("10.0.0.1:1", &[("x-forwarded-for", "10.0.0.7, 10.0.0.3")]);
        assert_eq!(c.resolve(&p), Some(ip("10.0.0.7")));
        // Empty elements are ignored; ports and brackets are accepted.
        let p = parts(
            "10.0.0.1:1",
            &[("x-forwarded-for", "[2001:db8::7]:443, , 10.0.0.3:80 ,")],
        );
        assert_eq!(c.resolve(&p), Some(ip("2001:db8::7")));
    }

    /// nginx appends `, $remote_addr` to whatever the client sent: a non-ASCII byte there
    /// must not make the client the proxy.
    #[test]
    fn a_non_ascii_byte_from_the_client_spoils_only_its_element() {
        let p = parts_raw(
            "10.0.0.1:1",
            &[("x-forwarded-for", b"\xff, 203.0.113.9".as_slice())],
        );
        assert_eq!(xff().resolve(&p), Some(ip("203.0.113.9")));
        let p = parts_raw(
            "10.0.0.1:1",
            &[
                ("x-forwarded-for", b"1.2.3.4\xfe\xff".as_slice()),
                ("x-forwarded-for", b"203.0.113.9, 10.0.0.2".as_slice()),
            ],
        );
        assert_eq!(xff().resolve(&p), Some(ip("203.0.113.9")));
        let p = parts_raw(
            "10.0.0.1:1",
            &[("forwarded", b"for=\"\xff\", for=203.0.113.9".as_slice())],
        );
        assert_eq!(fwd().resolve(&p), Some(ip("203.0.113.9")));
    }

    #[test]
    fn forwarded_header() {
        let c = fwd();
        let p = parts(
            "10.0.0.1:1",
            &[(
                "forwarded",
                r#"for=6.6.6.6, For="[2001:db8::1]:4711";proto=https, for=10.0.0.9:80"#,
            )],
        );
        assert_eq!(c.resolve(&p), Some(ip("2001:db8::1")));
        // Other pairs first, quoted values with commas and semicolons, quoted-pairs.
        let p = parts(
            "10.0.0.1:1",
            &[(
                "forwarded",
                r#"for=6.6.6.6, by="a,b;c";proto=http;for="203.0.113.\9", for="[2001:db8::2]""#,
            )],
        );
        assert_eq!(c.resolve(&p), Some(ip("2001:db8::2")));
        let p = parts(
            "10.0.0.1:1",
            &[(
                "forwarded",
                r#"for=6.6.6.6, by="a,b;c";proto=http;for="203.0.113.\9", for=10.0.0.5"#,
            )],
        );
        assert_eq!(c.resolve(&p), Some(ip("203.0.113.9")));
        // Obfuscated identifiers, `unknown` and elements without `for` stop the walk.
        for hidden in [
            "for=_hidden",
            "for=unknown",
            "proto=https",
            r#"for="_x:_p""#,
        ] {
            let p = parts(
                "10.0.0.1:1",
                &[("forwarded", &format!("for=6.6.6.6, {hidden}, for=10.0.0.4"))],
            );
            assert_eq!(c.resolve(&p), Some(ip("10.0.0.4")), "{hidden}");
        }
    }

    /// A client's unbalanced quote cannot swallow what the proxies appended.
    #[test]
    fn an_unbalanced_quote_from_the_client_spoils_only_its_element() {
        for sent in [
            r#"for=""#,
            r#"for="[2001:db8::"#,
            r#"""#,
            r#"for=1.2.3.4, x=""#,
        ] {
            let p = parts(
                "10.0.0.1:1",
                &[("forwarded", &format!("{sent}, for=203.0.113.9"))],
            );
            assert_eq!(fwd().resolve(&p), Some(ip("203.0.113.9")), "{sent}");
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_and_mapped_ipv4_as_ipv4() {
        let c = ClientIp::new();
        let net = |peer: &str, c: &ClientIp| c.key_network(&parts(peer, &[])).unwrap();
        assert_eq!(
            net("[2001:db8:1:2:aaaa::1]:1", &c),
            "2001:db8:1:2::/64".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            net("[2001:db8:1:2:aaaa::1]:1", &c),
            net("[2001:db8:1:2:ffff:1:2:3]:1", &c)
        );
        assert_ne!(
            net("[2001:db8:1:2::1]:1", &c),
            net("[2001:db8:1:3::1]:1", &c)
        );
        assert_eq!(
            net("[::ffff:192.0.2.7]:1", &c),
            "192.0.2.7/32".parse::<IpNet>().unwrap()
        );
        let c56 = ClientIp::new().ipv6_prefix(56).unwrap();
        assert_eq!(
            net("[2001:db8:1:2ff::1]:1", &c56),
            "2001:db8:1:200::/56".parse::<IpNet>().unwrap()
        );
        let full = ClientIp::new().ipv6_prefix(128).unwrap();
        assert_eq!(
            net("[2001:db8::1]:1", &full),
            "2001:db8::1/128".parse::<IpNet>().unwrap()
        );
        assert!(ClientIp::new().ipv6_prefix(129).is_err());
    }

    /// One generated hop of a header: a trusted address, an untrusted one, or an element that
    /// names no address.
    #[derive(Debug, Clone)]
    enum Hop {
        Trusted(u8),
        Untrusted(u32),
        Bad(Vec<u8>),
    }

    fn hop() -> impl Strategy<Value = Hop> {
        prop_oneof![
            any::<u8>().prop_map(Hop::Trusted),
            // 11.0.0.0 and up: never in 10.0.0.0/8.
            (0x0b00_0000u32..0xdf00_0000).prop_map(Hop::Untrusted),
            prop_oneof![
                Just(b"unknown".to_vec()),
                Just(b"_hidden".to_vec()),
                Just(b"\xff\xfe".to_vec()),
                Just(b"1.2.3".to_vec()),
                Just(b"[::1".to_vec()),
            ]
            .prop_map(Hop::Bad),
        ]
    }

    fn render(hop: &Hop, forwarded: bool) -> Vec<u8> {
        let node = match hop {
            Hop::Trusted(n) => format!("10.0.0.{n}").into_bytes(),
            Hop::Untrusted(n) => Ipv4Addr::from(*n).to_string().into_bytes(),
            Hop::Bad(b) => b.clone(),
        };
        if forwarded {
            [b"for=".as_slice(), &node, b";proto=https"].concat()
        } else {
            node
        }
    }

    /// The documented rule, written plainly: from the right, skip trusted hops; the first
    /// untrusted one is the client; one that names no address stops at the last trusted.
    fn model(peer: IpAddr, hops: &[Hop]) -> IpAddr {
        let mut current = peer;
        for h in hops.iter().rev() {
            match h {
                Hop::Trusted(n) => current = IpAddr::V4(Ipv4Addr::new(10, 0, 0, *n)),
                Hop::Untrusted(n) => return IpAddr::V4(Ipv4Addr::from(*n)),
                Hop::Bad(_) => return current,
            }
        }
        current
    }

    proptest! {
        /// Any bytes in any number of lines, for either header: no panic, and a trusted peer
        /// yields a client address.
        #[test]
        fn any_header_bytes_never_panic(
            lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..4),
        ) {
            for c in [xff(), fwd()] {
                let mut b = http::Request::builder();
                for line in &lines {
                    if let Ok(v) = HeaderValue::from_bytes(line) {
                        b = b.header("x-forwarded-for", v.clone()).header("forwarded", v);
                    }
                }
                let (mut p, ()) = b.body(()).unwrap().into_parts();
                p.extensions.insert("10.0.0.1:1".parse::<SocketAddr>().unwrap());
                prop_assert!(c.resolve(&p).is_some());
                prop_assert!(c.key_network(&p).is_some());
            }
        }

        /// The chosen client is the model's: in particular it is a trusted proxy only when
        /// every hop is trusted or a trusted proxy wrote an element naming no address; a
        /// client-sent left part (any hops, split over lines anywhere) never changes it once
        /// an untrusted hop is to its right.
        #[test]
        fn the_client_is_the_rightmost_untrusted_hop(
            hops in proptest::collection::vec(hop(), 0..8),
            cut in 0usize..8,
            forwarded in any::<bool>(),
        ) {
            let c = if forwarded { fwd() } else { xff() };
            let name = if forwarded { "forwarded" } else { "x-forwarded-for" };
            let rendered: Vec<Vec<u8>> = hops.iter().map(|h| render(h, forwarded)).collect();
            let cut = cut.min(rendered.len());
            let mut b = http::Request::builder();
            for part in [&rendered[..cut], &rendered[cut..]] {
                if !part.is_empty() {
                    b = b.header(name, HeaderValue::from_bytes(&part.join(b", ".as_slice())).unwrap());
                }
            }
            let (mut p, ()) = b.body(()).unwrap().into_parts();
            p.extensions.insert("10.0.0.1:1".parse::<SocketAddr>().unwrap());
            let peer = ip("10.0.0.1");
            let chosen = c.resolve(&p).unwrap();
            prop_assert_eq!(chosen, model(peer, &hops));
            let all_trusted = hops.iter().all(|h| matches!(h, Hop::Trusted(_)));
            let stopped = hops.iter().rev().take_while(|h| !matches!(h, Hop::Untrusted(_))).any(|h| matches!(h, Hop::Bad(_)));
            if c.is_trusted(chosen) {
                prop_assert!(all_trusted || stopped);
            }
        }
    }
}
