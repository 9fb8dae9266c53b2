//! The per-process caches of the read path: token digest → (account, expiry), and account id
//! → account record. Both are kept honest by explicit invalidation, from this or any other
//! process.
//!
//! A token never changes owner or expiry, so a token entry goes stale only by revocation;
//! an account record goes stale when its settings change or its key is rotated. Every such
//! write appends to the `auth_revocations` log in its own transaction (the store does it),
//! and the writing process evicts at once. Each process reads the log every `POLL_INTERVAL`
//! and, on PostgreSQL, as soon as a `NOTIFY` says an entry was committed.

use kindling_domain::account::Account;
use kindling_domain::{AccountId, Timestamp};
use kindling_store::revocations::{self, Revocation, Target};
use kindling_store::{accounts, Db};
use quick_cache::Equivalent;
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often each process reads the log when nothing wakes it sooner: changes reach every
/// process well within a second even without notifications (SQLite, a lost connection).
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// `POLL_INTERVAL`, unless `KINDLING_AUTH_POLL_MS` sets another (tests slow the poll down to
/// show that notifications alone deliver changes).
fn poll_interval() -> Duration {
    let configured = std::env::var("KINDLING_AUTH_POLL_MS").ok().and_then(|v| v.parse().ok());
    configured.map_or(POLL_INTERVAL, Duration::from_millis)
}

/// Log entries read per query; a longer backlog is read in several.
const BATCH: i64 = 1000;

pub(crate) type Owner = (AccountId, Timestamp);

/// A cache that a lookup racing an eviction cannot refill with what the eviction removed.
struct Guarded<K, V> {
    entries: quick_cache::sync::Cache<K, V>,
    /// Bumped before every eviction. A lookup that started before an eviction may have read
    /// what is now stale, so it must not leave it cached.
    evictions: AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone> Guarded<K, V> {
    fn new(capacity: usize) -> Self {
        Self { entries: quick_cache::sync::Cache::new(capacity), evictions: AtomicU64::new(0) }
    }

    fn get<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<V> {
        self.entries.get(key)
    }

    /// Reads through the cache: a miss is loaded and cached, unless an eviction happened
    /// while it loaded. Inserting first and checking after closes the race with an eviction
    /// running concurrently: either the eviction removes this entry, or this sees the
    /// bumped counter and removes it.
    async fn get_or_load<E>(
        &self,
        key: K,
        load: impl std::future::Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<V>, E> {
        if let Some(value) = self.entries.get(&key) {
            return Ok(Some(value));
        }
        let started = self.evictions.load(Ordering::SeqCst);
        let loaded = load.await?;
        if let Some(value) = &loaded {
            self.entries.insert(key.clone(), value.clone());
            if self.evictions.load(Ordering::SeqCst) != started {
                self.entries.remove(&key);
            }
        }
        Ok(loaded)
    }

    fn forget<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) {
        self.evictions.fetch_add(1, Ordering::SeqCst);
        self.entries.remove(key);
    }

    fn forget_where(&self, stale: impl Fn(&K, &V) -> bool) {
        self.evictions.fetch_add(1, Ordering::SeqCst);
        self.entries.retain(|key, value| !stale(key, value));
    }

    fn clear(&self) {
        self.evictions.fetch_add(1, Ordering::SeqCst);
        self.entries.clear();
    }
}

pub(crate) struct AuthCache {
    tokens: Guarded<String, Owner>,
    accounts: Guarded<AccountId, Account>,
}

impl AuthCache {
    pub(crate) fn new() -> Self {
        Self { tokens: Guarded::new(100_000), accounts: Guarded::new(10_000) }
    }

    /// The account and expiry of a token digest (expired tokens included: the caller judges).
    pub(crate) async fn token_owner(&self, db: &Db, digest: &str) -> kindling_store::Result<Option<Owner>> {
        if let Some(owner) = self.tokens.get(digest) {
            return Ok(Some(owner));
        }
        self.tokens.get_or_load(digest.to_owned(), accounts::token_owner(db, digest)).await
    }

    /// The account's record.
    pub(crate) async fn account(&self, db: &Db, id: AccountId) -> kindling_store::Result<Option<Account>> {
        self.accounts.get_or_load(id, accounts::get(db, id)).await
    }

    pub(crate) fn forget_token(&self, digest: &str) {
        self.tokens.forget(digest);
    }

    /// Every token of these accounts, and their records.
    pub(crate) fn forget_accounts(&self, ids: &HashSet<AccountId>) {
        self.tokens.forget_where(|_, (account, _)| ids.contains(account));
        self.forget_records(ids);
    }

    /// The accounts' records (their settings changed); their tokens stay.
    pub(crate) fn forget_records(&self, ids: &HashSet<AccountId>) {
        self.accounts.forget_where(|id, _| ids.contains(id));
    }

    fn forget_all(&self) {
        self.tokens.clear();
        self.accounts.clear();
    }

    fn apply(&self, batch: &[Revocation]) {
        let (mut all_tokens, mut records) = (HashSet::new(), HashSet::new());
        for revocation in batch {
            match &revocation.target {
                Target::Token(digest) => self.forget_token(digest),
                Target::AllTokens => {
                    all_tokens.insert(revocation.account);
                }
                Target::Record => {
                    records.insert(revocation.account);
                }
            }
        }
        if !all_tokens.is_empty() {
            self.forget_accounts(&all_tokens);
        }
        if !records.is_empty() {
            self.forget_records(&records);
        }
    }
}

/// Aborts the PostgreSQL listener when the watcher ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads the log until the cache is dropped (its server stopped): every `POLL_INTERVAL`,
/// and at once when PostgreSQL notifies a new entry.
pub(crate) fn spawn_watcher(db: Db, cache: Weak<AuthCache>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let wake = Arc::new(tokio::sync::Notify::new());
        let _listener = revocations::spawn_listener(&db, wake.clone()).map(AbortOnDrop);
        let mut seen = None;
        let mut ticks = tokio::time::interval(poll_interval());
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = wake.notified() => {}
            }
            let Some(cache) = cache.upgrade() else { return };
            match poll(&db, &cache, seen).await {
                Ok(newest) => seen = Some(newest),
                Err(e) => tracing::warn!(error = %e, "reading the token revocation log failed; retrying"),
            }
        }
    })
}

/// Applies the entries after `seen` and returns the newest id. The first poll starts from
/// the newest entry and empties the cache, which covers anything logged before it.
async fn poll(db: &Db, cache: &Arc<AuthCache>, seen: Option<i64>) -> kindling_store::Result<i64> {
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
