//! A read cache for hot single-row reads on SQLite (`GET /v1.0/members/{id}`), valid for
//! every process that writes the same file, with no invalidation to get wrong.
//!
//! Each entry carries the **database version** it was read at: the WAL-index header that
//! SQLite keeps at the start of the `-shm` file (https://www.sqlite.org/walformat.html, "The
//! WAL-Index Header"). Every commit, by any connection of any process, rewrites that header
//! (its change counter, frame count and checksums change), and a read sees the header only
//! after the commit. So the version is read *before* the row: an entry is served only while
//! the header is byte for byte what it was then, i.e. while nothing at all has been committed
//! since; any write anywhere in the file makes every entry stale. That is coarse (under a
//! write load most reads miss, and a miss costs a header compare, a lookup and a copy of the
//! row into the entry more than no cache), and exact: a hit returns what a read would return
//! at that moment. A row not cached at all is kept on its second miss (`Doorkeeper`).
//!
//! Reading the header costs a few dozen loads from the mapped `-shm` (`shm`), where a
//! database read takes a reader connection, runs its statement and decodes the row (and
//! after a commit begins a new read transaction, `sqlite/readers.rs`). PostgreSQL has no
//! such version to read without a round trip, so its reads are not cached.

use crate::shm::{Header, Version};
use std::any::Any;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Entries kept (least recently used out first); members are about 200 bytes each.
const CAPACITY: usize = 16_384;
/// Slots of the admission filter (`Doorkeeper`), a power of two: 512 KiB.
const SEEN_SLOTS: usize = 1 << 16;

#[derive(Clone)]
struct Entry {
    version: Version,
    record: Arc<dyn Any + Send + Sync>,
}

/// Rows by (table, account, id), each with the database version it was read at.
pub struct ReadCache {
    version: Arc<Header>,
    entries: quick_cache::sync::Cache<(&'static str, i64, i64), Entry>,
    seen: Doorkeeper,
}

/// Admits a row into the cache on its second miss, not its first. Reads spread over a table
/// far larger than the cache (random ids over a million members) then miss without copying
/// each row into an entry and evicting another for it, which made those reads slower than
/// with no cache at all; a row read again soon is kept from then on.
///
/// Each slot holds the hash of the last key that missed into it: a second miss of the same
/// key finds its hash there (until another key's miss takes the slot). A false match (two
/// keys with the same 64-bit hash) only admits a row early; the filter never decides what a
/// read returns.
struct Doorkeeper {
    slots: Box<[AtomicU64]>,
    hasher: std::collections::hash_map::RandomState,
}

impl Doorkeeper {
    fn new() -> Self {
        Self { slots: (0..SEEN_SLOTS).map(|_| AtomicU64::new(0)).collect(), hasher: Default::default() }
    }

    /// Whether `key` missed before (recently); if not, remembers that it did now.
    fn missed_before(&self, key: &(&'static str, i64, i64)) -> bool {
        let hash = self.hasher.hash_one(key);
        let slot = &self.slots[hash as usize & (SEEN_SLOTS - 1)];
        // Relaxed: a lost or torn race only admits a row a miss early or late.
        slot.load(Ordering::Relaxed) == hash || {
            slot.store(hash, Ordering::Relaxed);
            false
        }
    }
}

impl ReadCache {
    /// A cache versioned by `version`, the database's mapped WAL-index header. The caller
    /// keeps a connection to the database open for as long as the cache lives (see `shm`).
    pub(crate) fn new(version: Arc<Header>) -> Self {
        Self { version, entries: quick_cache::sync::Cache::new(CAPACITY), seen: Doorkeeper::new() }
    }

    /// The row `key` names as of now: the cached copy if nothing has been committed since it
    /// was read, else `load`'s answer (kept for next time when found).
    pub(crate) async fn get_or_load<R, F>(&self, key: (&'static str, i64, i64), load: F) -> crate::Result<Option<R>>
    where
        R: Clone + Send + Sync + 'static,
        F: std::future::Future<Output = crate::Result<Option<R>>>,
    {
        // Before the row: a commit between the two makes this entry stale at once, never a
        // stale row current.
        // A header in the middle of changing: read, and keep nothing.
        let Some(version) = self.version.read() else { return load.await };
        let cached = self.entries.get(&key);
        if let Some(entry) = &cached {
            if entry.version == version {
                if let Some(record) = entry.record.downcast_ref::<R>() {
                    return Ok(Some(record.clone()));
                }
            }
        }
        let loaded = load.await?;
        match &loaded {
            // A stale entry's row was read before: it is replaced at once.
            Some(record) if cached.is_some() || self.seen.missed_before(&key) => {
                self.entries.insert(key, Entry { version, record: Arc::new(record.clone()) })
            }
            Some(_) => {}
            None => {
                self.entries.remove(&key);
            }
        }
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts the loads `get` makes the cache run, answering `row` each time.
    async fn get(cache: &ReadCache, id: i64, row: &str, loads: &AtomicUsize) -> Option<String> {
        let load = async {
            loads.fetch_add(1, Ordering::Relaxed);
            Ok(Some(row.to_owned()))
        };
        cache.get_or_load(("t", 1, id), load).await.unwrap()
    }

    #[tokio::test]
    async fn a_row_is_kept_on_its_second_miss_and_replaced_at_once_when_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
        let cache = ReadCache::new(Arc::new(Header::open(path.to_str().unwrap()).unwrap()));
        let loads = AtomicUsize::new(0);

        // The first miss is remembered, the second kept, the third read served from it.
        for expected_loads in [1, 2, 2, 2] {
            assert_eq!(get(&cache, 7, "first", &loads).await.as_deref(), Some("first"));
            assert_eq!(loads.load(Ordering::Relaxed), expected_loads);
        }
        // Another key starts over.
        get(&cache, 8, "other", &loads).await;
        get(&cache, 8, "other", &loads).await;
        assert_eq!(loads.load(Ordering::Relaxed), 4);

        // A commit makes the entry stale: the next read loads and keeps the new row at once.
        conn.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert_eq!(get(&cache, 7, "second", &loads).await.as_deref(), Some("second"));
        assert_eq!(get(&cache, 7, "third", &loads).await.as_deref(), Some("second"), "served from the cache");
        assert_eq!(loads.load(Ordering::Relaxed), 5);
    }
}
