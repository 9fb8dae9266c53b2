//! Which addresses a callback may connect to: none that the IANA IPv4 and IPv6
//! special-purpose registries mark as not globally reachable, plus multicast, the reserved
//! 240/4 and every IPv6 address outside global unicast (2000::/3). IPv6 forms that carry an
//! IPv4 address (mapped, NAT64, 6to4) are judged by that address, since that is where the
//! packets end up. The table is data so each range can be read against the registry.

use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

struct V4Range {
    net: Ipv4Net,
    name: &'static str,
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8, name: &'static str) -> V4Range {
    V4Range { net: Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len), name }
}

/// Refused IPv4 ranges. Some registry entries inside 192.0.0.0/24 (e.g. 192.0.0.9/32) are
/// globally reachable anycast services that no callback needs, so the whole /24 is refused.
const V4_REFUSED: &[V4Range] = &[
    v4(0, 0, 0, 0, 8, "this network"),
    v4(10, 0, 0, 0, 8, "private-use"),
    v4(100, 64, 0, 0, 10, "shared address space (CGNAT)"),
    v4(127, 0, 0, 0, 8, "loopback"),
    v4(169, 254, 0, 0, 16, "link-local"),
    v4(172, 16, 0, 0, 12, "private-use"),
    v4(192, 0, 0, 0, 24, "IETF protocol assignments"),
    v4(192, 0, 2, 0, 24, "documentation (TEST-NET-1)"),
    v4(192, 88, 99, 0, 24, "6to4 relay anycast (deprecated)"),
    v4(192, 168, 0, 0, 16, "private-use"),
    v4(198, 18, 0, 0, 15, "benchmarking"),
    v4(198, 51, 100, 0, 24, "documentation (TEST-NET-2)"),
    v4(203, 0, 113, 0, 24, "documentation (TEST-NET-3)"),
    v4(224, 0, 0, 0, 4, "multicast"),
    v4(240, 0, 0, 0, 4, "reserved (incl. limited broadcast)"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V6Rule {
    Refuse,
    /// The IPv4 address is the last 32 bits (IPv4-mapped, NAT64 well-known prefix).
    Last32,
    /// 6to4: the IPv4 address is bits 16..48.
    SixToFour,
}

struct V6Range {
    net: Ipv6Net,
    name: &'static str,
    rule: V6Rule,
}

const fn v6(s: [u16; 8], len: u8, name: &'static str, rule: V6Rule) -> V6Range {
    let addr = Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
    V6Range { net: Ipv6Net::new_assert(addr, len), name, rule }
}

/// IPv6 ranges judged specially; the first match wins, so more specific ranges come first.
const V6_SPECIAL: &[V6Range] = &[
    v6([0, 0, 0, 0, 0, 0, 0, 0], 128, "unspecified", V6Rule::Refuse),
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback", V6Rule::Refuse),
    // Deprecated (RFC 4291) and never routed: [::127.0.0.1] must not reach loopback.
    v6([0, 0, 0, 0, 0, 0, 0, 0], 96, "IPv4-compatible (deprecated)", V6Rule::Refuse),
    v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, "IPv4-mapped", V6Rule::Last32),
    v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, "NAT64 well-known prefix", V6Rule::Last32),
    v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "NAT64 local-use", V6Rule::Refuse),
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only", V6Rule::Refuse),
    // Includes Teredo (2001::/32), whose embedded address is obfuscated.
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, "IETF protocol assignments", V6Rule::Refuse),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation", V6Rule::Refuse),
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, "6to4", V6Rule::SixToFour),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation", V6Rule::Refuse),
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, "segment routing (SRv6) SIDs", V6Rule::Refuse),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique local", V6Rule::Refuse),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local", V6Rule::Refuse),
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local (deprecated)", V6Rule::Refuse),
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast", V6Rule::Refuse),
];

/// Everything else outside it is reserved by the IETF and not routed.
const V6_GLOBAL_UNICAST: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// Why an address is refused: the registry's name for its range.
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => V4_REFUSED.iter().find(|r| r.net.contains(&v4)).map(|r| r.name),
        IpAddr::V6(v6) => match V6_SPECIAL.iter().find(|r| r.net.contains(&v6)) {
            Some(range) => match range.rule {
                V6Rule::Refuse => Some(range.name),
                V6Rule::Last32 => refusal(IpAddr::V4(last32(v6))),
                V6Rule::SixToFour => refusal(IpAddr::V4(six_to_four(v6))),
            },
            None if !V6_GLOBAL_UNICAST.contains(&v6) => Some("reserved (outside global unicast)"),
            None => None,
        },
    }
}

/// Whether an address is reachable on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    refusal(ip).is_none()
}

fn last32(v6: Ipv6Addr) -> Ipv4Addr {
    let o = v6.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

fn six_to_four(v6: Ipv6Addr) -> Ipv4Addr {
    let o = v6.octets();
    Ipv4Addr::new(o[2], o[3], o[4], o[5])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> bool {
        !is_public(ip.parse().unwrap())
    }

    /// Each range's first and last address are refused and its neighbours are not.
    fn range_is_refused(first: &str, last: &str, before: Option<&str>, after: Option<&str>) {
        assert!(refused(first), "{first}");
        assert!(refused(last), "{last}");
        if let Some(before) = before {
            assert!(!refused(before), "{before} is public");
        }
        if let Some(after) = after {
            assert!(!refused(after), "{after} is public");
        }
    }

    #[test]
    fn v4_this_network() {
        range_is_refused("0.0.0.0", "0.255.255.255", None, Some("1.0.0.0"));
    }

    #[test]
    fn v4_private_use() {
        range_is_refused("10.0.0.0", "10.255.255.255", Some("9.255.255.255"), Some("11.0.0.0"));
        range_is_refused("172.16.0.0", "172.31.255.255", Some("172.15.255.255"), Some("172.32.0.0"));
        range_is_refused("192.168.0.0", "192.168.255.255", Some("192.167.255.255"), Some("192.169.0.0"));
    }

    #[test]
    fn v4_shared_address_space() {
        range_is_refused("100.64.0.0", "100.127.255.255", Some("100.63.255.255"), Some("100.128.0.0"));
    }

    #[test]
    fn v4_loopback() {
        range_is_refused("127.0.0.0", "127.255.255.255", Some("126.255.255.255"), Some("128.0.0.0"));
    }

    #[test]
    fn v4_link_local() {
        range_is_refused("169.254.0.0", "169.254.255.255", Some("169.253.255.255"), Some("169.255.0.0"));
        assert!(refused("169.254.169.254"), "cloud metadata");
    }

    #[test]
    fn v4_ietf_protocol_assignments() {
        range_is_refused("192.0.0.0", "192.0.0.255", Some("191.255.255.255"), Some("192.0.1.0"));
        assert!(refused("192.0.0.170"), "NAT64 discovery");
    }

    #[test]
    fn v4_documentation() {
        range_is_refused("192.0.2.0", "192.0.2.255", Some("192.0.1.255"), Some("192.0.3.0"));
        range_is_refused("198.51.100.0", "198.51.100.255", Some("198.51.99.255"), Some("198.51.101.0"));
        range_is_refused("203.0.113.0", "203.0.113.255", Some("203.0.112.255"), Some("203.0.114.0"));
    }

    #[test]
    fn v4_six_to_four_relay_anycast() {
        range_is_refused("192.88.99.0", "192.88.99.255", Some("192.88.98.255"), Some("192.88.100.0"));
    }

    #[test]
    fn v4_benchmarking() {
        range_is_refused("198.18.0.0", "198.19.255.255", Some("198.17.255.255"), Some("198.20.0.0"));
    }

    #[test]
    fn v4_multicast_reserved_and_broadcast() {
        range_is_refused("224.0.0.0", "239.255.255.255", Some("223.255.255.255"), None);
        range_is_refused("240.0.0.0", "255.255.255.254", None, None);
        assert!(refused("255.255.255.255"), "limited broadcast");
    }

    #[test]
    fn v6_unspecified_and_loopback() {
        assert!(refused("::"));
        assert!(refused("::1"));
    }

    #[test]
    fn v6_ipv4_compatible_is_refused_whatever_it_embeds() {
        range_is_refused("::127.0.0.1", "::255.255.255.255", None, None);
        assert!(refused("::8.8.8.8"));
    }

    #[test]
    fn v6_mapped_is_judged_by_its_ipv4_address() {
        for private in ["::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0"] {
            assert!(refused(private), "{private}");
        }
        assert!(!refused("::ffff:8.8.8.8"));
    }

    #[test]
    fn v6_nat64() {
        assert!(refused("64:ff9b::127.0.0.1"));
        assert!(refused("64:ff9b::10.0.0.1"));
        assert!(!refused("64:ff9b::8.8.8.8"), "well-known prefix: judged by the embedded address");
        range_is_refused("64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", None, None);
        assert!(refused("64:ff9b:1::8.8.8.8"), "local-use prefix: refused outright");
    }

    #[test]
    fn v6_discard_only() {
        range_is_refused("100::", "100::ffff:ffff:ffff:ffff", None, None);
    }

    #[test]
    fn v6_ietf_protocol_assignments_and_teredo() {
        range_is_refused("2001::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", None, Some("2001:200::1"));
        assert!(refused("2001:0:4136:e378:8000:63bf:3fff:fdd2"), "Teredo");
    }

    #[test]
    fn v6_documentation() {
        range_is_refused(
            "2001:db8::",
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            Some("2001:db7::1"),
            Some("2001:db9::"),
        );
        range_is_refused("3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", Some("3ffe::1"), Some("3fff:1000::"));
    }

    #[test]
    fn v6_six_to_four_is_judged_by_its_ipv4_address() {
        assert!(refused("2002:7f00:1::1"), "127.0.0.1");
        assert!(refused("2002:a00:1::"), "10.0.0.1");
        assert!(refused("2002:a9fe:a9fe::"), "169.254.169.254");
        assert!(!refused("2002:808:808::1"), "8.8.8.8");
    }

    #[test]
    fn v6_srv6_sids() {
        // Outside 2000::/3 as well, so its neighbours are refused too.
        range_is_refused("5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None, None);
        assert_eq!(refusal("5f00::1".parse().unwrap()), Some("segment routing (SRv6) SIDs"));
    }

    #[test]
    fn v6_unique_local_link_local_site_local_multicast() {
        range_is_refused("fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None, None);
        range_is_refused("fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None, None);
        range_is_refused("fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None, None);
        range_is_refused("ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None, None);
    }

    #[test]
    fn v6_outside_global_unicast() {
        for reserved in ["::2", "1::1", "100:0:0:1::1", "1fff:ffff::1", "4000::1", "8000::1", "e000::1"] {
            assert!(refused(reserved), "{reserved}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "192.0.1.1",
            "2606:4700::1111",
            "2a00:1450:4001::1",
            "2620:4f:8000::1",
        ] {
            assert!(!refused(public), "{public}");
        }
    }

    #[test]
    fn refusals_name_the_range() {
        assert_eq!(refusal("127.0.0.1".parse().unwrap()), Some("loopback"));
        assert_eq!(refusal("::ffff:192.168.0.1".parse().unwrap()), Some("private-use"));
        assert_eq!(refusal("fec0::1".parse().unwrap()), Some("site-local (deprecated)"));
    }
}
