//! The per-process cache of token digests → (account, expiry), and the task that keeps it
//! honest about revocations made by this or any other process.
//!
//! A token never changes owner or expiry, so the only way an entry goes stale is
//! revocation. Every revocation is appended to the `auth_revocations` log in the same
//! transaction that deletes the token rows; each process polls the log every
//! `POLL_INTERVAL` and evicts what it names, and the revoking process evicts at once.

use kindling_domain::{AccountId, Timestamp};
use kindling_store::revocations::{self, Revocation};
use kindling_store::Db;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often each process reads the revocation log: revocations reach every process well
/// within a second.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Log entries read per query; a longer backlog is read in several.
const BATCH: i64 = 1000;

pub(crate) type Owner = (AccountId, Timestamp);

pub(crate) struct TokenCache {
    entries: quick_cache::sync::Cache<String, Owner>,
    /// Bumped before every eviction. A lookup that started before an eviction may have read
    /// a token that is now revoked, so it must not leave that token cached.
    evictions: AtomicU64,
}

impl TokenCache {
    pub(crate) fn new() -> Self {
        Self { entries: quick_cache::sync::Cache::new(100_000), evictions: AtomicU64::new(0) }
    }

    pub(crate) fn get(&self, digest: &str) -> Option<Owner> {
        self.entries.get(digest)
    }

    /// Marks the start of a database lookup; pass the mark to `remember`.
    pub(crate) fn lookup_started(&self) -> u64 {
        self.evictions.load(Ordering::SeqCst)
    }

    /// Caches a lookup's result unless an eviction happened since it started. Inserting
    /// first and checking after closes the race with an eviction running concurrently:
    /// either the eviction removes this entry, or this sees the bumped counter.
    pub(crate) fn remember(&self, digest: String, owner: Owner, started: u64) {
        self.entries.insert(digest.clone(), owner);
        if self.evictions.load(Ordering::SeqCst) != started {
            self.entries.remove(&digest);
        }
    }

    pub(crate) fn forget_token(&self, digest: &str) {
        self.evictions.fetch_add(1, Ordering::SeqCst);
        self.entries.remove(digest);
    }

    pub(crate) fn forget_accounts(&self, accounts: &HashSet<AccountId>) {
        self.evictions.fetch_add(1, Ordering::SeqCst);
        self.entries.retain(|_, (account, _)| !accounts.contains(account));
    }

    fn forget_all(&self) {
        self.evictions.fetch_add(1, Ordering::SeqCst);
        self.entries.clear();
    }

    fn apply(&self, batch: &[Revocation]) {
        let mut accounts = HashSet::new();
        for revocation in batch {
            match &revocation.digest {
                Some(digest) => self.forget_token(digest),
                None => {
                    accounts.insert(revocation.account);
                }
            }
        }
        if !accounts.is_empty() {
            self.forget_accounts(&accounts);
        }
    }
}

/// Polls the revocation log until the cache is dropped (its server stopped).
pub(crate) fn spawn_watcher(db: Db, cache: Weak<TokenCache>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = None;
        let mut ticks = tokio::time::interval(POLL_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(cache) = cache.upgrade() else { return };
            match poll(&db, &cache, seen).await {
                Ok(newest) => seen = Some(newest),
                Err(e) => tracing::warn!(error = %e, "reading the token revocation log failed; retrying"),
            }
        }
    })
}

/// Applies the entries after `seen` and returns the newest id. The first poll starts from
/// the newest entry and empties the cache, which covers anything revoked before it.
async fn poll(db: &Db, cache: &Arc<TokenCache>, seen: Option<i64>) -> kindling_store::Result<i64> {
    let Some(mut seen) = seen else {
        let newest = revocations::latest(db).await?;
        cache.forget_all();
        return Ok(newest);
    };
    loop {
        let batch = revocations::since(db, seen, BATCH).await?;
        let Some(last) = batch.last() else { return Ok(seen) };
        seen = last.id;
        cache.apply(&batch);
        if (batch.len() as i64) < BATCH {
            return Ok(seen);
        }
    }
}
