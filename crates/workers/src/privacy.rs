//! Anonymizes members whose deletion request is due (`store::privacy::deletion`). The
//! schedule lives in the requests table, so a restart (or another server) picks up what is
//! pending; a claim holds a request for a lease, and anonymizing stamps it done in the same
//! transaction, so many workers anonymize each member once. The clock is injectable, so tests
//! run the job "eight days later" without waiting.

use kindling_domain::AccountId;
use kindling_store::privacy::deletion;
use kindling_store::privacy::PrivacyError;
use kindling_store::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub use crate::clock::{Clock, SystemClock};

#[derive(Debug, Clone)]
pub struct Config {
    /// Requests fall due by the day, so a slow poll is enough.
    pub poll_interval: Duration,
    /// A claimed request is not taken by another worker for this long; one anonymization is
    /// a short transaction.
    pub lease_seconds: i64,
    /// Requests claimed per poll.
    pub batch: i64,
    /// Only these accounts' requests (`None`: every account's). Tests sharing one database
    /// run the job for their own accounts.
    pub accounts: Option<Vec<AccountId>>,
}

impl Default for Config {
    fn default() -> Self {
        Self { poll_interval: Duration::from_secs(60), lease_seconds: 300, batch: 100, accounts: None }
    }
}

/// Anonymizes every request due at `clock.now()`, batch by batch; returns how many members
/// this call anonymized. A request another worker holds is skipped (its lease runs out if
/// that worker dies, and it is taken again).
///
/// A request that fails stays leased (and is taken again when its lease runs out); the rest
/// of its batch goes on, and the first failure is returned once nothing else is due.
pub async fn run_once(db: &Db, clock: &dyn Clock, config: &Config) -> Result<usize, PrivacyError> {
    let mut done = 0;
    let mut failed = None;
    loop {
        let now = clock.now();
        let claimed = deletion::claim(db, now, config.lease_seconds, config.batch, config.accounts.as_deref()).await?;
        if claimed.is_empty() {
            return failed.map_or(Ok(done), Err);
        }
        for due in claimed {
            match deletion::anonymize(db, due, now).await {
                Ok(true) => {
                    tracing::info!(account = %due.account_id, member = %due.member_id, "member anonymized");
                    done += 1;
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(account = %due.account_id, member = %due.member_id, error = ?e, "anonymizing failed");
                    failed.get_or_insert(e);
                }
            }
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
            if let Err(e) = run_once(&db, clock.as_ref(), &config).await {
                tracing::error!(error = ?e, "privacy worker");
            }
        }
    })
}
