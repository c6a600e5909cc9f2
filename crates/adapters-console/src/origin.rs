//! Where requests must come from. Every state-changing request must name the console's own
//! origin: the one `TOLLGATE_PUBLIC_URL` gives, or, without it, the one the `Host` header
//! names. This is the Origin check that backs the CSRF token (OWASP's "verifying origin with
//! standard headers").
//!
//! Browsers send `Origin: null` for a form POST from a page with `Referrer-Policy:
//! no-referrer` (the Fetch standard says so, and every console page has that policy). Then
//! `Sec-Fetch-Site`, which browsers set and pages cannot, decides: only `same-origin` passes.
//! A request with neither a usable `Origin` nor `Sec-Fetch-Site` is judged by its `Referer`,
//! and refused without one.

use axum::http::header::{HOST, ORIGIN, REFERER};
use axum::http::HeaderMap;

/// The console's public address, from `TOLLGATE_PUBLIC_URL`: `http://` or `https://`, a host,
/// an optional port, and optionally a path (which is ignored: the console is always at
/// `/admin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    https: bool,
    /// `scheme://host[:port]`, lowercase, without a default port.
    origin: String,
}

/// A `TOLLGATE_PUBLIC_URL` that is not an http(s) URL with a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TOLLGATE_PUBLIC_URL must be an http:// or https:// URL with a host, such as https://tokens.example.com")]
pub struct PublicUrlError;

impl PublicUrl {
    /// Parses a public URL.
    ///
    /// # Errors
    /// [`PublicUrlError`] for anything but `http(s)://host[:port][/path]`.
    pub fn parse(raw: &str) -> Result<Self, PublicUrlError> {
        let raw = raw.trim();
        let lower = raw.to_ascii_lowercase();
        let (https, rest) = if let Some(rest) = lower.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = lower.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(PublicUrlError);
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.is_empty()
            || authority.contains('@')
            || authority.contains(char::is_whitespace)
        {
            return Err(PublicUrlError);
        }
        let default_port = if https { ":443" } else { ":80" };
        let authority = authority.strip_suffix(default_port).unwrap_or(authority);
        if let Some((host, port)) = authority.rsplit_once(':') {
            if !host.ends_with(']') && host.contains(':') {
                return Err(PublicUrlError);
            }
            if host.is_empty() || port.parse::<u16>().is_err() {
                return Err(PublicUrlError);
            }
        }
        let scheme = if https { "https" } else { "http" };
        Ok(Self {
            https,
            origin: format!("{scheme}://{authority}"),
        })
    }

    /// Whether it is https (then cookies are `Secure` and `__Host-` prefixed).
    #[must_use]
    pub const fn is_https(&self) -> bool {
        self.https
    }

    /// `scheme://host[:port]`.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// Whether the request says it comes from the console's own origin.
pub(crate) fn is_same_origin(headers: &HeaderMap, public: Option<&PublicUrl>) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = header(HOST.as_str());
    let matches = |origin: &str| origin_matches(origin, public, host);
    match header(ORIGIN.as_str()) {
        Some(origin) if origin != "null" => return matches(origin),
        _ => {}
    }
    if let Some(site) = header("sec-fetch-site") {
        return site.eq_ignore_ascii_case("same-origin");
    }
    header(REFERER.as_str())
        .and_then(origin_of_url)
        .is_some_and(matches)
}

/// The `scheme://authority` a URL starts with.
fn origin_of_url(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")? + 3;
    let end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    Some(&url[..end])
}

fn origin_matches(origin: &str, public: Option<&PublicUrl>, host: Option<&str>) -> bool {
    match public {
        Some(public) => PublicUrl::parse(origin).is_ok_and(|o| o.origin == public.origin),
        None => {
            let Some(host) = host else { return false };
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn public_urls_are_normalised_to_their_origin() {
        let url = PublicUrl::parse("HTTPS://Tokens.Example.com:443/admin").unwrap();
        assert!(url.is_https());
        assert_eq!(url.origin(), "https://tokens.example.com");
        assert_eq!(
            PublicUrl::parse("http://127.0.0.1:8080").unwrap().origin(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "",
            "tokens.example.com",
            "ftp://x",
            "https://",
            "https://a:b",
            "https://u@h",
        ] {
            assert_eq!(PublicUrl::parse(bad), Err(PublicUrlError), "{bad}");
        }
    }

    #[test]
    fn without_a_public_url_the_origin_must_name_the_host() {
        let ok = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(is_same_origin(&ok, None));
        let forged = headers(&[("host", "127.0.0.1:8080"), ("origin", "http://evil.test")]);
        assert!(!is_same_origin(&forged, None));
        assert!(!is_same_origin(
            &headers(&[("host", "127.0.0.1:8080")]),
            None
        ));
    }

    #[test]
    fn with_a_public_url_the_origin_must_be_it() {
        let public = PublicUrl::parse("https://tokens.example.com").unwrap();
        let ok = headers(&[
            ("host", "internal:8080"),
            ("origin", "https://tokens.example.com"),
        ]);
        assert!(is_same_origin(&ok, Some(&public)));
        let plain = headers(&[
            ("host", "tokens.example.com"),
            ("origin", "http://tokens.example.com"),
        ]);
        assert!(!is_same_origin(&plain, Some(&public)));
    }

    #[test]
    fn a_null_origin_is_judged_by_sec_fetch_site_then_referer() {
        let same = headers(&[
            ("host", "h:1"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(is_same_origin(&same, None));
        let cross = headers(&[
            ("host", "h:1"),
            ("origin", "null"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(!is_same_origin(&cross, None));
        let sibling = headers(&[("host", "h:1"), ("sec-fetch-site", "same-site")]);
        assert!(!is_same_origin(&sibling, None));
        let referer = headers(&[("host", "h:1"), ("referer", "http://h:1/admin/spaces?x=1")]);
        assert!(is_same_origin(&referer, None));
        let other = headers(&[("host", "h:1"), ("referer", "http://h:2/admin")]);
        assert!(!is_same_origin(&other, None));
    }
}
