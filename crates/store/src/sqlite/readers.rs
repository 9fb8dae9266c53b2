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
//! later commits into the database file, and the WAL from starting over. The writer's
//! automatic checkpoint runs inside the commit that brings the WAL to 1,000 frames, before
//! any reader can see that commit; were readers to keep transactions from before it, every
//! such checkpoint would stop short, the WAL would never start over, and it would grow
//! without end under mixed reads and writes. So transactions are kept only while the WAL
//! holds fewer than `KEEP_BELOW_FRAMES` frames (half that threshold), or once a checkpoint
//! has copied all of it into the database file (a transaction begun then reads the file
//! alone, through read mark 0, which does not keep the WAL from starting over; this is the
//! state a large import leaves behind). Otherwise a reader ends its transaction after each
//! read, as SQLite does by itself. A reader also ends its transaction after a read
//! if something was committed meanwhile, and a thread ends idle readers' transactions that
//! are stale, over that size or older than `MAX_AGE` (so a checkpoint that waits for every
//! reader, such as a backup tool's `TRUNCATE`, waits at most about that long). The saving
//! is for reads while little or nothing is written.

use crate::shm::{frames, Header, Version};
use crate::Result;
use rusqlite::Connection;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, MutexGuard, OwnedMutexGuard};

/// How often idle readers are checked for a transaction to end.
const IDLE_CHECK: Duration = Duration::from_millis(100);
/// The longest an idle reader keeps a transaction.
const MAX_AGE: Duration = Duration::from_secs(1);
/// Transactions are kept only while the WAL holds fewer frames than this: half of the
/// writers' automatic checkpoint threshold (SQLite's default, 1,000 frames, which Kindling
/// keeps), so that the transactions kept before it are ended by the time a checkpoint runs.
const KEEP_BELOW_FRAMES: u32 = 500;

/// Whether a transaction begun at header `began_at` may be kept now: nothing committed
/// since (and neither header in the middle of changing), and the WAL small enough or all
/// copied into the database file already (see the module's comment).
fn keeps(began_at: Option<&Version>, header: &Header) -> bool {
    let now = header.read();
    let Some(now) = now.filter(|now| began_at == Some(now)) else { return false };
    wal_may_be_held(&now, header)
}

/// Whether a kept transaction may hold the WAL at header `now`: it holds fewer than
/// `KEEP_BELOW_FRAMES` frames, or a checkpoint has copied all of them already.
fn wal_may_be_held(now: &Version, header: &Header) -> bool {
    frames(now) < KEEP_BELOW_FRAMES || header.backfilled() == frames(now)
}

struct Slot {
    conn: Arc<Mutex<Connection>>,
    /// The WAL-index header read just before the connection's open transaction began (only
    /// meaningful while it has one); touched only while `conn` is locked.
    began_at: std::sync::Mutex<(Option<Version>, Instant)>,
    /// Transactions begun on `conn` (its tests count them).
    begun: std::sync::atomic::AtomicU64,
}

impl Slot {
    /// Makes `conn`'s open transaction current: kept if nothing has been committed since it
    /// began, else ended and a new one begun.
    fn current(&self, conn: &Connection, header: &Header) -> Result<()> {
        let mut began_at = self.began_at.lock().unwrap_or_else(PoisonError::into_inner);
        if !conn.is_autocommit() {
            if keeps(began_at.0.as_ref(), header) {
                return Ok(());
            }
            super::run_cached(conn, "COMMIT")?;
        }
        let now = header.read();
        super::run_cached(conn, "BEGIN")?;
        *began_at = (now, Instant::now());
        self.begun.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Ends `conn`'s open transaction unless it may be kept (see `keeps`), and, for an idle
    /// reader (`max_age`), unless it is older than that.
    fn end_unless_kept(&self, conn: &Connection, header: &Header, max_age: Option<Duration>) {
        if conn.is_autocommit() {
            return;
        }
        let (began_at, began) = *self.began_at.lock().unwrap_or_else(PoisonError::into_inner);
        let too_old = max_age.is_some_and(|max| began.elapsed() > max);
        if too_old || !keeps(began_at.as_ref(), header) {
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
    pub(super) fn new(connections: Vec<Connection>, header: Option<Arc<Header>>, database: &str) -> Self {
        let slots: Arc<[Slot]> = connections
            .into_iter()
            .map(|conn| Slot {
                conn: Arc::new(Mutex::new(conn)),
                began_at: std::sync::Mutex::new((None, Instant::now())),
                begun: 0.into(),
            })
            .collect();
        let header = header.filter(|header| {
            let (slots, header, database) = (Arc::downgrade(&slots), header.clone(), database.to_owned());
            let started = std::thread::Builder::new()
                .name("kindling-sqlite-readers".into())
                .spawn(move || end_idle_transactions(&slots, &header, &database));
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

    /// The readers in this call's turn: all of them, from the next one on (readers are only
    /// asked for when there are some).
    fn in_turn(&self) -> impl Iterator<Item = &Slot> + Clone {
        let (start, n) = (self.next.fetch_add(1, Ordering::Relaxed), self.slots.len());
        (0..n).map(move |i| &self.slots[(start + i) % n])
    }

    /// A free reader (else the first in turn, once free) whose open transaction is current.
    pub(super) async fn read(&self) -> Result<ReadGuard<'_>> {
        let turn = self.in_turn();
        let (slot, conn) = match turn.clone().find_map(|slot| Some((slot, slot.conn.try_lock().ok()?))) {
            Some(free) => free,
            None => {
                let slot = turn.clone().next().expect("readers are only asked for when there are some");
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
        let turn = self.in_turn();
        let conn = match turn.clone().find_map(|slot| slot.conn.clone().try_lock_owned().ok()) {
            Some(free) => free,
            None => {
                let slot = turn.clone().next().expect("readers are only asked for when there are some");
                slot.conn.clone().lock_owned().await
            }
        };
        if !conn.is_autocommit() {
            super::run_cached(&conn, "COMMIT")?;
        }
        Ok(conn)
    }
}

/// A reader in a current read transaction; when it is dropped the transaction is ended
/// unless it may be kept (`keeps`).
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
            slot.end_unless_kept(&self.conn, header, None);
        }
    }
}

fn end_idle_transactions(slots: &Weak<[Slot]>, header: &Header, database: &str) {
    let mut last = None;
    let mut checkpointer = None;
    loop {
        std::thread::sleep(IDLE_CHECK);
        let Some(slots) = slots.upgrade() else { return };
        for slot in slots.iter() {
            // A reader in use ends its own when it is let go.
            if let Ok(conn) = slot.conn.try_lock() {
                slot.end_unless_kept(&conn, header, Some(MAX_AGE));
            }
        }
        let now = header.read();
        if now.is_some() && now == last {
            copy_idle_wal(now.as_ref(), header, database, &mut checkpointer);
        }
        last = now;
    }
}

/// A WAL past `KEEP_BELOW_FRAMES` that nothing has been written to for a whole check (a
/// large import, say, then reads alone) is copied into the database file by a checkpoint of
/// this thread's own, so that readers may keep their transactions again: the writer's
/// automatic checkpoints run only as it commits. PASSIVE: it waits for no one, and copies
/// what no reader still needs.
fn copy_idle_wal(now: Option<&Version>, header: &Header, database: &str, conn: &mut Option<Connection>) {
    let Some(now) = now else { return };
    if wal_may_be_held(now, header) {
        return;
    }
    if conn.is_none() {
        match Connection::open(database) {
            Ok(opened) => *conn = Some(opened),
            Err(e) => return tracing::warn!(error = %e, "cannot open a connection to checkpoint the SQLite WAL"),
        }
    }
    if let Some(conn) = conn {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::debug!(error = %e, "an idle checkpoint of the SQLite WAL did not run");
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

    /// Reads between commits leave the WAL free to start over: kept transactions would hold
    /// every automatic checkpoint one commit short, and the WAL would grow with every commit.
    #[tokio::test]
    async fn reads_between_commits_leave_the_wal_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let (db, other) = database(&dir);
        other.execute_batch("PRAGMA synchronous = OFF").unwrap();
        for written in 1..=5_000 {
            other.execute("INSERT INTO t VALUES (1)", []).unwrap();
            assert_eq!(read_count(&db).await, written);
        }
        let wal = std::fs::metadata(dir.path().join("readers.db-wal")).unwrap().len();
        // A checkpoint runs at 1,000 frames; a frame is a 4,096-byte page and a 24-byte header.
        assert!(wal < 2_000 * 4_120, "the WAL grew to {wal} bytes over 5,000 commits");
    }

    /// A large WAL that nothing writes to any more (an import, then reads alone) is copied
    /// into the database file, after which reads keep their transactions again.
    #[tokio::test]
    async fn a_large_idle_wal_is_copied_and_reads_keep_their_transactions_again() {
        let dir = tempfile::tempdir().unwrap();
        let (db, other) = database(&dir);
        // 2,000 pages in one transaction, with no automatic checkpoint to copy them.
        other.execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
        other
            .execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO t SELECT 1 FROM n; INSERT INTO t SELECT zeroblob(3000) FROM t LIMIT 2000",
            )
            .unwrap();
        let header = db.readers.header.clone().unwrap();
        let big = header.read().unwrap();
        assert!(frames(&big) >= KEEP_BELOW_FRAMES && header.backfilled() < frames(&big));
        let rows = read_count(&db).await;
        tokio::time::sleep(IDLE_CHECK * 4).await;
        assert_eq!(header.backfilled(), frames(&big), "the idle WAL was not copied");
        assert_eq!(read_count(&db).await, rows);
        let before = begun(&db);
        for _ in 0..12 {
            assert_eq!(read_count(&db).await, rows);
        }
        assert!(begun(&db) - before <= 4, "{} transactions begun by 12 reads", begun(&db) - before);
    }

    /// With nothing committed, an idle reader still lets go of its transaction after a while
    /// (a checkpoint that waits for every reader, such as `TRUNCATE`, then goes through).
    #[tokio::test]
    async fn an_idle_reader_lets_go_after_a_while_even_with_nothing_committed() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _other) = read_once_by_every_reader(&dir).await;
        assert!(open_transactions(&db) >= 1);
        tokio::time::sleep(MAX_AGE + IDLE_CHECK * 3).await;
        assert_eq!(open_transactions(&db), 0);
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
