//! SQLite's read-only connections, each keeping its read transaction open from one read to
//! the next for as long as nothing is committed.
//!
//! **Why.** In WAL mode every read transaction takes a shared lock on one of the `-shm`
//! file's read marks as it begins and drops it as it ends: an `fcntl` call each way, under
//! a mutex that all of the process's connections to the file share, unless a sibling
//! connection happens to hold the same mark. `cargo bench -p kindling-store --bench
//! sqlite_reads` (point reads by primary key over 1,000,000 rows, this 2-core machine,
//! 2026-12-01): 3.80 µs of thread time per read each in its own transaction, 1.07 µs inside
//! an open one; two threads did 421,813 and 1,976,727 reads/s.
//!
//! **The rule.** A reader's open transaction is used only while the WAL-index header is
//! byte for byte what it was just before that transaction began (`shm`; the read cache's
//! rule): no commit since, by any connection of any process, so the transaction sees what
//! a new one would. Otherwise it is ended and a new one begun. The header is read before
//! `BEGIN`, and the snapshot is taken by the first read after it, so a commit in between
//! only makes the recorded header older than the snapshot, and the next check ends it.
//!
//! **What an open transaction holds back.** Its read mark keeps a checkpoint from copying
//! later commits into the database file and the WAL from starting over. So a reader that
//! sees, after its read, that something has been committed ends its transaction at once,
//! and a thread ends those of idle readers once something is committed (checked every
//! `IDLE_CHECK`). Under a steady write load a reader therefore begins and ends a transaction
//! for each read, as SQLite does by itself; the saving is for reads while nothing is
//! written.

use crate::shm::{Header, Version, HEADER};
use crate::Result;
use rusqlite::Connection;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard, OwnedMutexGuard};

/// How often idle readers are checked for a transaction older than the last commit.
const IDLE_CHECK: Duration = Duration::from_millis(100);

struct Slot {
    conn: Arc<Mutex<Connection>>,
    /// The WAL-index header read just before the connection's open transaction began (only
    /// meaningful while it has one); touched only while `conn` is locked.
    began_at: std::sync::Mutex<Version>,
    /// Transactions begun on `conn` (its tests count them).
    begun: std::sync::atomic::AtomicU64,
}

impl Slot {
    /// Makes `conn`'s open transaction current: kept if nothing has been committed since it
    /// began, else ended and a new one begun.
    fn current(&self, conn: &Connection, header: &Header) -> Result<()> {
        let now = header.read();
        let mut began_at = self.began_at.lock().unwrap_or_else(PoisonError::into_inner);
        if !conn.is_autocommit() {
            if *began_at == now {
                return Ok(());
            }
            super::run_cached(conn, "COMMIT")?;
        }
        super::run_cached(conn, "BEGIN")?;
        *began_at = now;
        self.begun.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Ends `conn`'s open transaction if anything has been committed since it began.
    fn end_if_stale(&self, conn: &Connection, header: &Header) {
        if conn.is_autocommit() {
            return;
        }
        let stale = *self.began_at.lock().unwrap_or_else(PoisonError::into_inner) != header.read();
        if stale {
            if let Err(e) = super::run_cached(conn, "COMMIT") {
                tracing::warn!(error = %e, "cannot end a SQLite read transaction");
            }
        }
    }
}

pub(super) struct Readers {
    slots: Arc<[Slot]>,
    next: AtomicUsize,
    /// `None` when the `-shm` could not be mapped: each read is then its own transaction.
    header: Option<Arc<Header>>,
}

impl Readers {
    /// The connections, and, given the database's header, the thread that ends idle
    /// readers' transactions once something is committed (it stops when `Readers` is dropped).
    pub(super) fn new(connections: Vec<Connection>, header: Option<Arc<Header>>) -> Self {
        let slots: Arc<[Slot]> = connections
            .into_iter()
            .map(|conn| Slot {
                conn: Arc::new(Mutex::new(conn)),
                began_at: std::sync::Mutex::new([0; HEADER]),
                begun: 0.into(),
            })
            .collect();
        let header = header.filter(|header| {
            let (slots, header) = (Arc::downgrade(&slots), header.clone());
            let started = std::thread::Builder::new()
                .name("kindling-sqlite-readers".into())
                .spawn(move || end_idle_transactions(&slots, &header));
            // Without that thread an idle reader could hold checkpoints back indefinitely.
            started.inspect_err(|e| tracing::warn!(error = %e, "SQLite reads are each their own transaction")).is_ok()
        });
        Self { slots, next: AtomicUsize::new(0), header }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub(super) fn connections(&self) -> impl Iterator<Item = &Arc<Mutex<Connection>>> {
        self.slots.iter().map(|slot| &slot.conn)
    }

    /// A free reader (else the next in turn, once free) whose open transaction is current.
    pub(super) async fn read(&self) -> Result<ReadGuard<'_>> {
        let n = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let free =
            (0..n).map(|i| &self.slots[(start + i) % n]).find_map(|slot| Some((slot, slot.conn.try_lock().ok()?)));
        let (slot, conn) = match free {
            Some(free) => free,
            None => {
                let slot = &self.slots[start % n];
                (slot, slot.conn.lock().await)
            }
        };
        if let Some(header) = &self.header {
            slot.current(&conn, header)?;
        }
        Ok(ReadGuard { conn, stale_ends: self.header.as_deref().map(|header| (slot, header)) })
    }

    /// A reader with no transaction open, for a caller that begins its own.
    pub(super) async fn owned(&self) -> Result<OwnedMutexGuard<Connection>> {
        let n = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let free = (0..n).find_map(|i| self.slots[(start + i) % n].conn.clone().try_lock_owned().ok());
        let conn = match free {
            Some(conn) => conn,
            None => self.slots[start % n].conn.clone().lock_owned().await,
        };
        if !conn.is_autocommit() {
            super::run_cached(&conn, "COMMIT")?;
        }
        Ok(conn)
    }
}

/// A reader in a current read transaction; if something is committed while it is held, the
/// transaction is ended when it is dropped.
pub(crate) struct ReadGuard<'a> {
    conn: MutexGuard<'a, Connection>,
    stale_ends: Option<(&'a Slot, &'a Header)>,
}

impl<'a> ReadGuard<'a> {
    /// A connection whose reads are each their own transaction (the in-memory database's
    /// only connection).
    pub(super) fn plain(conn: MutexGuard<'a, Connection>) -> Self {
        Self { conn, stale_ends: None }
    }
}

impl Deref for ReadGuard<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        if let Some((slot, header)) = self.stale_ends {
            slot.end_if_stale(&self.conn, header);
        }
    }
}

fn end_idle_transactions(slots: &Weak<[Slot]>, header: &Header) {
    loop {
        std::thread::sleep(IDLE_CHECK);
        let Some(slots) = slots.upgrade() else { return };
        for slot in slots.iter() {
            // A reader in use ends its own when it is let go.
            if let Ok(conn) = slot.conn.try_lock() {
                slot.end_if_stale(&conn, header);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::SqliteDb;
    use super::*;

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |row| row.get(0)).unwrap()
    }

    async fn read_count(db: &SqliteDb) -> i64 {
        count(&db.reader().await.unwrap())
    }

    fn begun(db: &SqliteDb) -> u64 {
        db.readers.slots.iter().map(|slot| slot.begun.load(Ordering::Relaxed)).sum()
    }

    fn open_transactions(db: &SqliteDb) -> usize {
        db.readers.slots.iter().filter(|slot| !slot.conn.try_lock().unwrap().is_autocommit()).count()
    }

    /// A database with a table `t`, and another connection to it that writes as a second
    /// process would (its commits reach the readers only through the file).
    fn database(dir: &tempfile::TempDir) -> (SqliteDb, Connection) {
        let path = dir.path().join("readers.db");
        let other = Connection::open(&path).unwrap();
        other.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)").unwrap();
        (SqliteDb::open(path.to_str().unwrap()).unwrap(), other)
    }

    #[tokio::test]
    async fn a_reader_keeps_its_transaction_until_something_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let (db, other) = database(&dir);
        for written in 1..=20 {
            other.execute("INSERT INTO t VALUES (1)", []).unwrap();
            // Every read sees every commit before it ...
            assert_eq!(read_count(&db).await, written);
            let before = begun(&db);
            // ... and, nothing having been committed since, the next reads on that reader
            // begin no transaction (the four readers are taken in turn, so at most three others
            // begin one each).
            for _ in 0..12 {
                assert_eq!(read_count(&db).await, written);
            }
            assert!(begun(&db) - before <= 3, "{} transactions begun by 12 reads", begun(&db) - before);
            assert!(open_transactions(&db) >= 1, "after write {written}");
        }
    }

    /// `database` with one row, read through every reader (each then has a transaction open).
    async fn read_once_by_every_reader(dir: &tempfile::TempDir) -> (SqliteDb, Connection) {
        let (db, other) = database(dir);
        other.execute("INSERT INTO t VALUES (1)", []).unwrap();
        for _ in 0..8 {
            assert_eq!(read_count(&db).await, 1);
        }
        (db, other)
    }

    #[tokio::test]
    async fn idle_readers_end_their_transactions_after_a_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (db, other) = read_once_by_every_reader(&dir).await;
        assert!(open_transactions(&db) >= 1);
        other.execute("INSERT INTO t VALUES (2)", []).unwrap();
        tokio::time::sleep(IDLE_CHECK * 3).await;
        assert_eq!(open_transactions(&db), 0, "idle readers still hold a snapshot from before the commit");
        // So nothing holds a checkpoint back: the whole WAL is copied and truncated.
        let (busy, _, _): (i64, i64, i64) =
            other.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
        assert_eq!(busy, 0);
        assert_eq!(std::fs::metadata(dir.path().join("readers.db-wal")).unwrap().len(), 0);
        assert_eq!(read_count(&db).await, 2);
    }

    /// A reader's own transaction (`Db::begin_read`) starts on a connection with none open.
    #[tokio::test]
    async fn a_reader_taken_for_its_own_transaction_has_none_open() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _other) = read_once_by_every_reader(&dir).await;
        for _ in 0..8 {
            let conn = db.reader_owned().await.unwrap();
            assert!(conn.is_autocommit());
            conn.execute_batch("BEGIN DEFERRED").unwrap();
            assert_eq!(count(&conn), 1);
            conn.execute_batch("COMMIT").unwrap();
        }
    }
}
