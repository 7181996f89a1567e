//! The client's address, never in clear: a truncated network or a keyed hash.

use std::fmt;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use palisade_pii::{BlindIndex, Keyring, Normalizer};
use palisade_rbac::TenantId;

use crate::error::AuditError;

/// The prefix kept of an IPv4 address by [`ClientAddress::truncated`].
pub const IPV4_PREFIX: u8 = 24;
/// The prefix kept of an IPv6 address by [`ClientAddress::truncated`].
pub const IPV6_PREFIX: u8 = 48;
/// The bits of the keyed hash of [`ClientAddress::keyed`].
pub const KEYED_BITS: u16 = 64;

/// Where a request came from, in one of two forms that are not the address itself:
///
/// - `net:203.0.113.0/24`: the network, IPv4 truncated to /24 and IPv6 to /48 (an
///   IPv4-mapped IPv6 address counts as IPv4), the usual anonymization of web analytics;
/// - `hmac:<16 hex digits>`: a 64-bit keyed hash, a `palisade-pii` blind index of the
///   address (table `palisade_audit`, column `client_address`, the tenant as its tenant),
///   equal for equal addresses of one tenant and meaningless without the index key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientAddress {
    /// The truncated network.
    Network(IpNet),
    /// The keyed hash, lowercase hex.
    Keyed(Box<str>),
}

impl ClientAddress {
    /// The address's network (/24 or /48).
    pub fn truncated(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let net = match ip {
            IpAddr::V4(v4) => Ipv4Net::new_assert(v4, IPV4_PREFIX).trunc().into(),
            IpAddr::V6(v6) => Ipv6Net::new_assert(v6, IPV6_PREFIX).trunc().into(),
        };
        Self::Network(net)
    }

    /// The address's keyed hash under `keyring`'s primary index key, for `tenant`.
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidKey`] when the keyring cannot compute a blind index.
    pub fn keyed(keyring: &Keyring, tenant: &TenantId, ip: IpAddr) -> Result<Self, AuditError> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let index = BlindIndex::new("palisade_audit", "client_address", Normalizer::Exact)
            .with_bits(KEYED_BITS)
            .map_err(|_| AuditError::InvalidKey {
                reason: "blind index definition",
            })?;
        let value = keyring
            .blind_index(&index, tenant.as_str(), &ip.to_string())
            .map_err(|_| AuditError::InvalidKey {
                reason: "the keyring has no usable index key",
            })?;
        Ok(Self::Keyed(value.to_hex().into()))
    }

    /// Parses the text form (`net:…` or `hmac:…`), refusing a network of another prefix
    /// length or with host bits set, and a hash that is not 16 lowercase hex digits.
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidField`] (`client`).
    pub fn parse(text: &str) -> Result<Self, AuditError> {
        let bad = |reason| AuditError::field("client", reason);
        if let Some(net) = text.strip_prefix("net:") {
            let net: IpNet = net.parse().map_err(|_| bad("not a network"))?;
            let expected = match net {
                IpNet::V4(_) => IPV4_PREFIX,
                IpNet::V6(_) => IPV6_PREFIX,
            };
            if net.prefix_len() != expected || net.trunc() != net {
                return Err(bad("not a /24 or /48 network"));
            }
            return Ok(Self::Network(net));
        }
        if let Some(h) = text.strip_prefix("hmac:") {
            let ok = h.len() == usize::from(KEYED_BITS / 4)
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            return if ok {
                Ok(Self::Keyed(h.into()))
            } else {
                Err(bad("not 16 lowercase hex digits"))
            };
        }
        Err(bad("expected net: or hmac:"))
    }
}

impl fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network(net) => write!(f, "net:{net}"),
            Self::Keyed(h) => write!(f, "hmac:{h}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_the_network_only() {
        let v4 = ClientAddress::truncated("203.0.113.77".parse().unwrap());
        assert_eq!(v4.to_string(), "net:203.0.113.0/24");
        let mapped = ClientAddress::truncated("::ffff:203.0.113.77".parse().unwrap());
        assert_eq!(mapped, v4);
        let v6 = ClientAddress::truncated("2001:db8:1234:5678::1".parse().unwrap());
        assert_eq!(v6.to_string(), "net:2001:db8:1234::/48");
        assert_eq!(ClientAddress::parse(&v6.to_string()), Ok(v6));
        assert!(ClientAddress::parse("net:203.0.113.77/24").is_err());
        assert!(ClientAddress::parse("net:203.0.113.77/32").is_err());
        assert!(ClientAddress::parse("203.0.113.77").is_err());
    }

    #[test]
    fn keyed_hashes_are_per_tenant_and_stable() {
        let keyring = Keyring::generate().unwrap();
        let t1 = TenantId::new("t1").unwrap();
        let t2 = TenantId::new("t2").unwrap();
        let ip: IpAddr = "198.51.100.4".parse().unwrap();
        let a = ClientAddress::keyed(&keyring, &t1, ip).unwrap();
        assert_eq!(a, ClientAddress::keyed(&keyring, &t1, ip).unwrap());
        assert_ne!(a, ClientAddress::keyed(&keyring, &t2, ip).unwrap());
        let text = a.to_string();
        assert!(text.starts_with("hmac:") && text.len() == 21, "{text}");
        assert!(!text.contains("198.51"));
        assert_eq!(ClientAddress::parse(&text), Ok(a));
        assert!(ClientAddress::parse("hmac:ABCDEF0123456789").is_err());
    }
}
