//! One HTTP client for every delivery. Addresses are vetted where they are chosen: a
//! resolver that refuses names with a non-public address, and a check of IP-literal hosts
//! (which never reach the resolver). Proxies from the environment are ignored, since a proxy
//! would connect to the target instead of the vetted address; redirects are not followed.

use super::Config;
use crate::addresses;
use kindling_store::credentials::outbox::Job;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::error::Error;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use url::Host;

/// Resolves with the system resolver and refuses a name if any of its addresses is not
/// public, so a name that mixes public and private answers cannot pick the private one.
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
            if !allow_private {
                if let Some(reason) = addrs.iter().find_map(|a| refused(a.ip())) {
                    return Err(format!("refused {host}: {reason}").into());
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

fn refused(ip: IpAddr) -> Option<String> {
    addresses::refusal(ip).map(|range| format!("{ip} is not a public address ({range})"))
}

/// The client all deliveries share (its connection pool included).
pub fn client(config: &Config) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(Arc::new(PublicOnly { allow_private: config.allow_private }))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout.min(config.attempt_timeout()))
        .timeout(config.attempt_timeout())
        .user_agent(concat!("kindling-callbacks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A failed attempt: the HTTP status if there was one, and what went wrong.
pub type Failure = (Option<i64>, String);

/// One delivery attempt; `Ok` holds the (2xx) status.
pub async fn attempt(client: &reqwest::Client, job: &Job, allow_private: bool) -> Result<i64, Failure> {
    let url = url::Url::parse(&job.url).map_err(|e| (None, format!("bad url: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err((None, format!("refused scheme {}", url.scheme())));
    }
    let literal = match url.host() {
        None => return Err((None, "no host".into())),
        Some(Host::Domain(_)) => None,
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
    };
    if let Some(reason) = literal.filter(|_| !allow_private).and_then(refused) {
        return Err((None, format!("refused: {reason}")));
    }
    let request = match (job.method.as_str(), &job.body) {
        ("POST", Some(body)) => client.post(url).header("content-type", "application/json").body(body.clone()),
        _ => client.get(url),
    };
    // The error is logged without the URL, which the outbox row already holds (and which may
    // carry a member's identifier, scrubbed from the row when the member is anonymized).
    let response = request.send().await.map_err(|e| (None, with_causes(&e.without_url())))?;
    let status = i64::from(response.status().as_u16());
    if response.status().is_success() {
        Ok(status)
    } else {
        Err((Some(status), format!("HTTP {status}")))
    }
}

/// reqwest's message says only what failed; the resolver's refusal or the timeout is a cause.
fn with_causes(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_domain::Timestamp;

    fn job(url: &str) -> Job {
        Job {
            id: 1,
            account_id: kindling_domain::AccountId(1),
            method: "GET".into(),
            url: url.into(),
            body: None,
            attempts: 1,
            give_up_at: Timestamp::from_unix(0),
        }
    }

    async fn try_url(url: &str, allow_private: bool) -> Result<i64, Failure> {
        let config = Config { allow_private, ..Config::default() };
        attempt(&client(&config).unwrap(), &job(url), allow_private).await
    }

    #[tokio::test]
    async fn ip_literals_are_vetted() {
        for url in [
            "http://127.0.0.1:9/cb",
            "http://[::1]:9/cb",
            "http://[::127.0.0.1]:9/cb",
            "http://[::ffff:127.0.0.1]:9/cb",
            "http://[64:ff9b::7f00:1]:9/cb",
            "http://[fec0::1]:9/cb",
            "http://2130706433:9/cb",
            "http://0x7f.1:9/cb",
            "http://192.0.0.1:9/cb",
            "http://198.18.0.1:9/cb",
            "http://240.0.0.1:9/cb",
        ] {
            let (status, error) = try_url(url, false).await.unwrap_err();
            assert_eq!(status, None);
            assert!(error.contains("not a public address"), "{url}: {error}");
        }
    }

    #[tokio::test]
    async fn resolved_names_are_vetted() {
        let (_, error) = try_url("http://localhost:9/cb", false).await.unwrap_err();
        assert!(error.contains("refused localhost") && error.contains("not a public address"), "{error}");
    }

    #[tokio::test]
    async fn private_targets_are_reached_when_allowed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        // Nothing listens any more: the connection is attempted (and refused by the OS).
        let (_, error) = try_url(&format!("http://localhost:{port}/cb"), true).await.unwrap_err();
        assert!(!error.contains("not a public address"), "{error}");
    }

    #[tokio::test]
    async fn other_schemes_are_refused() {
        let (_, error) = try_url("ftp://example.com/", true).await.unwrap_err();
        assert!(error.contains("refused scheme"), "{error}");
    }
}
