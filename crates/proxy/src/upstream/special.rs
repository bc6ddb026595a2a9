//! The addresses a user-typed URL may not reach: IANA's special-purpose
//! address registries (IPv4 and IPv6), every block that is not globally
//! reachable, and the IPv6 forms that carry an IPv4 address inside, judged
//! by the address they carry. ARCHITECTURE.md shows this table; a test keeps
//! the two the same.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// A refused IPv4 block: (block, what it is, where it is defined).
pub const REFUSED_V4: [(&str, &str, &str); 16] = [
    ("0.0.0.0/8", "this network", "RFC 791"),
    ("10.0.0.0/8", "private use", "RFC 1918"),
    (
        "100.64.0.0/10",
        "shared address space (carrier-grade NAT)",
        "RFC 6598",
    ),
    ("127.0.0.0/8", "loopback", "RFC 1122"),
    (
        "169.254.0.0/16",
        "link local (cloud metadata services)",
        "RFC 3927",
    ),
    ("172.16.0.0/12", "private use", "RFC 1918"),
    (
        "192.0.0.0/24",
        "IETF protocol assignments (DS-Lite, NAT64 discovery)",
        "RFC 6890",
    ),
    ("192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737"),
    (
        "192.88.99.0/24",
        "6to4 relay anycast (deprecated)",
        "RFC 7526",
    ),
    ("192.168.0.0/16", "private use", "RFC 1918"),
    ("198.18.0.0/15", "benchmarking", "RFC 2544"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737"),
    ("224.0.0.0/4", "multicast", "RFC 5771"),
    ("240.0.0.0/4", "reserved", "RFC 1112"),
    ("255.255.255.255/32", "limited broadcast", "RFC 919"),
];

/// A refused IPv6 block: (block, what it is, where it is defined).
pub const REFUSED_V6: [(&str, &str, &str); 13] = [
    ("::/128", "unspecified", "RFC 4291"),
    ("::1/128", "loopback", "RFC 4291"),
    ("64:ff9b:1::/48", "local-use NAT64", "RFC 8215"),
    ("100::/64", "discard-only", "RFC 6666"),
    (
        "2001::/23",
        "IETF protocol assignments (Teredo, ORCHID, AMT)",
        "RFC 2928",
    ),
    ("2001:db8::/32", "documentation", "RFC 3849"),
    ("3fff::/20", "documentation", "RFC 9637"),
    ("5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602"),
    ("fc00::/7", "unique local", "RFC 4193"),
    ("fe80::/10", "link local", "RFC 4291"),
    ("fec0::/10", "site local (deprecated)", "RFC 3879"),
    ("ff00::/8", "multicast", "RFC 4291"),
    ("::/96", "IPv4-compatible (deprecated)", "RFC 4291"),
];

/// IPv6 blocks that carry an IPv4 address: judged by the address carried.
/// (block, what it is, where it is defined, the carried address's first bit).
pub const CARRYING_V4: [(&str, &str, &str, u8); 4] = [
    ("::ffff:0:0/96", "IPv4-mapped", "RFC 4291", 96),
    ("::ffff:0:0:0/96", "IPv4-translated (SIIT)", "RFC 2765", 96),
    ("64:ff9b::/96", "NAT64 well-known prefix", "RFC 6052", 96),
    ("2002::/16", "6to4", "RFC 3056", 16),
];

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !REFUSED_V4
        .iter()
        .filter_map(|(block, ..)| block.parse::<Ipv4Net>().ok())
        .any(|block| block.contains(&ip))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    for (block, _, _, from) in CARRYING_V4 {
        if let Ok(block) = block.parse::<Ipv6Net>()
            && block.contains(&ip)
        {
            let bits = u128::from(ip) >> (96 - u32::from(from));
            return is_public_v4(Ipv4Addr::from((bits & 0xffff_ffff) as u32));
        }
    }
    !REFUSED_V6
        .iter()
        .filter_map(|(block, ..)| block.parse::<Ipv6Net>().ok())
        .any(|block| block.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_of_the_table_parses() {
        for (block, ..) in REFUSED_V4 {
            assert!(block.parse::<Ipv4Net>().is_ok(), "{block}");
        }
        for block in REFUSED_V6
            .iter()
            .map(|row| row.0)
            .chain(CARRYING_V4.iter().map(|row| row.0))
        {
            assert!(block.parse::<Ipv6Net>().is_ok(), "{block}");
        }
    }

    #[test]
    fn internal_addresses_of_every_class_are_not_public() {
        for internal in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.0.8",
            "192.0.0.170",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "ff02::1",
            // The forms an outside probe got through: NAT64, local-use
            // NAT64, 6to4 and IPv4-translated, each carrying 127.0.0.1,
            // 10.0.0.1 or the metadata address.
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "::ffff:0:7f00:1",
            "::ffff:0:a00:1",
            "::7f00:1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            let ip: IpAddr = internal.parse().unwrap();
            assert!(!is_public(ip), "{internal}");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "192.0.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn the_architecture_document_shows_this_table() {
        let document = include_str!("../../../../ARCHITECTURE.md");
        let rows = REFUSED_V4
            .iter()
            .chain(&REFUSED_V6)
            .map(|(block, what, source)| (*block, *what, *source))
            .chain(
                CARRYING_V4
                    .iter()
                    .map(|(block, what, source, _)| (*block, *what, *source)),
            );
        for (block, what, source) in rows {
            assert!(
                document.contains(&format!("| `{block}` | {what} | {source} |")),
                "ARCHITECTURE.md lacks the row of {block}"
            );
        }
    }
}
