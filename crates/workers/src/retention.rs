//! Deletes what is kept only for a while, so these tables stop growing with traffic:
//! - idempotency keys once forgotten (a day after their request; a replay after that runs the
//!   request anew anyway), except one whose request is still running;
//! - callbacks delivered or given up once older than the callback retention (30 days by
//!   default, `KINDLING_CALLBACK_RETENTION_DAYS`), with their logged attempts: the portal's
//!   delivery log shows that long. Pending callbacks stay, whatever their age.
//!
//! Every server process runs it; deleting is idempotent, so two at once only share the work.
//! Each statement deletes one batch, so the SQLite writer is never held for long.

use crate::clock::Clock;
use kindling_domain::AccountId;
use kindling_store::credentials::outbox;
use kindling_store::idempotency::{self, KEY_LIFETIME_SECONDS};
use kindling_store::{Db, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const DAY_SECONDS: i64 = 24 * 60 * 60;

#[derive(Debug, Clone)]
pub struct Config {
    pub poll_interval: Duration,
    /// Days a delivered or given-up callback is kept.
    pub callback_days: i64,
    /// Rows one statement deletes.
    pub batch: i64,
    /// Only these accounts' rows (`None`: every account's). Tests sharing one database run
    /// the job for their own accounts.
    pub accounts: Option<Vec<AccountId>>,
}

impl Default for Config {
    fn default() -> Self {
        Self { poll_interval: Duration::from_secs(60 * 60), callback_days: 30, batch: 1000, accounts: None }
    }
}

impl Config {
    /// The defaults with `KINDLING_CALLBACK_RETENTION_DAYS` (1 to 3650).
    pub fn from_env() -> Result<Self, String> {
        Self::from_var(std::env::var("KINDLING_CALLBACK_RETENTION_DAYS").ok())
    }

    fn from_var(days: Option<String>) -> Result<Self, String> {
        let defaults = Self::default();
        let Some(days) = days else { return Ok(defaults) };
        let callback_days = days.parse::<i64>().ok().filter(|d| (1..=3650).contains(d)).ok_or_else(|| {
            format!("KINDLING_CALLBACK_RETENTION_DAYS must be a whole number of days from 1 to 3650, not {days:?}")
        })?;
        Ok(Self { callback_days, ..defaults })
    }
}

/// How many rows one run deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub idempotency_keys: u64,
    pub callbacks: u64,
}

/// Deletes everything due at `clock.now()`, batch by batch.
pub async fn run_once(db: &Db, clock: &dyn Clock, config: &Config) -> Result<Purged, StoreError> {
    let now = clock.now();
    let accounts = config.accounts.as_deref();
    let keys = until_done(config.batch, || idempotency::purge(db, now, KEY_LIFETIME_SECONDS, config.batch, accounts));
    let callbacks = config.callback_days.saturating_mul(DAY_SECONDS);
    let before = now.plus_seconds(-callbacks);
    Ok(Purged {
        idempotency_keys: keys.await?,
        callbacks: until_done(config.batch, || outbox::purge(db, before, config.batch, accounts)).await?,
    })
}

/// Runs `purge` until a batch comes back short; the total deleted.
async fn until_done<F, Fut>(batch: i64, purge: F) -> Result<u64, StoreError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<u64, StoreError>>,
{
    let mut total = 0;
    loop {
        let deleted = purge().await?;
        total += deleted;
        if deleted < batch.max(1) as u64 {
            return Ok(total);
        }
    }
}

/// Runs the job every `poll_interval` until `stop` turns true or its sender is dropped.
pub fn spawn(
    db: Db,
    config: Config,
    clock: Arc<dyn Clock>,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    crate::every(config.poll_interval, stop, move || {
        let (db, clock, config) = (db.clone(), clock.clone(), config.clone());
        async move {
            match run_once(&db, clock.as_ref(), &config).await {
                Ok(purged) if purged != Purged::default() => {
                    tracing::info!(
                        idempotency_keys = purged.idempotency_keys,
                        callbacks = purged.callbacks,
                        "retention: deleted"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = ?e, "retention worker"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_retention_comes_from_the_environment() {
        assert_eq!(Config::from_var(None).unwrap().callback_days, 30);
        assert_eq!(Config::from_var(Some("90".into())).unwrap().callback_days, 90);
        for bad in ["0", "-1", "3651", "thirty", ""] {
            let e = Config::from_var(Some(bad.into())).unwrap_err();
            assert!(e.contains("KINDLING_CALLBACK_RETENTION_DAYS"), "{bad}: {e}");
        }
    }
}
