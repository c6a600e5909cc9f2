//! The commands that need neither a store nor a server of their own: the OpenAPI document,
//! a readiness probe of a running server, and shell completions.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::CommandFactory;
use reqwest::Url;

use crate::config::{Cli, HealthcheckArgs};

/// `tollgate openapi`: the document `GET /openapi.json` serves, from the same code.
pub fn openapi() -> anyhow::Result<()> {
    let document = tollgate_http::openapi()
        .to_pretty_json()
        .context("failed to serialize the OpenAPI document")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{document}")?;
    Ok(())
}

/// `tollgate completions SHELL`.
pub fn completions(shell: clap_complete::Shell) {
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "tollgate",
        &mut std::io::stdout().lock(),
    );
}

/// `tollgate healthcheck`: whether the server answers its readiness route with 200. Every
/// other outcome (refused, timed out, not ready) is `false`, with the reason on standard
/// error; only a URL that cannot be used is an error.
pub fn healthcheck(args: &HealthcheckArgs) -> anyhow::Result<bool> {
    let url = readiness_url(args.url.as_deref(), args.listen)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the runtime")?;
    let answer = runtime.block_on(async {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(args.timeout_seconds))
            .build()?
            .get(url.clone())
            .send()
            .await
    });
    match answer {
        Ok(response) if response.status() == reqwest::StatusCode::OK => Ok(true),
        Ok(response) => {
            eprintln!("tollgate healthcheck: {url} answered {}", response.status());
            Ok(false)
        }
        Err(error) => {
            // reqwest's own message names the URL; the innermost source says what happened
            // ("Connection refused", a timeout).
            let mut cause: &dyn std::error::Error = &error;
            while let Some(source) = cause.source() {
                cause = source;
            }
            eprintln!("tollgate healthcheck: {error}: {cause}");
            Ok(false)
        }
    }
}

/// The URL to probe: `url` as given when it names a path, with `/readyz` when it is only a
/// base; else `http://` and the listen address (127.0.0.1 or ::1 for an unspecified one).
fn readiness_url(url: Option<&str>, listen: SocketAddr) -> anyhow::Result<Url> {
    let Some(url) = url else {
        let mut address = listen;
        if address.ip().is_unspecified() {
            address.set_ip(if address.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        return Url::parse(&format!("http://{address}/readyz"))
            .context("failed to build the readiness URL");
    };
    let mut parsed = Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    if parsed.scheme() != "http" {
        anyhow::bail!("{url:?}: tollgate healthcheck speaks plain http only (a probe asks the server on its own address)");
    }
    if parsed.path() == "/" {
        parsed.set_path("/readyz");
    }
    Ok(parsed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn url(given: Option<&str>, listen: &str) -> String {
        readiness_url(given, listen.parse().unwrap())
            .unwrap()
            .to_string()
    }

    #[test]
    fn the_readiness_url_comes_from_the_listen_address_or_the_given_one() {
        assert_eq!(url(None, "127.0.0.1:8080"), "http://127.0.0.1:8080/readyz");
        assert_eq!(url(None, "0.0.0.0:9000"), "http://127.0.0.1:9000/readyz");
        assert_eq!(url(None, "[::]:9000"), "http://[::1]:9000/readyz");
        assert_eq!(
            url(Some("http://tollgate:8080"), "127.0.0.1:1"),
            "http://tollgate:8080/readyz"
        );
        assert_eq!(
            url(Some("http://tollgate:8080/healthz"), "127.0.0.1:1"),
            "http://tollgate:8080/healthz"
        );
    }

    #[test]
    fn a_url_that_cannot_be_probed_is_an_error() {
        let listen = "127.0.0.1:1".parse().unwrap();
        assert!(readiness_url(Some("not a url"), listen).is_err());
        assert!(readiness_url(Some("https://tollgate"), listen).is_err());
    }
}
