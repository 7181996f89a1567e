//! Property: any address in a refused range, written in any form the `url` crate accepts
//! (dotted, decimal, octal, hex, mixed per part, short IPv4 forms, IPv4-mapped, -compatible,
//! 6to4, NAT64 and Teredo IPv6), is refused; and the spelling never changes the verdict.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{Ipv4Addr, Ipv6Addr};

use palisade_sanitize::ip::{BLOCKED_IPV4, BLOCKED_IPV6, check_ip};
use palisade_sanitize::url::{BlockReason, UrlError, UrlPolicy};
use proptest::prelude::*;

/// An address inside one of the refused IPv4 ranges.
fn blocked_v4() -> impl Strategy<Value = Ipv4Addr> {
    (0..BLOCKED_IPV4.len(), any::<u32>()).prop_map(|(i, r)| {
        let net = BLOCKED_IPV4[i].net;
        let host_mask = u32::from(net.hostmask());
        Ipv4Addr::from(u32::from(net.network()) | (r & host_mask))
    })
}

/// An address inside one of the refused IPv6 ranges.
fn blocked_v6() -> impl Strategy<Value = Ipv6Addr> {
    (0..BLOCKED_IPV6.len(), any::<u128>()).prop_map(|(i, r)| {
        let net = BLOCKED_IPV6[i].net;
        let host_mask = u128::from(net.hostmask());
        Ipv6Addr::from(u128::from(net.network()) | (r & host_mask))
    })
}

/// One IPv4 part in decimal, octal (`0` prefix) or hex (`0x`/`0X` prefix, any case).
fn part(value: u32, style: u8) -> String {
    match style % 5 {
        0 => format!("{value}"),
        1 => format!("0{value:o}"),
        2 => format!("0x{value:x}"),
        3 => format!("0X{value:X}"),
        _ => format!("0x{value:08x}"),
    }
}

/// `addr` written as a URL host in one of the forms the URL Standard's IPv4 parser accepts.
fn spell_v4(addr: Ipv4Addr, form: u8, styles: [u8; 4], trailing_dot: bool) -> String {
    let [a, b, c, d] = addr.octets().map(u32::from);
    let n = u32::from(addr);
    let host = match form % 4 {
        // a.b.c.d, each part in its own base
        0 => [a, b, c, d]
            .iter()
            .zip(styles)
            .map(|(v, s)| part(*v, s))
            .collect::<Vec<_>>()
            .join("."),
        // a.b.cd (last part 16 bits)
        1 => format!(
            "{}.{}.{}",
            part(a, styles[0]),
            part(b, styles[1]),
            part((c << 8) | d, styles[2])
        ),
        // a.bcd (last part 24 bits)
        2 => format!(
            "{}.{}",
            part(a, styles[0]),
            part(n & 0x00ff_ffff, styles[1])
        ),
        // one 32-bit number
        _ => part(n, styles[0]),
    };
    if trailing_dot {
        format!("{host}.")
    } else {
        host
    }
}

/// `addr` carried in IPv6, in one of the embeddings that are re-checked as IPv4.
fn embed_v4(addr: Ipv4Addr, how: u8) -> String {
    let n = u32::from(addr);
    let (hi, lo) = (n >> 16, n & 0xffff);
    match how % 6 {
        0 => format!("[::ffff:{addr}]"),
        1 => format!("[::FFFF:{hi:x}:{lo:x}]"),
        2 => format!("[::{addr}]"),
        3 => format!("[2002:{hi:x}:{lo:x}::1]"),
        4 => format!("[64:ff9b::{addr}]"),
        _ => {
            let inv = !n;
            format!(
                "[2001:0:4136:e378:8000:63bf:{:x}:{:x}]",
                inv >> 16,
                inv & 0xffff
            )
        }
    }
}

#[track_caller]
fn assert_address_refused(url: &str) {
    match UrlPolicy::new().check(url) {
        Err(UrlError::Blocked {
            reason: BlockReason::Address(_),
        }) => {}
        other => panic!("{url}: expected an address refusal, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn blocked_ipv4_in_any_spelling_is_refused(
        addr in blocked_v4(),
        form in any::<u8>(),
        styles in any::<[u8; 4]>(),
        dot in any::<bool>(),
        scheme in prop::sample::select(vec!["http", "https", "HTTP"]),
    ) {
        let url = format!("{scheme}://{}/x", spell_v4(addr, form, styles, dot));
        assert_address_refused(&url);
        // The url crate saw the same address.
        let parsed = url::Url::parse(&url).unwrap();
        prop_assert_eq!(parsed.host(), Some(url::Host::Ipv4(addr)));
    }

    #[test]
    fn blocked_ipv4_embedded_in_ipv6_is_refused(addr in blocked_v4(), how in any::<u8>()) {
        assert_address_refused(&format!("http://{}/", embed_v4(addr, how)));
    }

    #[test]
    fn blocked_ipv6_is_refused(addr in blocked_v6(), upper in any::<bool>()) {
        let host = if upper { addr.to_string().to_uppercase() } else { addr.to_string() };
        assert_address_refused(&format!("http://[{host}]:80/"));
    }

    /// Any IPv4 address: every spelling gets the verdict of its dotted form, which is
    /// `check_ip`'s (so public addresses pass in every spelling too).
    #[test]
    fn spelling_never_changes_the_verdict(
        n in any::<u32>(),
        form in any::<u8>(),
        styles in any::<[u8; 4]>(),
        dot in any::<bool>(),
    ) {
        let addr = Ipv4Addr::from(n);
        let policy = UrlPolicy::new();
        let dotted = policy.check(&format!("http://{addr}/")).is_ok();
        let spelled = policy.check(&format!("http://{}/", spell_v4(addr, form, styles, dot))).is_ok();
        prop_assert_eq!(dotted, spelled);
        prop_assert_eq!(dotted, check_ip(addr.into()).is_ok());
        // Mapped and NAT64 forms reach the IPv4 address itself: same verdict.
        prop_assert_eq!(dotted, policy.check(&format!("http://[::ffff:{addr}]/")).is_ok());
        prop_assert_eq!(dotted, policy.check(&format!("http://[64:ff9b::{addr}]/")).is_ok());
    }
}
