//! Which IP addresses an outbound request may reach: every special-purpose range refused, and
//! IPv4 addresses embedded in IPv6 re-checked as IPv4.
//!
//! The ranges are those of the IANA registries, taken whole (fail closed: an entry is refused
//! even where the registry marks it globally reachable, such as the AS112 and AMT anycast
//! blocks), plus the ranges outside them that no public server lives in:
//!
//! - IANA IPv4 Special-Purpose Address Registry
//!   (<https://www.iana.org/assignments/iana-ipv4-special-registry/>), plus multicast
//!   `224.0.0.0/4` (RFC 5771).
//! - IANA IPv6 Special-Purpose Address Registry
//!   (<https://www.iana.org/assignments/iana-ipv6-special-registry/>), plus multicast
//!   `ff00::/8` (RFC 4291), the deprecated site-local `fec0::/10` (RFC 3879) and
//!   IPv4-compatible `::/96` (RFC 4291 §2.5.5.1); and any IPv6 address outside global unicast
//!   `2000::/3` (the IANA IPv6 Address Space registry reserves the rest to the IETF), except
//!   the IPv4-mapped and NAT64 forms re-checked below.
//!
//! IPv4 inside IPv6 is re-checked as IPv4: IPv4-mapped `::ffff:0:0/96`, IPv4-compatible
//! `::/96`, 6to4 `2002::/16` (RFC 3056, bits 16–47), Teredo `2001::/32` (RFC 4380: the server
//! in bits 32–63 and the client, inverted, in the last 32 bits), NAT64 `64:ff9b::/96`
//! (RFC 6052, the last 32 bits) and the local-use `64:ff9b:1::/48` (RFC 8215, in RFC 6052's
//! /48 layout: bits 48–63 and 72–87).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// One refused range: the network, what it is and the document that defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialRange<N: 'static> {
    /// The network.
    pub net: N,
    /// What it is, as the registry names it (`"Loopback"`, `"Private-Use"`, …).
    pub name: &'static str,
    /// The defining document (`"RFC 1122"`).
    pub rfc: &'static str,
}

const fn v4(
    a: u8,
    b: u8,
    c: u8,
    d: u8,
    len: u8,
    name: &'static str,
    rfc: &'static str,
) -> SpecialRange<Ipv4Net> {
    SpecialRange {
        net: Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len),
        name,
        rfc,
    }
}

const fn v6(s: [u16; 8], len: u8, name: &'static str, rfc: &'static str) -> SpecialRange<Ipv6Net> {
    let [a, b, c, d, e, f, g, h] = s;
    SpecialRange {
        net: Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), len),
        name,
        rfc,
    }
}

/// The refused IPv4 ranges, most specific first (so an address is reported under the
/// narrowest entry that holds it).
pub const BLOCKED_IPV4: [SpecialRange<Ipv4Net>; 26] = [
    v4(0, 0, 0, 0, 32, "\"This host on this network\"", "RFC 1122"),
    v4(192, 0, 0, 8, 32, "IPv4 dummy address", "RFC 7600"),
    v4(
        192,
        0,
        0,
        9,
        32,
        "Port Control Protocol Anycast",
        "RFC 7723",
    ),
    v4(
        192,
        0,
        0,
        10,
        32,
        "Traversal Using Relays around NAT Anycast",
        "RFC 8155",
    ),
    v4(192, 0, 0, 170, 32, "NAT64/DNS64 Discovery", "RFC 8880"),
    v4(192, 0, 0, 171, 32, "NAT64/DNS64 Discovery", "RFC 8880"),
    v4(255, 255, 255, 255, 32, "Limited Broadcast", "RFC 8190"),
    v4(
        192,
        0,
        0,
        0,
        29,
        "IPv4 Service Continuity Prefix",
        "RFC 7335",
    ),
    v4(0, 0, 0, 0, 8, "\"This network\"", "RFC 791"),
    v4(10, 0, 0, 0, 8, "Private-Use", "RFC 1918"),
    v4(
        100,
        64,
        0,
        0,
        10,
        "Shared Address Space (CGNAT)",
        "RFC 6598",
    ),
    v4(127, 0, 0, 0, 8, "Loopback", "RFC 1122"),
    v4(
        169,
        254,
        0,
        0,
        16,
        "Link Local (cloud metadata)",
        "RFC 3927",
    ),
    v4(172, 16, 0, 0, 12, "Private-Use", "RFC 1918"),
    v4(192, 0, 0, 0, 24, "IETF Protocol Assignments", "RFC 6890"),
    v4(192, 0, 2, 0, 24, "Documentation (TEST-NET-1)", "RFC 5737"),
    v4(192, 31, 196, 0, 24, "AS112-v4", "RFC 7535"),
    v4(192, 52, 193, 0, 24, "AMT", "RFC 7450"),
    v4(
        192,
        88,
        99,
        0,
        24,
        "Deprecated (6to4 Relay Anycast)",
        "RFC 7526",
    ),
    v4(192, 168, 0, 0, 16, "Private-Use", "RFC 1918"),
    v4(
        192,
        175,
        48,
        0,
        24,
        "Direct Delegation AS112 Service",
        "RFC 7534",
    ),
    v4(198, 18, 0, 0, 15, "Benchmarking", "RFC 2544"),
    v4(
        198,
        51,
        100,
        0,
        24,
        "Documentation (TEST-NET-2)",
        "RFC 5737",
    ),
    v4(203, 0, 113, 0, 24, "Documentation (TEST-NET-3)", "RFC 5737"),
    v4(224, 0, 0, 0, 4, "Multicast", "RFC 5771"),
    v4(240, 0, 0, 0, 4, "Reserved", "RFC 1112"),
];

/// The refused IPv6 ranges, most specific first. IPv4-mapped, NAT64 and 6to4 addresses are
/// not listed: [`check_ip`] re-checks their IPv4 address instead.
pub const BLOCKED_IPV6: [SpecialRange<Ipv6Net>; 25] = [
    v6(
        [0, 0, 0, 0, 0, 0, 0, 0],
        128,
        "Unspecified Address",
        "RFC 4291",
    ),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 1],
        128,
        "Loopback Address",
        "RFC 4291",
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 1],
        128,
        "Port Control Protocol Anycast",
        "RFC 7723",
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 2],
        128,
        "Traversal Using Relays around NAT Anycast",
        "RFC 8155",
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 3],
        128,
        "DNS-SD Service Registration Protocol Anycast",
        "RFC 9665",
    ),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 0],
        96,
        "IPv4-compatible (deprecated)",
        "RFC 4291",
    ),
    v6(
        [0x100, 0, 0, 0, 0, 0, 0, 0],
        64,
        "Discard-Only Address Block",
        "RFC 6666",
    ),
    v6(
        [0x100, 0, 0, 1, 0, 0, 0, 0],
        64,
        "Dummy IPv6 Prefix",
        "RFC 9780",
    ),
    v6(
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        "Local-use IPv4/IPv6 Translation",
        "RFC 8215",
    ),
    v6(
        [0x2001, 2, 0, 0, 0, 0, 0, 0],
        48,
        "Benchmarking",
        "RFC 5180",
    ),
    v6(
        [0x2001, 4, 0x112, 0, 0, 0, 0, 0],
        48,
        "AS112-v6",
        "RFC 7535",
    ),
    v6(
        [0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0],
        48,
        "Direct Delegation AS112 Service",
        "RFC 7534",
    ),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "TEREDO", "RFC 4380"),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, "AMT", "RFC 7450"),
    v6(
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        "Documentation",
        "RFC 3849",
    ),
    v6(
        [0x2001, 0x10, 0, 0, 0, 0, 0, 0],
        28,
        "Deprecated (previously ORCHID)",
        "RFC 4843",
    ),
    v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, "ORCHIDv2", "RFC 7343"),
    v6(
        [0x2001, 0x30, 0, 0, 0, 0, 0, 0],
        28,
        "Drone Remote ID Protocol Entity Tags (DETs) Prefix",
        "RFC 9374",
    ),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF Protocol Assignments",
        "RFC 2928",
    ),
    v6(
        [0x3fff, 0, 0, 0, 0, 0, 0, 0],
        20,
        "Documentation",
        "RFC 9637",
    ),
    v6(
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        "Segment Routing (SRv6) SIDs",
        "RFC 9602",
    ),
    v6(
        [0xfe80, 0, 0, 0, 0, 0, 0, 0],
        10,
        "Link-Local Unicast",
        "RFC 4291",
    ),
    v6(
        [0xfec0, 0, 0, 0, 0, 0, 0, 0],
        10,
        "Site-Local Unicast (deprecated)",
        "RFC 3879",
    ),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "Unique-Local", "RFC 4193"),
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "Multicast", "RFC 4291"),
];

/// `2000::/3`, global unicast (RFC 4291 §2.4, IANA IPv6 Address Space registry).
const GLOBAL_UNICAST: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// How an IPv4 address is carried in an IPv6 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Embedding {
    /// `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2).
    Ipv4Mapped,
    /// `::a.b.c.d` (RFC 4291 §2.5.5.1, deprecated).
    Ipv4Compatible,
    /// `2002:aabb:ccdd::/48` (RFC 3056).
    SixToFour,
    /// Teredo's server address, bits 32–63 of `2001::/32` (RFC 4380).
    TeredoServer,
    /// Teredo's client address, the last 32 bits of `2001::/32` inverted (RFC 4380).
    TeredoClient,
    /// `64:ff9b::a.b.c.d` (RFC 6052 well-known prefix).
    Nat64,
    /// `64:ff9b:1::/48` in RFC 6052's /48 layout (RFC 8215 local-use prefix).
    Nat64LocalUse,
}

impl fmt::Display for Embedding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ipv4Mapped => "IPv4-mapped",
            Self::Ipv4Compatible => "IPv4-compatible",
            Self::SixToFour => "6to4",
            Self::TeredoServer => "Teredo server",
            Self::TeredoClient => "Teredo client",
            Self::Nat64 => "NAT64",
            Self::Nat64LocalUse => "local-use NAT64",
        })
    }
}

/// Why an IP address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpBlock {
    /// The IPv4 address is in a refused range.
    V4 {
        /// The address.
        addr: Ipv4Addr,
        /// The range holding it.
        range: SpecialRange<Ipv4Net>,
    },
    /// The IPv6 address is in a refused range.
    V6 {
        /// The address.
        addr: Ipv6Addr,
        /// The range holding it.
        range: SpecialRange<Ipv6Net>,
    },
    /// The IPv6 address carries an IPv4 address that is in a refused range.
    Embedded {
        /// The IPv6 address.
        addr: Ipv6Addr,
        /// How the IPv4 address is carried.
        via: Embedding,
        /// The IPv4 address.
        ipv4: Ipv4Addr,
        /// The range holding the IPv4 address.
        range: SpecialRange<Ipv4Net>,
    },
    /// The IPv6 address is outside global unicast `2000::/3` (reserved by the IETF in the IANA
    /// IPv6 Address Space registry) and is no IPv4-mapped or NAT64 form.
    NotGlobalUnicast {
        /// The address.
        addr: Ipv6Addr,
    },
}

impl fmt::Display for IpBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::V4 { addr, range } => write!(
                f,
                "{addr} is in {} {} ({})",
                range.net, range.name, range.rfc
            ),
            Self::V6 { addr, range } => write!(
                f,
                "{addr} is in {} {} ({})",
                range.net, range.name, range.rfc
            ),
            Self::Embedded {
                addr,
                via,
                ipv4,
                range,
            } => write!(
                f,
                "{addr} carries {via} IPv4 {ipv4}, in {} {} ({})",
                range.net, range.name, range.rfc
            ),
            Self::NotGlobalUnicast { addr } => write!(
                f,
                "{addr} is outside global unicast 2000::/3 (reserved by the IETF, RFC 4291)"
            ),
        }
    }
}

/// Checks an IPv4 address against [`BLOCKED_IPV4`].
///
/// # Errors
/// [`IpBlock::V4`] with the narrowest refused range holding `addr`.
pub fn check_ipv4(addr: Ipv4Addr) -> Result<(), IpBlock> {
    match BLOCKED_IPV4.iter().find(|r| r.net.contains(&addr)) {
        Some(range) => Err(IpBlock::V4 {
            addr,
            range: *range,
        }),
        None => Ok(()),
    }
}

/// The IPv4 addresses carried in `addr`, with how each is carried (at most two, for Teredo).
pub fn embedded_ipv4(addr: Ipv6Addr) -> impl Iterator<Item = (Embedding, Ipv4Addr)> {
    let s = addr.segments();
    let bits = u128::from(addr);
    let low32 = Ipv4Addr::from(bits as u32);
    let mut first = None;
    let mut second = None;
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => first = Some((Embedding::Ipv4Mapped, low32)),
        // `::` and `::1` are the unspecified and loopback addresses, not IPv4-compatible.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => {
            first = Some((Embedding::Ipv4Compatible, low32));
        }
        [0x2002, hi, lo, ..] => {
            first = Some((
                Embedding::SixToFour,
                Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)),
            ));
        }
        [0x2001, 0, hi, lo, ..] => {
            first = Some((
                Embedding::TeredoServer,
                Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)),
            ));
            second = Some((Embedding::TeredoClient, Ipv4Addr::from(!(bits as u32))));
        }
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => first = Some((Embedding::Nat64, low32)),
        [0x64, 0xff9b, 1, hi, ..] => {
            first = Some((
                Embedding::Nat64LocalUse,
                Ipv4Addr::from((u32::from(hi) << 16) | u32::from(rfc6052_48_low(s))),
            ));
        }
        _ => {}
    }
    first.into_iter().chain(second)
}

/// The low 16 bits of the IPv4 address in RFC 6052's /48 layout: address bits 72–87, that is
/// the low byte of segment 4 followed by the high byte of segment 5.
fn rfc6052_48_low(s: [u16; 8]) -> u16 {
    let [_, _, _, _, s4, s5, _, _] = s;
    ((s4 & 0x00ff) << 8) | (s5 >> 8)
}

/// Checks an IP address: IPv4 against [`BLOCKED_IPV4`]; IPv6 by first re-checking any IPv4
/// address it carries ([`embedded_ipv4`]), then against [`BLOCKED_IPV6`] and global unicast.
///
/// IPv4-mapped (`::ffff:8.8.8.8`), NAT64 (`64:ff9b::8.8.8.8`) and 6to4 addresses of public
/// IPv4 addresses pass: they reach that public address. IPv4-compatible, Teredo and local-use
/// NAT64 addresses are refused whatever they carry (deprecated or not globally reachable).
///
/// # Errors
/// The [`IpBlock`] saying which range holds the address (or the IPv4 address it carries).
pub fn check_ip(addr: IpAddr) -> Result<(), IpBlock> {
    match addr {
        IpAddr::V4(v4) => check_ipv4(v4),
        IpAddr::V6(v6) => check_ipv6(v6),
    }
}

/// Checks an IPv6 address: see [`check_ip`].
///
/// # Errors
/// As [`check_ip`].
pub fn check_ipv6(addr: Ipv6Addr) -> Result<(), IpBlock> {
    for (via, ipv4) in embedded_ipv4(addr) {
        if let Err(IpBlock::V4 { range, .. }) = check_ipv4(ipv4) {
            return Err(IpBlock::Embedded {
                addr,
                via,
                ipv4,
                range,
            });
        }
    }
    let s = addr.segments();
    // Mapped and well-known-prefix NAT64 addresses of public IPv4 addresses reach that address.
    if matches!(
        s,
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0x64, 0xff9b, 0, 0, 0, 0, _, _]
    ) {
        return Ok(());
    }
    if let Some(range) = BLOCKED_IPV6.iter().find(|r| r.net.contains(&addr)) {
        return Err(IpBlock::V6 {
            addr,
            range: *range,
        });
    }
    if !GLOBAL_UNICAST.contains(&addr) {
        return Err(IpBlock::NotGlobalUnicast { addr });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(s: &str) -> bool {
        check_ip(s.parse().unwrap()).is_err()
    }

    #[test]
    fn ranges_are_normalized() {
        for r in BLOCKED_IPV4 {
            assert_eq!(r.net, r.net.trunc(), "{}", r.net);
        }
        for r in BLOCKED_IPV6 {
            assert_eq!(r.net, r.net.trunc(), "{}", r.net);
        }
    }

    #[test]
    fn public_addresses_pass() {
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700:4700::1111",
            "2a00:1450:4007:80e::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert!(!blocked(a), "{a}");
        }
    }

    #[test]
    fn embedded_forms_are_decoded() {
        let teredo: Ipv6Addr = "2001:0000:4136:e378:8000:63bf:3f57:fdf2".parse().unwrap();
        let got: Vec<_> = embedded_ipv4(teredo).collect();
        assert_eq!(
            got,
            [
                (Embedding::TeredoServer, Ipv4Addr::new(65, 54, 227, 120)),
                (Embedding::TeredoClient, Ipv4Addr::new(192, 168, 2, 13)),
            ]
        );
        let local: Ipv6Addr = "64:ff9b:1:c0a8:1:100::".parse().unwrap();
        assert_eq!(
            embedded_ipv4(local).collect::<Vec<_>>(),
            [(Embedding::Nat64LocalUse, Ipv4Addr::new(192, 168, 1, 1))]
        );
        let six: Ipv6Addr = "2002:c0a8:ffff::".parse().unwrap();
        assert_eq!(
            embedded_ipv4(six).collect::<Vec<_>>(),
            [(Embedding::SixToFour, Ipv4Addr::new(192, 168, 255, 255))]
        );
    }

    /// `::` and `::1` are the unspecified and loopback addresses, not IPv4-compatible ones;
    /// every other `::a.b.c.d` is.
    #[test]
    fn ipv4_compatible_excludes_unspecified_and_loopback() {
        let v = |s: &str| embedded_ipv4(s.parse().unwrap()).collect::<Vec<_>>();
        assert_eq!(v("::"), []);
        assert_eq!(v("::1"), []);
        let compatible = |a, b, c, d| [(Embedding::Ipv4Compatible, Ipv4Addr::new(a, b, c, d))];
        assert_eq!(v("::2"), compatible(0, 0, 0, 2));
        assert_eq!(v("::1:0"), compatible(0, 1, 0, 0));
        assert_eq!(v("::1:1"), compatible(0, 1, 0, 1));
        assert_eq!(v("::8.8.8.8"), compatible(8, 8, 8, 8));
        // `::1` is refused as IPv6 loopback, not as an embedded IPv4 address.
        assert!(matches!(
            check_ip("::1".parse().unwrap()),
            Err(IpBlock::V6 { .. })
        ));
    }

    #[test]
    fn embeddings_are_named_as_their_rfcs_name_them() {
        let names = [
            (Embedding::Ipv4Mapped, "IPv4-mapped"),
            (Embedding::Ipv4Compatible, "IPv4-compatible"),
            (Embedding::SixToFour, "6to4"),
            (Embedding::TeredoServer, "Teredo server"),
            (Embedding::TeredoClient, "Teredo client"),
            (Embedding::Nat64, "NAT64"),
            (Embedding::Nat64LocalUse, "local-use NAT64"),
        ];
        for (embedding, name) in names {
            assert_eq!(embedding.to_string(), name);
        }
    }

    #[test]
    fn embedded_private_is_reported_as_embedded() {
        let err = check_ip("::ffff:169.254.169.254".parse().unwrap()).unwrap_err();
        assert!(matches!(
            err,
            IpBlock::Embedded {
                via: Embedding::Ipv4Mapped,
                ..
            }
        ));
        assert!(err.to_string().contains("169.254.169.254"), "{err}");
    }
}
