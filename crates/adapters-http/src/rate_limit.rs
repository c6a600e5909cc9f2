//! The brute-force limits on failed authentications, as this adapter applies them. The rule
//! itself is the application core's ([`tollgate_app::auth_limits`]), shared with every other
//! inbound adapter; what is HTTP's is where a request comes from: the TCP peer
//! (`ConnectInfo<SocketAddr>`), or, when that peer is one of
//! [`HttpConfig::trusted_proxies`](crate::HttpConfig), what `X-Forwarded-For` says by the core's
//! rule ([`TrustedProxies::client_address`]).

use std::net::{IpAddr, SocketAddr};

use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::http::header::HeaderName;
use axum::http::request::Parts;

pub use tollgate_app::auth_limits::{
    AuthFailureLimit, AuthLimits, DEFAULT_FAILURES_PER_ADDRESS, DEFAULT_FAILURES_PER_TOKEN,
};
use tollgate_app::TrustedProxies;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client address a request's failures count against, if the server provides the peer
/// address.
pub(crate) fn client_address(parts: &Parts, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = peer_address(parts)?;
    let forwarded = parts
        .headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok());
    Some(trusted.client_address(peer, forwarded))
}

/// The TCP peer's address, from the server's connect info (or the test double of it).
fn peer_address(parts: &Parts) -> Option<IpAddr> {
    if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        return Some(peer.ip());
    }
    parts
        .extensions
        .get::<MockConnectInfo<SocketAddr>>()
        .map(|MockConnectInfo(peer)| peer.ip())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use axum::http::{HeaderValue, Request};

    use super::*;

    fn parts(peer: Option<&str>, forwarded: &[&str]) -> Parts {
        let mut req = Request::builder().uri("/v1/whoami");
        for value in forwarded {
            req = req.header("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        let (mut parts, ()) = req.body(()).unwrap().into_parts();
        if let Some(peer) = peer {
            parts
                .extensions
                .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        }
        parts
    }

    #[test]
    fn every_x_forwarded_for_header_is_read_in_order_behind_trusted_proxies() {
        let parts = parts(
            Some("10.0.0.1:5000"),
            &["192.0.2.66", "198.51.100.1, 203.0.113.9"],
        );
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let trusting = |list: &str| TrustedProxies::parse(list).unwrap();
        assert_eq!(
            client_address(&parts, &TrustedProxies::NONE),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            client_address(&parts, &trusting("10.0.0.1")),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_address(&parts, &trusting("10.0.0.1, 203.0.113.0/24")),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(
            client_address(&parts, &trusting("10.0.0.1, 203.0.113.9, 198.51.100.1")),
            Some(ip("192.0.2.66"))
        );
    }

    #[test]
    fn without_connect_info_there_is_no_address() {
        let trusted = TrustedProxies::parse("0.0.0.0/0").unwrap();
        assert_eq!(
            client_address(&parts(None, &["203.0.113.9"]), &trusted),
            None
        );
    }
}
