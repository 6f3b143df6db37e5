//! Client addresses: the networks of trusted proxies, and the groups per-address limits count.

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Serialize, Serializer};

/// The reverse proxies in front of the server. Only a connection from one of them may say, in
/// `Forwarded` or `X-Forwarded-For`, which client it forwards. Cheap to clone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` (an IPv4-mapped IPv6 address counting as its IPv4 address) is a proxy's.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The networks and addresses `entries` name; blank entries are skipped.
    ///
    /// # Errors
    /// An entry that is neither an address nor a network.
    pub fn from_entries(entries: &[String]) -> Result<Self, InvalidNetwork> {
        let networks = entries
            .iter()
            .map(|entry| entry.trim())
            .filter(|entry| !entry.is_empty())
            .map(parse_network)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(networks.into()))
    }
}

/// An entry of the trusted proxies that is neither an address nor a network.
#[derive(Debug, thiserror::Error)]
#[error(
    "trusted_proxies: {0:?} is neither an IP address nor a CIDR network such as 10.0.0.0/8 or fd00::/8"
)]
pub struct InvalidNetwork(String);

/// A network such as `10.0.0.0/8`, or one address alone.
fn parse_network(entry: &str) -> Result<IpNet, InvalidNetwork> {
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| InvalidNetwork(entry.to_owned()))
}

impl FromStr for TrustedProxies {
    type Err = InvalidNetwork;

    /// A comma-separated list, as in `GROWDESK_TRUSTED_PROXIES`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let entries: Vec<String> = text.split(',').map(str::to_owned).collect();
        Self::from_entries(&entries)
    }
}

impl Serialize for TrustedProxies {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

/// How per-address limits group clients. An IPv4 address counts alone (an IPv4-mapped IPv6
/// address as that IPv4 address); an IPv6 address counts with its whole network of the
/// prefix length, since a subscriber is routed a /64 or more and may use any address in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressGrouping {
    ipv6_prefix: u8,
}

/// The longest IPv6 prefix: one address alone.
pub const MAX_IPV6_PREFIX: u8 = 128;

impl AddressGrouping {
    /// Groups IPv6 clients by their first `ipv6_prefix` bits (at most 128).
    pub fn new(ipv6_prefix: u8) -> Self {
        Self {
            ipv6_prefix: ipv6_prefix.min(MAX_IPV6_PREFIX),
        }
    }

    /// The key `ip` is counted under: the IPv4 address, or the IPv6 network with its host bits
    /// cleared.
    pub fn key(self, ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => {
                let host_bits = u32::from(MAX_IPV6_PREFIX - self.ipv6_prefix);
                let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
                IpAddr::V6((u128::from(v6) & mask).into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_count_by_their_network_and_mapped_ipv4_as_ipv4() {
        let grouping = AddressGrouping::new(64);
        assert_eq!(
            grouping.key(ip("2001:db8:1:2:aaaa::1")),
            grouping.key(ip("2001:db8:1:2:ffff:1:2:3"))
        );
        assert_eq!(grouping.key(ip("2001:db8:1:2::9")), ip("2001:db8:1:2::"));
        assert_ne!(
            grouping.key(ip("2001:db8:1:2::1")),
            grouping.key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            grouping.key(ip("::ffff:203.0.113.7")),
            ip("203.0.113.7"),
            "an IPv4-mapped address is its IPv4 address"
        );
        assert_ne!(
            grouping.key(ip("203.0.113.7")),
            grouping.key(ip("203.0.113.8"))
        );

        assert_eq!(
            AddressGrouping::new(128).key(ip("2001:db8::1")),
            ip("2001:db8::1")
        );
        assert_eq!(AddressGrouping::new(0).key(ip("2001:db8::1")), ip("::"));
        assert_eq!(
            AddressGrouping::new(48).key(ip("2001:db8:1:2::1")),
            ip("2001:db8:1::")
        );
    }

    #[test]
    fn trusted_proxies_parse_networks_and_single_addresses() {
        let proxies: TrustedProxies = " 10.0.0.0/8, 192.0.2.1 ,fd00::/8,".parse().unwrap();
        assert!(proxies.contains(ip("10.200.3.4")));
        assert!(proxies.contains(ip("::ffff:10.0.0.1")));
        assert!(proxies.contains(ip("192.0.2.1")));
        assert!(!proxies.contains(ip("192.0.2.2")));
        assert!(proxies.contains(ip("fd12::1")));
        assert!(!proxies.contains(ip("2001:db8::1")));
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());

        for bad in [
            "10.0.0/8",
            "10.0.0.0/33",
            "proxy.example.com",
            "10.0.0.0/8;",
        ] {
            let error = bad.parse::<TrustedProxies>().unwrap_err().to_string();
            assert!(error.contains(bad) && error.contains("CIDR"), "{error}");
        }
    }
}
