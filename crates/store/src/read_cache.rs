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
//! write load most reads miss, and a miss costs one header compare more than no cache), and
//! exact: a hit returns what a read would return at that moment.
//!
//! Reading the header costs a few dozen loads from the mapped `-shm` (`shm`), where a
//! database read takes a reader connection, runs its statement and decodes the row (and
//! after a commit begins a new read transaction, `sqlite/readers.rs`). PostgreSQL has no
//! such version to read without a round trip, so its reads are not cached.

use crate::shm::{Header, Version};
use std::any::Any;
use std::sync::Arc;

/// Entries kept (least recently used out first); members are about 200 bytes each.
const CAPACITY: usize = 16_384;

#[derive(Clone)]
struct Entry {
    version: Version,
    record: Arc<dyn Any + Send + Sync>,
}

/// Rows by (table, account, id), each with the database version it was read at.
pub struct ReadCache {
    version: Arc<Header>,
    entries: quick_cache::sync::Cache<(&'static str, i64, i64), Entry>,
}

impl ReadCache {
    /// A cache versioned by `version`, the database's mapped WAL-index header. The caller
    /// keeps a connection to the database open for as long as the cache lives (see `shm`).
    pub(crate) fn new(version: Arc<Header>) -> Self {
        Self { version, entries: quick_cache::sync::Cache::new(CAPACITY) }
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
        if let Some(entry) = self.entries.get(&key) {
            if entry.version == version {
                if let Some(record) = entry.record.downcast_ref::<R>() {
                    return Ok(Some(record.clone()));
                }
            }
        }
        let loaded = load.await?;
        match &loaded {
            Some(record) => self.entries.insert(key, Entry { version, record: Arc::new(record.clone()) }),
            None => {
                self.entries.remove(&key);
            }
        }
        Ok(loaded)
    }
}
