//! The SSRF bypass cases of three public filters' test suites, run against [`UrlPolicy`].
//!
//! Only the cases (URLs, addresses, expectations) are copied, not the code. Sources, at the
//! commits read:
//! - Go `safeurl`: doyensec/safeurl `client_test.go` (7600cc1e1f468b7fdd868f71abfe82b7b4fa9aff).
//! - Ruby `ssrf_filter`: arkadiyt/ssrf_filter `spec/lib/ssrf_filter_spec.rb` and the block lists
//!   of `lib/ssrf_filter/ssrf_filter.rb` (d401e9353a5f053c6a7252d53696cdc30ce837f2).
//! - Python `advocate`: JordanMilne/Advocate `test/test_advocate.py`
//!   (f65cbf925cacafded20bbb878776a543b6f2d21b).
//!
//! Where those libraries answer "blocked" for an address given to their address check, the
//! address is checked here as an IP-literal URL (`http://a.b.c.d/`, `http://[v6]/`) with the
//! default policy, and with [`check_ip`]. Deviations (cases where this crate is stricter) are
//! marked `DEVIATION` with the reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;
use palisade_sanitize::ip::check_ip;
use palisade_sanitize::url::{BlockReason, UrlError, UrlPolicy};

fn literal_url(addr: &str) -> String {
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => format!("http://[{addr}]/"),
        _ => format!("http://{addr}/"),
    }
}

#[track_caller]
fn assert_blocked(policy: &UrlPolicy, url: &str) -> BlockReason {
    match policy.check(url) {
        Err(UrlError::Blocked { reason }) => reason,
        other => panic!("{url:?}: expected Blocked, got {other:?}"),
    }
}

#[track_caller]
fn assert_addr_blocked(addr: &str) {
    let ip: IpAddr = addr.parse().unwrap();
    assert!(check_ip(ip).is_err(), "{addr} passed check_ip");
    let reason = assert_blocked(&UrlPolicy::new(), &literal_url(addr));
    assert!(
        matches!(reason, BlockReason::Address(_)),
        "{addr}: {reason:?}"
    );
}

#[track_caller]
fn assert_addr_allowed(addr: &str) {
    let ip: IpAddr = addr.parse().unwrap();
    assert_eq!(check_ip(ip), Ok(()), "{addr}");
    let url = literal_url(addr);
    assert!(UrlPolicy::new().check(&url).is_ok(), "{url}");
}

// --- Go safeurl (doyensec/safeurl, client_test.go) -------------------------------------------

/// `TestBlockedIP`: the default configuration refuses each of these hosts in `http://%v`.
#[test]
fn safeurl_blocked_ip() {
    let policy = UrlPolicy::new();
    for host in [
        "127.0.0.1",
        "[::1]",
        // decimal
        "2130706433",
        "3232235777",
        // octal
        "017700000001:80/",
        // hexadecimal
        "0x7f000001",
        "0xc0a80014",
        "0x0000007f.0x00000000.0x00000000.0x00000001",
        "0x7f.0x0.0x00000000.0x01",
        // malformed - uncommon format
        "[::]:80",
        "0/",
        "127.1",
        "0177.0x0.0x0.0x1",
        "0.0.0.0",
        "127.127.127.127",
        // ipv4-mapped IPv6
        "[::ffff:192.0.2.1]",
        // ipv6
        "[::]:80",
        "[0000::1]:80",
        "[::1]/server-status",
    ] {
        let reason = assert_blocked(&policy, &format!("http://{host}"));
        assert!(
            matches!(reason, BlockReason::Address(_)),
            "{host}: {reason:?}"
        );
    }
}

/// `TestBlockCIDRRange`: every address of `192.168.0.0/28` is refused.
#[test]
fn safeurl_block_cidr_range() {
    let net: Ipv4Net = "192.168.0.0/28".parse().unwrap();
    for ip in net.hosts().chain([net.network(), net.broadcast()]) {
        assert_addr_blocked(&ip.to_string());
    }
}

/// `TestBlockedPort` / `TestAllowedPort`: only the configured ports pass. (safeurl runs them
/// on 127.0.0.1 with loopback allowed; here on a public address, loopback staying refused.)
#[test]
fn safeurl_ports() {
    let policy = UrlPolicy::new().allow_port(8080);
    assert!(policy.check("http://93.184.216.34:8080/").is_ok());
    assert_eq!(
        assert_blocked(&policy, "http://93.184.216.34:8081/"),
        BlockReason::Port { port: 8081 }
    );
    // TestInternalIPAreAlwaysBlocked: the allowed port does not open loopback.
    let reason = assert_blocked(&policy, "http://127.0.0.1:8080");
    assert!(matches!(reason, BlockReason::Address(_)), "{reason:?}");
}

/// `TestAllowedHost` / `TestBlockedHost`: with an allowlist, only its hosts pass.
#[test]
fn safeurl_hosts() {
    let host = "example.com";
    let allowed = UrlPolicy::new().allow_host(host).unwrap();
    assert!(allowed.check(&format!("http://{host}")).is_ok());
    let other = UrlPolicy::new().allow_host(&format!("x{host}")).unwrap();
    assert!(matches!(
        assert_blocked(&other, &format!("http://{host}")),
        BlockReason::HostNotAllowed { .. }
    ));
}

/// `TestAllowedScheme` / `TestBlockedScheme`.
#[test]
fn safeurl_schemes() {
    let ftp_only = UrlPolicy::new().schemes(["ftp"]);
    assert!(ftp_only.check("ftp://example.com/").is_ok());
    assert_eq!(
        assert_blocked(&ftp_only, "http://example.com"),
        BlockReason::Scheme {
            scheme: "http".into()
        }
    );
}

/// `TestBlockedSendingCredentials`: `http://%v@service.test:8080` with user info refused.
#[test]
fn safeurl_credentials() {
    let policy = UrlPolicy::new()
        .allow_port(8080)
        .allow_host("service.test")
        .unwrap();
    for creds in ["user:pass", "u:pass", "user:p"] {
        assert_eq!(
            assert_blocked(&policy, &format!("http://{creds}@service.test:8080")),
            BlockReason::UserInfo
        );
    }
}

/// `TestInvalidHostValidation`: hosts that are empty or empty brackets.
#[test]
fn safeurl_invalid_hosts() {
    for url in ["http://[]", "http://[]:123", "http://:123"] {
        assert!(
            matches!(UrlPolicy::new().check(url), Err(UrlError::Parse(_))),
            "{url}"
        );
    }
}

// --- Ruby ssrf_filter (arkadiyt/ssrf_filter) ---------------------------------------------------

/// `IPV4_BLACKLIST` of `lib/ssrf_filter/ssrf_filter.rb`.
const SSRF_FILTER_IPV4: [&str; 15] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
];

/// `unsafe_ip_address?`: private and public IPv4 and IPv6 (the spec's `let`s).
#[test]
fn ssrf_filter_unsafe_ip_address() {
    assert_addr_blocked("127.0.0.1");
    assert_addr_allowed("172.217.6.78");
    assert_addr_blocked("::1");
    assert_addr_allowed("2606:2800:220:1:248:1893:25c8:1946");
}

/// "returns true for mapped/compat ipv4 addresses": the first and last address of every
/// `IPV4_BLACKLIST` block, IPv4-mapped and IPv4-compatible, refused; and the blocks as IPv4.
#[test]
fn ssrf_filter_mapped_and_compat() {
    for block in SSRF_FILTER_IPV4 {
        let net: Ipv4Net = block.parse().unwrap();
        for v4 in [net.network(), net.broadcast()] {
            assert_addr_blocked(&v4.to_string());
            assert_addr_blocked(&v4.to_ipv6_mapped().to_string());
            assert_addr_blocked(&v4.to_ipv6_compatible().to_string());
        }
    }
}

/// `IPV6_BLACKLIST` of `lib/ssrf_filter/ssrf_filter.rb`: the first address of each block.
/// DEVIATION: for `2002::/16` (6to4) ssrf_filter refuses the whole block; here its embedded
/// IPv4 address is re-checked (`2002::` carries 0.0.0.0, refused; a public one passes).
#[test]
fn ssrf_filter_ipv6_blacklist() {
    for addr in [
        "::1",
        "100::",
        "2001::",
        "2001:10::",
        "2001:20::",
        "2001:db8::",
        "2002::",
        "fc00::",
        "fe80::",
        "ff00::",
    ] {
        assert_addr_blocked(addr);
    }
}

/// "RFC 6052 /48 encoded private IPv4 addresses (nat64 local prefix)" are refused.
/// DEVIATION: ssrf_filter lets `64:ff9b:1:808:8:800::` (8.8.8.8) through; the IANA IPv6
/// registry marks `64:ff9b:1::/48` not globally reachable (RFC 8215, local use), so it is
/// refused here whatever it carries.
#[test]
fn ssrf_filter_nat64_local_prefix() {
    assert_addr_blocked("64:ff9b:1:a00:0:100::");
    assert_addr_blocked("64:ff9b:1:c0a8:1:100::");
    assert_addr_blocked("64:ff9b:1:808:8:800::");
}

/// `ipv4_from_rfc6052`: 10.0.0.1 in every RFC 6052 prefix length under `64:ff9b::`. The /96
/// form is the well-known prefix (re-checked: 10.0.0.1 refused); the others lie outside
/// `64:ff9b::/96` and global unicast, refused as such.
#[test]
fn ssrf_filter_rfc6052_layouts() {
    for addr in [
        "64:ff9b:a00:1::",
        "64:ff9b:10a:0:1::",
        "64:ff9b:1:a00:0:100::",
        "64:ff9b:0:a:0:1::",
        "64:ff9b::a00:1",
    ] {
        assert_addr_blocked(addr);
    }
    assert_addr_allowed("64:ff9b::808:808");
}

/// `get`: "fails if the scheme is not in the default whitelist", "… not in a custom
/// whitelist".
#[test]
fn ssrf_filter_schemes() {
    assert!(matches!(
        assert_blocked(&UrlPolicy::new(), "ftp://example.com"),
        BlockReason::Scheme { .. }
    ));
    let none: [&str; 0] = [];
    assert!(matches!(
        assert_blocked(&UrlPolicy::new().schemes(none), "https://example.com"),
        BlockReason::Scheme { .. }
    ));
}

/// "fails when the hostname or path contain linefeeds and carriage returns".
#[test]
fn ssrf_filter_crlf() {
    for url in [
        "https://www.exam\nple.com",
        "https://www.exam\rple.com",
        "https://www.example.com/te\nst",
        "https://www.example.com/te\rst",
    ] {
        assert!(matches!(
            assert_blocked(&UrlPolicy::new(), url),
            BlockReason::ControlCharacter { .. }
        ));
    }
}

// --- Python advocate (JordanMilne/Advocate, test/test_advocate.py) ------------------------------

/// `test_safecurl_blacklist`: addresses across each block. Advocate steps by
/// `min(max(size / 255, 1), 128)`, which is millions of addresses for the /4 blocks; here
/// ~255 addresses evenly spread over each block, and its last address.
#[test]
fn advocate_safecurl_blacklist() {
    for block in [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/29",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    ] {
        let net: Ipv4Net = block.parse().unwrap();
        let first = u32::from(net.network());
        let size = 1u64 << (32 - net.prefix_len());
        let step = (size / 255).max(1);
        let mut i = 0;
        while i < size {
            let ip = Ipv4Addr::from(first + i as u32);
            assert_addr_blocked(&ip.to_string());
            i += step;
        }
        assert_addr_blocked(&net.broadcast().to_string());
    }
}

/// `test_ipv4_mapped`, `test_teredo`, `test_sixtofour`, `test_dns64`, `test_link_local`,
/// `test_site_local`, `test_loopback`, `test_multicast`, `test_private`, `test_reserved`,
/// `test_unspecified`.
#[test]
fn advocate_ip_kinds() {
    for addr in [
        "::ffff:192.168.2.1",
        "2001:0000:4136:e378:8000:63bf:3f57:fdf2",
        "2002:C0A8:FFFF::",
        "64:ff9b::192.168.2.1",
        "169.254.1.1",
        "FEC0:CCCC::",
        "127.0.0.1",
        "::1",
        "227.1.1.1",
        "192.168.2.1",
        "10.5.5.5",
        "0.0.0.0",
        "0.1.1.1",
        "100.64.0.0",
        "255.255.255.255",
        "192.88.99.0",
    ] {
        assert_addr_blocked(addr);
    }
}

/// `test_parsed`, `test_manual_ip_blacklist`: public addresses pass the default check.
#[test]
fn advocate_public_addresses() {
    assert_addr_allowed("144.1.1.1");
    assert_addr_allowed("178.254.90.1");
    assert_addr_allowed("2607:f8b0:400a:807::200e");
}

/// `RequestsAPIWrapperTests`: `http://127.0.0.1/`, `http://localhost/`, `https://localhost/`
/// and their `:1` forms are refused.
#[test]
fn advocate_local_urls() {
    let policy = UrlPolicy::new();
    for url in [
        "http://127.0.0.1/",
        "http://127.0.0.1:1/",
        "http://127.0.1.1:1/",
    ] {
        assert!(policy.check(url).is_err(), "{url}");
    }
    for url in [
        "http://localhost/",
        "https://localhost/",
        "http://localhost:1/",
        "https://localhost:1/",
    ] {
        let reason = assert_blocked(&policy, url);
        assert!(
            matches!(
                reason,
                BlockReason::BlockedName { .. } | BlockReason::Port { .. }
            ),
            "{url}: {reason:?}"
        );
    }
}

/// `test_idn` (hostname blacklist `*.org`, case-insensitive, IDN names): a refused suffix
/// matches the IDNA form of the name, whatever its case.
#[test]
fn advocate_idn_suffix() {
    let policy = UrlPolicy::new().block_name_suffix("*.Org");
    for url in [
        "http://中国.example.org/",
        "http://中国.example.oRg/",
        "http://xn--fiqs8s.example.org/",
    ] {
        assert!(matches!(
            assert_blocked(&policy, url),
            BlockReason::BlockedName { .. }
        ));
    }
    assert!(policy.check("http://example.com/").is_ok());
}

/// `test_embedded_null`: a NUL inside the host is refused (never truncated to a shorter name).
#[test]
fn advocate_embedded_null() {
    let policy = UrlPolicy::new().block_name_suffix("baz.com");
    for url in [
        "http://foo.baz.com\u{0}.example.com/",
        "http://foo.example.com\u{0}.baz.com/",
    ] {
        assert!(matches!(
            assert_blocked(&policy, url),
            BlockReason::ControlCharacter { byte: 0 }
        ));
    }
}
