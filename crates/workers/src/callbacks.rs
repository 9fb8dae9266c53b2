//! Delivers callbacks from the outbox: at least once, with exponential backoff for up to
//! 24 hours, every attempt logged. Targets must be public addresses unless allowed (tests
//! allow them); see `delivery` for where that is checked. Accounts are served concurrently,
//! each account's callbacks one at a time, so one account's slow or hanging target never
//! delays another account's callbacks.

mod delivery;

pub use delivery::{attempt, client, Failure};

use kindling_domain::{AccountId, Timestamp};
use kindling_store::credentials::outbox::{self, Job, Outcome};
use kindling_store::Db;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

#[derive(Debug, Clone)]
pub struct Config {
    pub poll_interval: Duration,
    /// A claimed callback is not retried by another worker for this long. A claimed callback
    /// is attempted at once, so this needs only to outlast one attempt (see `attempt_timeout`).
    pub lease_seconds: i64,
    /// How many accounts' callbacks one worker delivers at the same time.
    pub max_in_flight: usize,
    pub connect_timeout: Duration,
    /// For a whole attempt: connecting, sending and the response's status line.
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
            max_in_flight: 32,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            base_backoff_seconds: 30,
            max_backoff_seconds: 3600,
            allow_private: false,
        }
    }
}

impl Config {
    /// The defaults, with `KINDLING_CALLBACK_ALLOW_PRIVATE`, `KINDLING_CALLBACK_LEASE_SECONDS`
    /// and `KINDLING_CALLBACK_TIMEOUT_SECONDS` from the environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let seconds = |name: &str, default: i64| -> Result<i64, String> {
            match var(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|s| (1..=86_400).contains(s))
                    .ok_or_else(|| format!("{name} must be a whole number of seconds from 1 to 86400, not {v:?}")),
            }
        };
        let defaults = Self::default();
        let timeout = seconds("KINDLING_CALLBACK_TIMEOUT_SECONDS", defaults.timeout.as_secs() as i64)?;
        let lease_seconds = seconds("KINDLING_CALLBACK_LEASE_SECONDS", defaults.lease_seconds)?;
        if lease_seconds <= timeout {
            return Err(format!(
                "KINDLING_CALLBACK_LEASE_SECONDS ({lease_seconds}) must exceed KINDLING_CALLBACK_TIMEOUT_SECONDS \
                 ({timeout}), or another worker resends a callback still in flight"
            ));
        }
        Ok(Self {
            allow_private: var("KINDLING_CALLBACK_ALLOW_PRIVATE").is_some_and(|v| v == "1"),
            lease_seconds,
            timeout: Duration::from_secs(timeout as u64),
            ..defaults
        })
    }

    /// The timeout, kept a second inside the lease so an attempt (and its record) ends
    /// before another worker may claim the same callback.
    pub fn attempt_timeout(&self) -> Duration {
        let lease = Duration::from_secs(self.lease_seconds.max(2) as u64 - 1);
        self.timeout.min(lease)
    }

    /// When to try again after `attempts` failed attempts.
    pub fn next_attempt(&self, now: Timestamp, attempts: i64) -> Timestamp {
        let exponent = attempts.clamp(1, 30) - 1;
        let delay = self.base_backoff_seconds.saturating_mul(1i64 << exponent).min(self.max_backoff_seconds);
        now.plus_seconds(delay.max(1))
    }
}

/// Attempts one claimed callback and records the outcome.
async fn deliver(db: Db, client: reqwest::Client, config: Config, job: Job) {
    let started = Instant::now();
    let result = attempt(&client, &job, config.allow_private).await;
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
    if let Err(e) = outbox::record(&db, &job, at, duration_ms, outcome).await {
        // The lease runs out and the callback is attempted again.
        tracing::error!(callback = job.id, error = %e, "recording a callback attempt");
    }
}

/// Polls the outbox until `stop` turns true or its sender is dropped, then lets the
/// attempts in flight finish (each is bounded by the attempt timeout).
pub fn spawn(db: Db, config: Config, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let client = client(&config).expect("the callback HTTP client builds");
    tokio::spawn(async move {
        let mut in_flight = JoinSet::new();
        // Which account each delivery task serves; an account is skipped while it has one.
        let mut accounts: HashMap<tokio::task::Id, AccountId> = HashMap::new();
        loop {
            let free = config.max_in_flight.saturating_sub(in_flight.len());
            if free > 0 {
                let busy: Vec<AccountId> = accounts.values().copied().collect();
                match outbox::claim(&db, Timestamp::now(), config.lease_seconds, free as i64, &busy).await {
                    Ok(jobs) => {
                        for job in jobs {
                            let account = job.account_id;
                            let task = in_flight.spawn(deliver(db.clone(), client.clone(), config.clone(), job));
                            accounts.insert(task.id(), account);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "callback worker"),
                }
            }
            tokio::select! {
                Some(done) = in_flight.join_next_with_id() => {
                    let id = match done {
                        Ok((id, ())) => id,
                        Err(e) => {
                            tracing::error!(error = %e, "callback delivery task");
                            e.id()
                        }
                    };
                    accounts.remove(&id);
                }
                _ = tokio::time::sleep(config.poll_interval) => {}
                changed = stop.changed() => {
                    // Stop when told to, or when whoever could tell us is gone.
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
        while in_flight.join_next().await.is_some() {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = Config { base_backoff_seconds: 30, max_backoff_seconds: 3600, ..Config::default() };
        let now = Timestamp::from_unix(0);
        let delays: Vec<i64> = (1..=9).map(|n| config.next_attempt(now, n).unix()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    fn from(vars: &[(&str, &str)]) -> Result<Config, String> {
        Config::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn settings_come_from_the_environment() {
        let config = from(&[]).unwrap();
        assert_eq!((config.lease_seconds, config.timeout, config.allow_private), (60, Duration::from_secs(10), false));
        let config = from(&[
            ("KINDLING_CALLBACK_LEASE_SECONDS", "3"),
            ("KINDLING_CALLBACK_TIMEOUT_SECONDS", "2"),
            ("KINDLING_CALLBACK_ALLOW_PRIVATE", "1"),
        ])
        .unwrap();
        assert_eq!((config.lease_seconds, config.timeout, config.allow_private), (3, Duration::from_secs(2), true));
    }

    #[test]
    fn a_lease_must_outlast_an_attempt() {
        let error = from(&[("KINDLING_CALLBACK_LEASE_SECONDS", "2")]).unwrap_err();
        assert!(error.contains("must exceed KINDLING_CALLBACK_TIMEOUT_SECONDS (10)"), "{error}");
        for bad in ["0", "-1", "1.5", "soon", "86401"] {
            assert!(from(&[("KINDLING_CALLBACK_TIMEOUT_SECONDS", bad)]).is_err(), "{bad}");
        }
        // Set in code, the timeout is cut to fit the lease instead.
        let config = Config { lease_seconds: 5, timeout: Duration::from_secs(10), ..Config::default() };
        assert_eq!(config.attempt_timeout(), Duration::from_secs(4));
    }
}
