//! The client's IP address: from the socket, or from a proxy header set by a trusted proxy.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use http::HeaderMap;
use http::request::Parts;

use crate::TowerError;

/// An IP network (`address/prefix`), for the list of trusted proxies.
///
/// Parsed from CIDR notation (`10.0.0.0/8`, `2001:db8::/32`) or a single address (`127.0.0.1`,
/// which means `/32`, or `/128` for IPv6). Host bits below the prefix are ignored. IPv4-mapped
/// IPv6 addresses (`::ffff:10.0.0.1`) are compared as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// The network of `addr` with a `prefix`-bit mask.
    ///
    /// # Errors
    /// [`TowerError::InvalidNetwork`] when `prefix` exceeds 32 (IPv4) or 128 (IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, TowerError> {
        let addr = canonical(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(TowerError::InvalidNetwork {
                network: format!("{addr}/{prefix}"),
                reason: "prefix longer than the address",
            });
        }
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNetwork {
    type Err = TowerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| TowerError::InvalidNetwork {
            network: s.to_owned(),
            reason,
        };
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| invalid("not an IP address"))?;
        let addr = canonical(addr);
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .map_err(|_| invalid("prefix not a number"))?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        Self::new(addr, prefix).map_err(|_| invalid("prefix longer than the address"))
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

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

/// How to find the client's IP address.
///
/// 1. **The peer**: the socket address of the connection. By default it is read from the
///    request extensions as a [`SocketAddr`] (what `hyper-util` users insert, and what a
///    `tonic` or custom server can insert); for axum, whose `ConnectInfo<SocketAddr>` wraps it,
///    give [`ClientIp::with_peer`] a closure:
///    `|p| p.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())`.
/// 2. **Proxy headers are used only when the peer is a trusted proxy** (in one of the
///    [`trusted`](ClientIp::trust) networks). Then the header's addresses are read **from the
///    right**, skipping those of trusted proxies; the first untrusted one is the client (the
///    left part of the header is whatever the client sent and cannot be believed). If every
///    address is trusted, the leftmost is taken. An entry that cannot be parsed
///    (`unknown`, an obfuscated `_name`) stops the walk, and the last trusted hop is used.
/// 3. From an untrusted peer, or with no trusted network configured, headers are ignored:
///    a client cannot choose its own rate-limit key by sending `X-Forwarded-For`.
///
/// When no peer address can be found, [`ClientIp::resolve`] returns `None`; the
/// [`RateLimitLayer`](crate::RateLimitLayer) then puts all such requests under one key.
#[derive(Clone, Default)]
pub struct ClientIp {
    trusted: Arc<[IpNetwork]>,
    header: ForwardedHeader,
    peer: Option<Arc<PeerFn>>,
}

impl fmt::Debug for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIp")
            .field("trusted", &self.trusted)
            .field("header", &self.header)
            .field("custom_peer", &self.peer.is_some())
            .finish()
    }
}

impl ClientIp {
    /// The peer address only (no proxy is trusted), read from a [`SocketAddr`] extension.
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
        self.trusted = networks.into_iter().collect();
        self.header = header;
        self
    }

    /// Reads the peer address with `peer` instead of the [`SocketAddr`] extension.
    #[must_use]
    pub fn with_peer<F>(mut self, peer: F) -> Self
    where
        F: Fn(&Parts) -> Option<IpAddr> + Send + Sync + 'static,
    {
        self.peer = Some(Arc::new(peer));
        self
    }

    /// The client address of a request, or `None` when the peer is unknown.
    pub fn resolve(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = match &self.peer {
            Some(f) => f(parts),
            None => parts.extensions.get::<SocketAddr>().map(SocketAddr::ip),
        }?;
        let peer = canonical(peer);
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        Some(self.walk_header(peer, &parts.headers))
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(ip))
    }

    /// Walks the header's hops from the right, starting at the trusted `peer`.
    fn walk_header(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let name = match self.header {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        };
        let mut hops: Vec<Option<IpAddr>> = Vec::new();
        for value in headers.get_all(name) {
            let Ok(value) = value.to_str() else {
                // Not visible ASCII: unusable from here to the left.
                hops.push(None);
                continue;
            };
            for element in value.split(',') {
                let hop = match self.header {
                    ForwardedHeader::XForwardedFor => parse_hop(element),
                    ForwardedHeader::Forwarded => forwarded_for(element),
                };
                hops.push(hop);
            }
        }
        let mut current = peer;
        for hop in hops.into_iter().rev() {
            let Some(ip) = hop else { return current };
            let ip = canonical(ip);
            if !self.is_trusted(ip) {
                return ip;
            }
            current = ip;
        }
        current
    }
}

/// The `for=` value of one `Forwarded` element (RFC 7239 §4), as an address.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("for") {
            parse_hop(v)
        } else {
            None
        }
    })
}

/// One hop: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`, `[2001:db8::1]:443`, optionally
/// quoted (`Forwarded`).
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s);
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
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

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder();
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (mut p, ()) = b.body(()).unwrap().into_parts();
        p.extensions.insert(peer.parse::<SocketAddr>().unwrap());
        p
    }

    #[test]
    fn networks_parse_and_match() {
        let n: IpNetwork = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        let all: IpNetwork = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let v6: IpNetwork = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNetwork>().is_err());
        assert!("nope".parse::<IpNetwork>().is_err());
        assert_eq!(
            "127.0.0.1".parse::<IpNetwork>().unwrap().to_string(),
            "127.0.0.1/32"
        );
    }

    #[test]
    fn rightmost_untrusted_hop_wins() {
        let c = ClientIp::new().trust(
            ["10.0.0.0/8".parse().unwrap()],
            ForwardedHeader::XForwardedFor,
        );
        let p = parts(
            "10.0.0.1:1",
            &[
                ("x-forwarded-for", "6.6.6.6, 203.0.113.9"),
                ("x-forwarded-for", "10.0.0.2"),
            ],
        );
        assert_eq!(c.resolve(&p), Some("203.0.113.9".parse().unwrap()));
        // Untrusted peer: the header is ignored.
        let p = parts("198.51.100.1:1", &[("x-forwarded-for", "6.6.6.6")]);
        assert_eq!(c.resolve(&p), Some("198.51.100.1".parse().unwrap()));
        // Garbage stops the walk at the last trusted hop.
        let p = parts(
            "10.0.0.1:1",
            &[("x-forwarded-for", "6.6.6.6, unknown, 10.0.0.3")],
        );
        assert_eq!(c.resolve(&p), Some("10.0.0.3".parse().unwrap()));
        // All trusted: the leftmost.
        let p = parts("10.0.0.1:1", &[("x-forwarded-for", "10.0.0.7, 10.0.0.3")]);
        assert_eq!(c.resolve(&p), Some("10.0.0.7".parse().unwrap()));
    }

    #[test]
    fn forwarded_header() {
        let c = ClientIp::new().trust(["10.0.0.0/8".parse().unwrap()], ForwardedHeader::Forwarded);
        let p = parts(
            "10.0.0.1:1",
            &[(
                "forwarded",
                r#"for=6.6.6.6, for="[2001:db8::1]:4711";proto=https, for=10.0.0.9:80"#,
            )],
        );
        assert_eq!(c.resolve(&p), Some("2001:db8::1".parse().unwrap()));
        let p = parts("10.0.0.1:1", &[("forwarded", "for=_hidden")]);
        assert_eq!(c.resolve(&p), Some("10.0.0.1".parse().unwrap()));
    }
}
