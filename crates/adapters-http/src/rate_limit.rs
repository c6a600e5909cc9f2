//! The brute-force limits on failed authentications, as this adapter applies them. The rule
//! itself is the application core's ([`tollgate_app::auth_limits`]), shared with every other
//! inbound adapter; what is HTTP's is where a request comes from: the TCP peer
//! (`ConnectInfo<SocketAddr>`), or `X-Forwarded-For` when
//! [`HttpConfig::trusted_proxy_hops`](crate::HttpConfig) says how many proxies of ours append
//! to it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::http::header::HeaderName;
use axum::http::request::Parts;

pub use tollgate_app::auth_limits::{
    AuthFailureLimit, AuthLimits, DEFAULT_FAILURES_PER_ADDRESS, DEFAULT_FAILURES_PER_TOKEN,
};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client address a request's failures count against, if the server provides the peer
/// address.
pub(crate) fn client_address(parts: &Parts, trusted_proxy_hops: u8) -> Option<IpAddr> {
    let peer = peer_address(parts)?;
    let forwarded = parts
        .headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok());
    Some(tollgate_app::auth_limits::client_address(
        peer,
        forwarded,
        trusted_proxy_hops,
    ))
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
        assert_eq!(client_address(&parts, 0), Some(ip("10.0.0.1")));
        assert_eq!(client_address(&parts, 2), Some(ip("198.51.100.1")));
        assert_eq!(client_address(&parts, 3), Some(ip("192.0.2.66")));
    }

    #[test]
    fn without_connect_info_there_is_no_address() {
        assert_eq!(client_address(&parts(None, &["203.0.113.9"]), 1), None);
    }
}
