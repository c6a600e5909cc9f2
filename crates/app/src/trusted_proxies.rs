//! Which address a request comes from when reverse proxies stand in front of tollgate: the rule
//! every inbound adapter (the REST API, forward auth, the console's sign-in) applies, so that the
//! brute-force limits count the real client.
//!
//! [`TrustedProxies`] is the operator's list of proxy networks (`TOLLGATE_TRUSTED_PROXIES`).
//! `X-Forwarded-For` is read only when the TCP peer is in that list, since anyone else can write
//! whatever they like there. It is then walked from the right, each proxy having appended the
//! address it received the request from: entries that are themselves trusted proxies are
//! skipped, and the first untrusted entry is the client. Entries to its left were written by
//! the client (or by proxies it chose) and prove nothing.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` entries are believed: a validated list of CIDRs, cheap
/// to clone. Empty (the default): no proxy is trusted and the client is always the TCP peer.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Option<Arc<[IpNet]>>);

/// An entry of a trusted-proxy list that is neither an address nor a CIDR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{entry}` is not an IP address or a CIDR such as 10.0.0.0/8 or 2001:db8::/32")]
pub struct TrustedProxiesError {
    entry: String,
}

impl TrustedProxies {
    /// No proxy is trusted.
    pub const NONE: Self = Self(None);

    /// Parses a comma-separated list of CIDRs (`10.0.0.0/8, 2001:db8::/32`); a bare address
    /// means that address alone (/32 or /128). Blank entries are ignored, so an empty string is
    /// the empty list.
    ///
    /// # Errors
    /// [`TrustedProxiesError`] naming the first entry that is neither.
    pub fn parse(list: &str) -> Result<Self, TrustedProxiesError> {
        let networks = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(parse_network)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_networks(networks))
    }

    /// These networks.
    #[must_use]
    pub fn from_networks(networks: Vec<IpNet>) -> Self {
        if networks.is_empty() {
            Self::NONE
        } else {
            Self(Some(networks.into()))
        }
    }

    /// The trusted networks, in the order given.
    #[must_use]
    pub fn networks(&self) -> &[IpNet] {
        self.0.as_deref().unwrap_or_default()
    }

    /// Whether no proxy is trusted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.networks().is_empty()
    }

    /// Whether `address` is one of the trusted proxies. An IPv4-mapped IPv6 address (a dual-stack
    /// listener's view of an IPv4 peer) counts as its IPv4 address.
    #[must_use]
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.networks().iter().any(|net| net.contains(&address))
    }

    /// The address a request comes from: the TCP `peer`, unless the peer is a trusted proxy;
    /// then the first untrusted entry of `X-Forwarded-For`, walked from the right. If every
    /// entry is trusted, the leftmost is the client. A malformed entry (`unknown`, garbage)
    /// ends the walk: the client is then the last trusted hop reached, which is never an address
    /// the client chose. `forwarded_for` holds the header's values in the order they came.
    #[must_use]
    pub fn client_address<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    ) -> IpAddr {
        let mut client = peer;
        if !self.trusts(client) {
            return client;
        }
        let entries = forwarded_for
            .rev()
            .flat_map(|value| value.rsplit(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty());
        for entry in entries {
            let Some(address) = parse_forwarded_address(entry) else {
                break;
            };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        client
    }
}

fn parse_network(entry: &str) -> Result<IpNet, TrustedProxiesError> {
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| TrustedProxiesError {
            entry: entry.to_owned(),
        })
}

/// `192.0.2.1`, `2001:db8::1`, `192.0.2.1:4711` or `[2001:db8::1]:4711`.
fn parse_forwarded_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

impl FromStr for TrustedProxies {
    type Err = TrustedProxiesError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.networks()).finish()
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, net) in self.networks().iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn a_list_holds_cidrs_and_bare_addresses() {
        let list = proxies(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::1,");
        assert_eq!(
            list.to_string(),
            "10.0.0.0/8,192.0.2.7/32,2001:db8::/32,::1/128"
        );
        for (address, trusted) in [
            ("10.1.2.3", true),
            ("11.0.0.1", false),
            ("192.0.2.7", true),
            ("192.0.2.8", false),
            ("2001:db8:ffff::1", true),
            ("2001:db9::1", false),
            ("::1", true),
            ("::ffff:10.9.9.9", true),
            ("::ffff:11.9.9.9", false),
        ] {
            assert_eq!(list.trusts(ip(address)), trusted, "{address}");
        }
        assert!(proxies("").is_empty());
        assert!(proxies(" , ").is_empty());
        assert_eq!(proxies(""), TrustedProxies::NONE);
    }

    #[test]
    fn a_malformed_entry_is_refused_by_name() {
        for (list, entry) in [
            ("10.0.0.0/33", "10.0.0.0/33"),
            ("10.0.0.1, proxy.local", "proxy.local"),
            ("2001:db8::/129", "2001:db8::/129"),
            ("10.0.0.0/8/8", "10.0.0.0/8/8"),
            ("10.0.0.1:80", "10.0.0.1:80"),
            ("1", "1"),
        ] {
            let error = TrustedProxies::parse(list).unwrap_err();
            assert_eq!(error.entry, entry, "{list}");
            assert!(error.to_string().contains(entry), "{error}");
        }
    }

    #[test]
    fn the_walk_from_the_right_stops_at_the_first_untrusted_entry() {
        let v4 = "10.0.0.0/8";
        let v6 = "2001:db8:ffff::/48";
        // (trusted list, TCP peer, X-Forwarded-For values, the client)
        let cases: &[(&str, &str, &[&str], &str)] = &[
            // No proxy trusted: the header is ignored, whatever it says.
            ("", "10.0.0.1", &["203.0.113.9"], "10.0.0.1"),
            // A peer that is not a trusted proxy: its header is ignored.
            (v4, "198.51.100.4", &["203.0.113.9"], "198.51.100.4"),
            // One trusted proxy: the entry it appended is the client.
            (v4, "10.0.0.1", &["203.0.113.9"], "203.0.113.9"),
            // Spoofed entries left of the real client are never reached.
            (
                v4,
                "10.0.0.1",
                &["6.6.6.6, 7.7.7.7, 203.0.113.9"],
                "203.0.113.9",
            ),
            // Two trusted hops: the walk passes the inner proxy.
            (
                v4,
                "10.0.0.1",
                &["6.6.6.6, 203.0.113.9, 10.0.0.2"],
                "203.0.113.9",
            ),
            // Several headers are read in order, as one list.
            (
                v4,
                "10.0.0.1",
                &["6.6.6.6", "203.0.113.9, 10.0.0.2"],
                "203.0.113.9",
            ),
            // A client that writes a trusted address cannot hide behind it: the walk stops at
            // the first untrusted entry, to its right.
            (v4, "10.0.0.1", &["10.0.0.99, 203.0.113.9"], "203.0.113.9"),
            // Every entry trusted: the leftmost is as far as anyone can tell.
            (v4, "10.0.0.1", &["10.0.0.3, 10.0.0.2"], "10.0.0.3"),
            // No header, or an empty one: the peer.
            (v4, "10.0.0.1", &[], "10.0.0.1"),
            (v4, "10.0.0.1", &[" , "], "10.0.0.1"),
            // Malformed entries end the walk at the last trusted hop reached.
            (v4, "10.0.0.1", &["unknown"], "10.0.0.1"),
            (
                v4,
                "10.0.0.1",
                &["203.0.113.9, garbage, 10.0.0.2"],
                "10.0.0.2",
            ),
            (v4, "10.0.0.1", &["garbage, 203.0.113.9"], "203.0.113.9"),
            // Ports are allowed.
            (v4, "10.0.0.1", &["203.0.113.9:4711"], "203.0.113.9"),
            // IPv6 proxies and clients.
            (v6, "2001:db8:ffff::1", &["2001:db8:1::7"], "2001:db8:1::7"),
            (
                v6,
                "2001:db8:ffff::1",
                &["[2001:db8:1::7]:443, 2001:db8:ffff::2"],
                "2001:db8:1::7",
            ),
            (
                v6,
                "2001:db8:aaaa::1",
                &["2001:db8:1::7"],
                "2001:db8:aaaa::1",
            ),
            // A dual-stack listener's view of an IPv4 proxy.
            (v4, "::ffff:10.0.0.1", &["203.0.113.9"], "203.0.113.9"),
            // Mixed families behind one proxy.
            (
                "10.0.0.1, 2001:db8:ffff::/48",
                "10.0.0.1",
                &["2001:db8:1::7, 2001:db8:ffff::9"],
                "2001:db8:1::7",
            ),
        ];
        for (list, peer, forwarded, client) in cases {
            assert_eq!(
                proxies(list).client_address(ip(peer), forwarded.iter().copied()),
                ip(client),
                "trusting [{list}], peer {peer}, X-Forwarded-For {forwarded:?}"
            );
        }
    }
}
