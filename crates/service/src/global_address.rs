//! Whether an address is globally reachable unicast, after the IANA IPv4 and IPv6
//! special-purpose address registries: the guard that keeps outbound requests (webhook
//! deliveries) off loopback, private, translated and otherwise special networks.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A block of addresses and what it is for.
struct Block<A> {
    network: A,
    prefix: u8,
    purpose: &'static str,
}

const fn v4(network: [u8; 4], prefix: u8, purpose: &'static str) -> Block<Ipv4Addr> {
    let [a, b, c, d] = network;
    Block {
        network: Ipv4Addr::new(a, b, c, d),
        prefix,
        purpose,
    }
}

const fn v6(network: [u16; 8], prefix: u8, purpose: &'static str) -> Block<Ipv6Addr> {
    let [a, b, c, d, e, f, g, h] = network;
    Block {
        network: Ipv6Addr::new(a, b, c, d, e, f, g, h),
        prefix,
        purpose,
    }
}

/// IPv4 blocks that are not globally reachable unicast: the registry's entries whose
/// "Globally Reachable" is false or not applicable, plus multicast and the anycast
/// assignments inside 192.0.0.0/24 (PCP, TURN), which reach whichever server is nearest.
/// The registry's globally reachable entries (AS112, AMT) are ordinary destinations.
const IPV4_SPECIAL: &[Block<Ipv4Addr>] = &[
    v4([0, 0, 0, 0], 8, "\"this network\" (RFC 791)"),
    v4([10, 0, 0, 0], 8, "private-use (RFC 1918)"),
    v4([100, 64, 0, 0], 10, "shared address space (RFC 6598)"),
    v4([127, 0, 0, 0], 8, "loopback (RFC 1122)"),
    v4([169, 254, 0, 0], 16, "link-local (RFC 3927)"),
    v4([172, 16, 0, 0], 12, "private-use (RFC 1918)"),
    v4([192, 0, 0, 0], 24, "IETF protocol assignments (RFC 6890)"),
    v4([192, 0, 2, 0], 24, "documentation, TEST-NET-1 (RFC 5737)"),
    v4([192, 88, 99, 0], 24, "6to4 relay anycast (RFC 7526)"),
    v4([192, 168, 0, 0], 16, "private-use (RFC 1918)"),
    v4([198, 18, 0, 0], 15, "benchmarking (RFC 2544)"),
    v4(
        [198, 51, 100, 0],
        24,
        "documentation, TEST-NET-2 (RFC 5737)",
    ),
    v4([203, 0, 113, 0], 24, "documentation, TEST-NET-3 (RFC 5737)"),
    v4([224, 0, 0, 0], 4, "multicast (RFC 5771)"),
    v4(
        [240, 0, 0, 0],
        4,
        "reserved (RFC 1112), limited broadcast included",
    ),
];

/// IPv6 blocks inside global unicast (2000::/3) that are not globally reachable unicast. All
/// of 2001::/23 is IETF protocol assignments except the globally reachable AMT and AS112
/// blocks listed in `IPV6_GLOBAL_IN_IETF`; Teredo and 6to4 are decided by the IPv4 addresses
/// they carry. ORCHIDs and drone entity tags are identifiers that no route leads to.
const IPV6_SPECIAL: &[Block<Ipv6Addr>] = &[
    v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, "ORCHID (RFC 4843)"),
    v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, "ORCHIDv2 (RFC 7343)"),
    v6(
        [0x2001, 0x30, 0, 0, 0, 0, 0, 0],
        28,
        "drone entity tags (RFC 9374)",
    ),
    v6(
        [0x2001, 0x2, 0, 0, 0, 0, 0, 0],
        48,
        "benchmarking (RFC 5180)",
    ),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF protocol assignments (RFC 2928)",
    ),
    v6(
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        "documentation (RFC 3849)",
    ),
    v6(
        [0x3fff, 0, 0, 0, 0, 0, 0, 0],
        20,
        "documentation (RFC 9637)",
    ),
];

/// Globally reachable registry entries inside 2001::/23.
const IPV6_GLOBAL_IN_IETF: &[Block<Ipv6Addr>] = &[
    v6([0x2001, 0x3, 0, 0, 0, 0, 0, 0], 32, "AMT (RFC 7450)"),
    v6(
        [0x2001, 0x4, 0x112, 0, 0, 0, 0, 0],
        48,
        "AS112-v6 (RFC 7535)",
    ),
];

/// Named IPv6 blocks outside global unicast, for the refusal's wording; every address
/// outside 2000::/3 that embeds no IPv4 address is refused, named here or not.
const IPV6_OUTSIDE_GLOBAL: &[Block<Ipv6Addr>] = &[
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback (RFC 4291)"),
    v6([0, 0, 0, 0, 0, 0, 0, 0], 128, "unspecified (RFC 4291)"),
    v6(
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        "local-use IPv4/IPv6 translation (RFC 8215)",
    ),
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only (RFC 6666)"),
    v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64, "dummy prefix (RFC 9780)"),
    v6(
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        "segment routing SIDs (RFC 9602)",
    ),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique local (RFC 4193)"),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local (RFC 4291)"),
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local (RFC 3879)"),
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast (RFC 4291)"),
];

const GLOBAL_UNICAST: Block<Ipv6Addr> = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3, "global unicast");

/// Why an address is no destination: the block it is in, and for an IPv4 address carried
/// inside an IPv6 one, how it is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotGlobal {
    pub purpose: &'static str,
    pub embedded: Option<(&'static str, Ipv4Addr)>,
}

impl fmt::Display for NotGlobal {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.embedded {
            Some((carrier, ipv4)) => write!(out, "{carrier} of {ipv4}, {}", self.purpose),
            None => out.write_str(self.purpose),
        }
    }
}

fn in_block_v4(ip: Ipv4Addr, block: &Block<Ipv4Addr>) -> bool {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(block.prefix))
        .unwrap_or(0);
    u32::from(ip) & mask == u32::from(block.network) & mask
}

fn in_block_v6(ip: Ipv6Addr, block: &Block<Ipv6Addr>) -> bool {
    let mask = u128::MAX
        .checked_shl(128 - u32::from(block.prefix))
        .unwrap_or(0);
    u128::from(ip) & mask == u128::from(block.network) & mask
}

fn special_v4(ip: Ipv4Addr) -> Option<NotGlobal> {
    IPV4_SPECIAL
        .iter()
        .find(|block| in_block_v4(ip, block))
        .map(|block| NotGlobal {
            purpose: block.purpose,
            embedded: None,
        })
}

/// The IPv4 addresses an IPv6 address carries and how: the destination behind a mapped,
/// compatible, translated (SIIT), NAT64 (64:ff9b::/96) or 6to4 address, the server and
/// client of a Teredo address, the tunnel end of an ISATAP interface identifier.
fn embedded_v4(ip: Ipv6Addr) -> Vec<(&'static str, Ipv4Addr)> {
    let bits = u128::from(ip);
    let low = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let segments = ip.segments();
    let mut carried = Vec::new();
    match segments {
        [0, 0, 0, 0, 0, 0xffff, _, _] => carried.push(("IPv4-mapped address", low)),
        [0, 0, 0, 0, 0xffff, 0, _, _] => carried.push(("IPv4-translated address", low)),
        [0, 0, 0, 0, 0, 0, _, _] => carried.push(("IPv4-compatible address", low)),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => carried.push(("NAT64 address", low)),
        [0x2002, ..] => carried.push((
            "6to4 address",
            Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32),
        )),
        [0x2001, 0, ..] => {
            carried.push((
                "Teredo server",
                Ipv4Addr::from(((bits >> 64) & 0xffff_ffff) as u32),
            ));
            carried.push(("Teredo client", Ipv4Addr::from(!(bits as u32))));
        }
        _ => {}
    }
    if segments[4] & 0xfdff == 0 && segments[5] == 0x5efe {
        carried.push(("ISATAP address", low));
    }
    carried
}

fn special_v6(ip: Ipv6Addr) -> Option<NotGlobal> {
    let named = |blocks: &[Block<Ipv6Addr>]| {
        blocks
            .iter()
            .find(|block| in_block_v6(ip, block))
            .map(|block| block.purpose)
    };
    if ip.is_loopback() || ip.is_unspecified() {
        // Named as themselves, not as the IPv4-compatible forms of 0.0.0.1 and 0.0.0.0.
        return named(IPV6_OUTSIDE_GLOBAL).map(|purpose| NotGlobal {
            purpose,
            embedded: None,
        });
    }
    let embedded = embedded_v4(ip);
    for (carrier, ipv4) in &embedded {
        if let Some(reason) = special_v4(*ipv4) {
            return Some(NotGlobal {
                purpose: reason.purpose,
                embedded: Some((carrier, *ipv4)),
            });
        }
    }
    if !in_block_v6(ip, &GLOBAL_UNICAST) {
        // Outside global unicast, only a carrier of a public IPv4 address leads anywhere public.
        let carries_v4 = embedded
            .iter()
            .any(|(carrier, _)| *carrier != "ISATAP address");
        if carries_v4 && named(IPV6_OUTSIDE_GLOBAL).is_none() {
            return None;
        }
        return Some(NotGlobal {
            purpose: named(IPV6_OUTSIDE_GLOBAL).unwrap_or("reserved by the IETF (RFC 4291)"),
            embedded: None,
        });
    }
    if named(IPV6_GLOBAL_IN_IETF).is_some() {
        return None;
    }
    let is_teredo = matches!(ip.segments(), [0x2001, 0, ..]);
    match named(IPV6_SPECIAL) {
        Some(_) if is_teredo => None,
        Some(purpose) => Some(NotGlobal {
            purpose,
            embedded: None,
        }),
        None => None,
    }
}

/// Why `ip` is not a globally reachable unicast address, or `None` when it is one. IPv4
/// addresses inside IPv6 ones are unwrapped and judged too.
pub fn not_global(ip: IpAddr) -> Option<NotGlobal> {
    match ip {
        IpAddr::V4(ip) => special_v4(ip),
        IpAddr::V6(ip) => special_v6(ip),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(address: &str) -> Option<NotGlobal> {
        not_global(address.parse().unwrap())
    }

    /// Each registry entry: an address inside it (refused) and, where the neighbour is a
    /// destination, the address just outside (allowed). Outside 2000::/3 IPv6 has no
    /// destinations but those carrying a public IPv4 address, so blocks there have none.
    const REGISTRY: &[(&str, Option<&str>)] = &[
        // IPv4 special-purpose registry.
        ("0.0.0.0", None),
        ("0.255.255.255", Some("1.0.0.0")),
        ("10.0.0.1", Some("11.0.0.0")),
        ("10.255.255.255", Some("9.255.255.255")),
        ("100.64.0.1", Some("100.63.255.255")),
        ("100.127.255.255", Some("100.128.0.0")),
        ("127.0.0.1", Some("128.0.0.0")),
        ("127.255.255.255", Some("126.255.255.255")),
        ("169.254.169.254", Some("169.255.0.0")),
        ("169.254.0.0", Some("169.253.255.255")),
        ("172.16.0.1", Some("172.15.255.255")),
        ("172.31.255.255", Some("172.32.0.0")),
        ("192.0.0.0", Some("191.255.255.255")),
        ("192.0.0.8", None),
        ("192.0.0.9", None),
        ("192.0.0.10", None),
        ("192.0.0.170", None),
        ("192.0.0.255", Some("192.0.1.0")),
        ("192.0.2.1", Some("192.0.3.0")),
        ("192.88.99.1", Some("192.88.100.0")),
        ("192.88.99.0", Some("192.88.98.255")),
        ("192.168.1.1", Some("192.169.0.0")),
        ("192.168.0.0", Some("192.167.255.255")),
        ("198.18.0.1", Some("198.17.255.255")),
        ("198.19.255.255", Some("198.20.0.0")),
        ("198.51.100.7", Some("198.51.101.0")),
        ("203.0.113.9", Some("203.0.114.0")),
        ("224.0.0.1", Some("223.255.255.255")),
        ("239.255.255.250", None),
        ("240.0.0.1", None),
        ("255.255.255.255", None),
        // IPv6 special-purpose registry.
        ("::1", None),
        ("::", None),
        ("::ffff:127.0.0.1", Some("::ffff:8.8.8.8")),
        ("::ffff:10.0.0.1", None),
        ("::ffff:0:10.0.0.1", Some("::ffff:0:8.8.8.8")),
        ("::10.0.0.1", Some("::8.8.8.8")),
        ("::127.0.0.1", None),
        ("64:ff9b::10.0.0.1", Some("64:ff9b::8.8.8.8")),
        ("64:ff9b::192.168.0.1", None),
        ("64:ff9b::169.254.169.254", None),
        ("64:ff9b:1::1", None),
        ("64:ff9b:1:ffff::8.8.8.8", None),
        ("100::1", None),
        ("100::ffff:ffff:ffff:ffff", None),
        ("100:0:0:1::1", None),
        ("2001::1", None),
        ("2001:1::1", None),
        ("2001:1::2", None),
        ("2001:1::3", None),
        ("2001:2::1", None),
        ("2001:10::1", None),
        ("2001:20::1", None),
        ("2001:2f::1", None),
        ("2001:30::1", None),
        ("2001:1ff::1", Some("2001:200::1")),
        ("2001:db8::1", Some("2001:db9::1")),
        ("2001:db8:ffff::1", Some("2001:db7:ffff::1")),
        ("2002:0a00:0001::1", Some("2002:0808:0808::1")),
        ("2002:c0a8:0101::1", None),
        ("2002:7f00:0001::1", None),
        ("3fff::1", Some("3ffe:ffff:ffff::1")),
        ("3fff:fff::1", Some("3fff:1000::1")),
        ("5f00::1", None),
        ("fc00::1", None),
        ("fd12:3456::1", None),
        ("fe80::1", None),
        ("febf:ffff::1", None),
        ("fec0::1", None),
        ("feff:ffff::1", None),
        ("ff02::1", None),
        ("ff0e::1", None),
        ("4000::1", None),
        ("1fff:ffff::1", None),
        // Teredo: server 65.54.227.120 (public) with an obfuscated private client, and the reverse.
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", None),
        ("2001:0:c0a8:0101:8000:63bf:3fff:fdd2", None),
        // ISATAP interface identifiers carrying private tunnel ends.
        ("2606:4700::5efe:10.0.0.1", Some("2606:4700::5efe:8.8.8.8")),
        ("2606:4700::200:5efe:192.168.0.1", None),
    ];

    #[test]
    fn every_registry_entry_is_refused_and_its_neighbours_are_not() {
        for (inside, outside) in REGISTRY {
            assert!(verdict(inside).is_some(), "{inside} should be refused");
            if let Some(outside) = outside {
                assert_eq!(verdict(outside), None, "{outside} should be allowed");
            }
        }
    }

    #[test]
    fn globally_reachable_addresses_are_allowed() {
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "192.31.196.1",
            "192.52.193.1",
            "192.175.48.1",
            "2606:4700::1111",
            "2001:3::1",
            "2001:4:112::1",
            "2620:4f:8000::1",
            "2a00:1450:4001::200e",
            // Teredo with a public server (65.54.227.120) and public client (8.8.8.8).
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
        ] {
            assert_eq!(verdict(public), None, "{public} should be allowed");
        }
    }

    #[test]
    fn a_refusal_names_the_block_and_the_carried_address() {
        assert_eq!(
            verdict("64:ff9b::10.1.2.3").unwrap().to_string(),
            "NAT64 address of 10.1.2.3, private-use (RFC 1918)"
        );
        assert_eq!(
            verdict("2001:0:c0a8:0101:8000:63bf:3fff:fdd2")
                .unwrap()
                .to_string(),
            "Teredo server of 192.168.1.1, private-use (RFC 1918)"
        );
        assert_eq!(
            verdict("fec0::1").unwrap().to_string(),
            "site-local (RFC 3879)"
        );
    }
}
