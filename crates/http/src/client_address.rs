//! Who a request comes from: the TCP peer, or, when the peer is a trusted proxy, the nearest
//! hop it forwards for in `X-Forwarded-For` or `Forwarded` (RFC 7239).
//!
//! Each proxy appends the address it received the request from, so hops are read from the
//! right: the first one that is not itself a trusted proxy is the client. Everything to its
//! left was written by the client and could be forged. Any hop that is not an address
//! (`unknown`, an obfuscated name, garbage) leaves the peer as the client.

use std::net::{IpAddr, Ipv6Addr, SocketAddrV4};

use axum::http::{HeaderMap, HeaderName, header};
use growdesk_service::addresses::TrustedProxies;

/// Hops read at most: a longer chain of trusted proxies is not a real deployment, and the walk
/// stays bounded however large the header.
const MAX_HOPS: usize = 32;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address: the peer's, unless the peer is a trusted proxy that names one.
/// `X-Forwarded-For` is read when present (every common proxy writes it), else `Forwarded`.
pub(crate) fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let forwarded = if headers.contains_key(&X_FORWARDED_FOR) {
        nearest_untrusted(hops(headers, &X_FORWARDED_FOR), trusted)
    } else {
        let hops = hops(headers, &header::FORWARDED).map(forwarded_for);
        nearest_untrusted(hops, trusted)
    };
    forwarded.unwrap_or(peer)
}

/// The header's list elements across all its lines, nearest (right-most) first. A line that
/// is not visible ASCII yields one empty, unparseable element.
fn hops<'a>(headers: &'a HeaderMap, name: &HeaderName) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(name)
        .iter()
        .rev()
        .flat_map(|line| split_unquoted_from_right(line.to_str().unwrap_or(""), b','))
}

/// The first hop, walking from the nearest, that is not a trusted proxy; if all of them are,
/// the farthest. `None` when a hop does not parse or the chain is empty or too long.
fn nearest_untrusted<'a>(
    hops: impl Iterator<Item = &'a str>,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let mut farthest = None;
    for (index, hop) in hops.enumerate() {
        if index == MAX_HOPS {
            return None;
        }
        let address = node_address(hop)?.to_canonical();
        if !trusted.contains(address) {
            return Some(address);
        }
        farthest = Some(address);
    }
    farthest
}

/// The `for` node of one `Forwarded` element (`for=192.0.2.60;proto=https`), or an empty,
/// unparseable node when the element names none.
fn forwarded_for(element: &str) -> &str {
    split_unquoted_from_right(element, b';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
        .map_or("", |(_, node)| node)
}

/// The address of a node: `192.0.2.60`, `192.0.2.60:4711`, `2001:db8::1`, or
/// `[2001:db8::1]:4711`, quoted or not.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    let node = node
        .strip_prefix('"')
        .and_then(|quoted| quoted.strip_suffix('"'))
        .unwrap_or(node);
    if let Some(bracketed) = node.strip_prefix('[') {
        let (address, port) = bracketed.split_once(']')?;
        if !(port.is_empty() || port.starts_with(':')) {
            return None;
        }
        return address.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    node.parse().ok().or_else(|| {
        node.parse::<SocketAddrV4>()
            .ok()
            .map(|with_port| IpAddr::V4(*with_port.ip()))
    })
}

/// `text` split at each `separator` outside double quotes, last piece first. Lazy, so a walk
/// that stops early reads only the end of the text. Each piece is scanned with fresh quote
/// state from its right end, so an unbalanced quote a client put on the left cannot change
/// how the pieces a proxy appended on the right are read.
fn split_unquoted_from_right(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut end = Some(bytes.len());
    std::iter::from_fn(move || {
        let piece_end = end?;
        let mut quoted = false;
        for index in (0..piece_end).rev() {
            match bytes[index] {
                b'"' => quoted = !quoted,
                byte if byte == separator && !quoted => {
                    end = Some(index);
                    return Some(&text[index + 1..piece_end]);
                }
                _ => {}
            }
        }
        end = None;
        Some(&text[..piece_end])
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    const PROXY: &str = "10.0.0.1";

    fn through_proxy(pairs: &[(&str, &str)]) -> IpAddr {
        resolve(ip(PROXY), &headers(pairs), &proxies("10.0.0.0/8"))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let spoofed = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
        ]);
        assert_eq!(
            resolve(ip("198.51.100.4"), &spoofed, &proxies("10.0.0.0/8")),
            ip("198.51.100.4")
        );
        assert_eq!(
            resolve(ip(PROXY), &spoofed, &TrustedProxies::default()),
            ip(PROXY),
            "no proxy is trusted by default"
        );
        assert_eq!(
            resolve(ip("::ffff:198.51.100.4"), &spoofed, &proxies("10.0.0.0/8")),
            ip("198.51.100.4"),
            "an IPv4-mapped peer is its IPv4 address"
        );
    }

    #[test]
    fn the_nearest_hop_that_is_not_a_proxy_is_the_client() {
        assert_eq!(
            through_proxy(&[("x-forwarded-for", "203.0.113.9")]),
            ip("203.0.113.9")
        );
        assert_eq!(
            through_proxy(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.7")]),
            ip("203.0.113.9"),
            "a forged left part and a second proxy are skipped"
        );
        assert_eq!(
            through_proxy(&[
                ("x-forwarded-for", "1.1.1.1"),
                ("x-forwarded-for", "203.0.113.9")
            ]),
            ip("203.0.113.9"),
            "several lines form one list"
        );
        assert_eq!(
            through_proxy(&[("x-forwarded-for", "10.0.0.9, 10.0.0.7")]),
            ip("10.0.0.9"),
            "a chain of proxies only: the farthest"
        );
        assert_eq!(
            through_proxy(&[("x-forwarded-for", "[2001:db8::7]:443, 203.0.113.9:5000")]),
            ip("203.0.113.9")
        );
        assert_eq!(
            through_proxy(&[("x-forwarded-for", "::ffff:203.0.113.9")]),
            ip("203.0.113.9")
        );
        assert_eq!(
            through_proxy(&[(
                "forwarded",
                r#"for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.1, For=10.0.0.3"#
            )]),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            through_proxy(&[
                ("forwarded", "for=1.1.1.1"),
                ("x-forwarded-for", "203.0.113.9")
            ]),
            ip("203.0.113.9"),
            "X-Forwarded-For is read when both are sent"
        );
    }

    #[test]
    fn malformed_or_huge_headers_leave_the_peer() {
        for malformed in [
            "",
            " , ",
            "unknown",
            "203.0.113.9, garbage",
            "203.0.113.9:port",
            "[2001:db8::1",
            "[2001:db8::1]x",
            "999.1.1.1",
        ] {
            assert_eq!(
                through_proxy(&[("x-forwarded-for", malformed)]),
                ip(PROXY),
                "{malformed:?}"
            );
        }
        for malformed in [
            "for=unknown",
            "for=_hidden",
            "proto=https",
            "for=\"203.0.113.9",
            "for=",
        ] {
            assert_eq!(
                through_proxy(&[("forwarded", malformed)]),
                ip(PROXY),
                "{malformed:?}"
            );
        }
        let mut non_ascii = HeaderMap::new();
        non_ascii.insert(
            X_FORWARDED_FOR,
            HeaderValue::from_bytes(b"203.0.113.9\xff").unwrap(),
        );
        assert_eq!(
            resolve(ip(PROXY), &non_ascii, &proxies("10.0.0.0/8")),
            ip(PROXY)
        );

        let long_chain = vec!["10.0.0.2"; 10_000].join(",");
        assert_eq!(
            through_proxy(&[("x-forwarded-for", &long_chain)]),
            ip(PROXY),
            "a chain of proxies longer than any deployment is not believed"
        );
        let forged_then_real = format!("{}, 203.0.113.9", vec!["1.1.1.1"; 10_000].join(","));
        assert_eq!(
            through_proxy(&[("x-forwarded-for", &forged_then_real)]),
            ip("203.0.113.9")
        );
        let unbalanced = r#"for="1.1.1.1, for=203.0.113.9"#;
        assert_eq!(
            through_proxy(&[("forwarded", unbalanced)]),
            ip("203.0.113.9"),
            "a client's stray quote does not swallow the proxy's element"
        );
    }
}
