//! Delivers callbacks from the outbox: at least once, with exponential backoff for up to
//! 24 hours, every attempt logged. Outbound requests to loopback, private, link-local and
//! other non-public addresses are refused unless allowed (tests allow them), and the checked
//! address is the one connected to, so DNS cannot be switched in between.

use kindling_domain::Timestamp;
use kindling_store::credentials::outbox::{self, Job, Outcome};
use kindling_store::Db;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Config {
    pub poll_interval: Duration,
    /// A claimed callback is not retried by another worker for this long. A batch is
    /// delivered one by one, so this must exceed `batch × timeout`.
    pub lease_seconds: i64,
    pub batch: i64,
    pub timeout: Duration,
    /// Backoff after the first failure, doubling each attempt up to `max_backoff_seconds`.
    pub base_backoff_seconds: i64,
    pub max_backoff_seconds: i64,
    /// `KINDLING_CALLBACK_ALLOW_PRIVATE=1`: allow loopback and private addresses.
    pub allow_private: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            lease_seconds: 60,
            batch: 5,
            timeout: Duration::from_secs(10),
            base_backoff_seconds: 30,
            max_backoff_seconds: 3600,
            allow_private: false,
        }
    }
}

impl Config {
    pub fn from_env() -> Self {
        Self {
            allow_private: std::env::var("KINDLING_CALLBACK_ALLOW_PRIVATE").is_ok_and(|v| v == "1"),
            ..Self::default()
        }
    }

    /// When to try again after `attempts` failed attempts.
    pub fn next_attempt(&self, now: Timestamp, attempts: i64) -> Timestamp {
        let exponent = attempts.clamp(1, 30) - 1;
        let delay = self.base_backoff_seconds.saturating_mul(1i64 << exponent).min(self.max_backoff_seconds);
        now.plus_seconds(delay.max(1))
    }
}

/// Whether an address is reachable on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Resolves the URL's host and checks every address; returns the address to connect to.
async fn vet(url: &url::Url, allow_private: bool) -> Result<(String, SocketAddr), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("refused scheme {}", url.scheme()));
    }
    let host = url.host_str().ok_or("no host")?.to_owned();
    let port = url.port_or_known_default().ok_or("no port")?;
    let lookup = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((lookup.as_str(), port)).await.map_err(|e| format!("resolving {host}: {e}"))?.collect();
    let first = *addrs.first().ok_or_else(|| format!("{host} has no address"))?;
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(format!("refused non-public address {} for {host}", bad.ip()));
        }
    }
    Ok((host, first))
}

/// One delivery attempt.
async fn attempt(job: &Job, config: &Config) -> Result<i64, (Option<i64>, String)> {
    let url = url::Url::parse(&job.url).map_err(|e| (None, format!("bad url: {e}")))?;
    let (host, addr) = vet(&url, config.allow_private).await.map_err(|e| (None, e))?;
    let client = reqwest::Client::builder()
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, addr)
        .build()
        .map_err(|e| (None, e.to_string()))?;
    let request = match (job.method.as_str(), &job.body) {
        ("POST", Some(body)) => client.post(url).header("content-type", "application/json").body(body.clone()),
        _ => client.get(url),
    };
    let response = request.send().await.map_err(|e| (None, e.to_string()))?;
    let status = i64::from(response.status().as_u16());
    if response.status().is_success() {
        Ok(status)
    } else {
        Err((Some(status), format!("HTTP {status}")))
    }
}

/// Claims and delivers one batch; returns how many callbacks were attempted.
pub async fn run_once(db: &Db, config: &Config) -> kindling_store::Result<usize> {
    let now = Timestamp::now();
    let jobs = outbox::claim(db, now, config.lease_seconds, config.batch).await?;
    let count = jobs.len();
    // One at a time, so an account hears about a credential's events in order.
    for job in jobs {
        let started = Instant::now();
        let result = attempt(&job, config).await;
        let duration_ms = started.elapsed().as_millis() as i64;
        let at = Timestamp::now();
        let outcome = match result {
            Ok(status) => {
                tracing::info!(callback = job.id, status, attempts = job.attempts, "callback delivered");
                Outcome::Delivered { status }
            }
            Err((status, error)) => {
                let next = config.next_attempt(at, job.attempts);
                if next > job.give_up_at {
                    tracing::warn!(callback = job.id, attempts = job.attempts, %error, "callback given up");
                    Outcome::GaveUp { status, error }
                } else {
                    tracing::info!(callback = job.id, attempts = job.attempts, %error, "callback failed; will retry");
                    Outcome::Retry { status, error, next_attempt_at: next }
                }
            }
        };
        outbox::record(db, &job, at, duration_ms, outcome).await?;
    }
    Ok(count)
}

/// Polls the outbox until `stop` turns true or its sender is dropped.
pub fn spawn(db: Db, config: Config, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let worked = match run_once(&db, &config).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "callback worker");
                    0
                }
            };
            if worked > 0 {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(config.poll_interval) => {}
                changed = stop.changed() => {
                    // Stop when told to, or when whoever could tell us is gone.
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses_only() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = Config { base_backoff_seconds: 30, max_backoff_seconds: 3600, ..Config::default() };
        let now = Timestamp::from_unix(0);
        let delays: Vec<i64> = (1..=9).map(|n| config.next_attempt(now, n).unix()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[tokio::test]
    async fn private_targets_are_refused_by_default() {
        let url = url::Url::parse("http://127.0.0.1:9/cb").unwrap();
        assert!(vet(&url, false).await.unwrap_err().contains("non-public"));
        assert!(vet(&url, true).await.is_ok());
        assert!(vet(&url::Url::parse("ftp://example.com/").unwrap(), true).await.is_err());
    }
}
