//! SQLite through rusqlite: one writer connection owned by a writer thread, and a few
//! read-only connections used directly on the async worker (point reads take microseconds,
//! less than a thread hand-off; see docs/ARCHITECTURE.md).
//!
//! Writes are group-committed. `SqliteDb::transaction` sends its body to the writer thread,
//! which runs the bodies that are waiting, each inside its own SAVEPOINT of one shared
//! transaction, then commits them together: one WAL append, and at `Synchronous::Full` (the
//! default) an fsync of the WAL by the sync thread (`Syncer`) before anyone is answered.
//! Every caller is answered after the commit that made its write durable. A body that fails is rolled back to its savepoint and answered at
//! once; its neighbours in the batch are unaffected.

use crate::batch::{self, Answer, Ran};
use crate::db::{Columns, Conn};
use crate::read_cache::ReadCache;
use crate::shm::Header;
use crate::{FromRow, Result, Row, StoreError, Tx, Value};
use rusqlite::types::{ToSql, ToSqlOutput};
use rusqlite::{Connection, OpenFlags};
use std::cell::Cell;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

mod plans;
mod readers;

use readers::{ReadGuard, Readers};

const READERS: usize = 4;
/// How much of the database file each reader maps (SQLite maps the file once per connection;
/// the pages are the OS's page cache, shared). Beyond it, reads fall back to `pread`.
const READER_MMAP_BYTES: u64 = 256 << 20;
/// How long a write waits while another process holds the database's write lock, before it
/// is refused as `Busy` (503 at the API).
const BUSY_WAIT: Duration = Duration::from_secs(5);

/// How the writer makes commits durable, from `KINDLING_SQLITE_SYNCHRONOUS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// `synchronous = FULL` (default): a commit is fsynced before it is acknowledged.
    Full,
    /// `synchronous = NORMAL`: faster; survives a crash of Kindling, but the last commits
    /// before a power loss or OS crash may be lost.
    Normal,
}

/// When a batch closes, from `KINDLING_SQLITE_BATCH_MAX` and `KINDLING_SQLITE_BATCH_WAIT_MICROS`.
#[derive(Debug, Clone, Copy)]
pub struct BatchPolicy {
    /// The most bodies one commit takes.
    pub max: usize,
    /// How long an open batch waits for more bodies once the queue is empty.
    pub wait: Duration,
}

impl BatchPolicy {
    fn from_env() -> Self {
        let number =
            |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        Self {
            max: number("KINDLING_SQLITE_BATCH_MAX", 256).max(1) as usize,
            wait: Duration::from_micros(number("KINDLING_SQLITE_BATCH_WAIT_MICROS", 0)),
        }
    }
}

impl Synchronous {
    fn from_env() -> Result<Self> {
        match std::env::var("KINDLING_SQLITE_SYNCHRONOUS").as_deref().map(str::to_ascii_lowercase).as_deref() {
            Err(_) | Ok("full") => Ok(Self::Full),
            Ok("normal") => Ok(Self::Normal),
            Ok(other) => {
                Err(StoreError::UnsupportedUrl(format!("KINDLING_SQLITE_SYNCHRONOUS={other} (full or normal)")))
            }
        }
    }
}

/// Whether GET reads go through the read cache (`read_cache`): `KINDLING_SQLITE_READ_CACHE`,
/// `on` (default) or `off`. Off, every read runs its SQL; for measuring the store itself.
fn read_cache_wanted() -> Result<bool> {
    match std::env::var("KINDLING_SQLITE_READ_CACHE").as_deref().map(str::to_ascii_lowercase).as_deref() {
        Err(_) | Ok("on") => Ok(true),
        Ok("off") => Ok(false),
        Ok(other) => Err(StoreError::UnsupportedUrl(format!("KINDLING_SQLITE_READ_CACHE={other} (on or off)"))),
    }
}

/// Answers of a committed batch, waiting for their commit to be on disk.
type Answers = Vec<Answer>;

/// Makes committed batches durable before they are answered: a thread that fsyncs the WAL
/// file once for every batch committed since its last fsync. The writer commits at
/// `synchronous = NORMAL` (its WAL frames written, not yet flushed) and goes straight on to
/// the next batch, so the fsync of one batch overlaps the work of the next instead of
/// stalling the writer. A commit is durable once an fsync of the WAL that began after it
/// returns; SQLite itself syncs the WAL before a checkpoint copies or reuses it.
enum Syncer {
    /// Answer at once (`Normal`, or an in-memory database).
    Off,
    Wal(mpsc::Sender<(Answers, Result<()>)>),
}

impl Syncer {
    fn start(wal: Option<std::path::PathBuf>, synchronous: Synchronous) -> Self {
        let (Some(wal), Synchronous::Full) = (wal, synchronous) else { return Self::Off };
        let (send, committed) = mpsc::channel::<(Answers, Result<()>)>();
        let started = std::thread::Builder::new().name("kindling-sqlite-sync".into()).spawn(move || {
            while let Ok(first) = committed.recv() {
                let batches: Vec<_> = std::iter::once(first).chain(committed.try_iter()).collect();
                let synced = std::fs::File::open(&wal).and_then(|f| f.sync_all()).map_err(|e| {
                    tracing::error!(error = %e, "fsync of the SQLite WAL failed");
                    StoreError::Closed(format!("fsync of the write-ahead log failed: {e}"))
                });
                for (answers, commit) in batches {
                    let outcome = match (&commit, &synced) {
                        (Err(e), _) | (Ok(()), Err(e)) => Err(e),
                        (Ok(()), Ok(())) => Ok(()),
                    };
                    for answer in answers {
                        answer(outcome.map_err(StoreError::again));
                    }
                }
            }
        });
        match started {
            Ok(_) => Self::Wal(send),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the WAL sync thread; syncing on the writer instead");
                Self::Off
            }
        }
    }

    /// Answers a batch once its commit is durable.
    fn answer(&self, answers: Answers, commit: Result<()>) {
        match self {
            Self::Wal(sync) if commit.is_ok() => {
                if let Err(mpsc::SendError((answers, _))) = sync.send((answers, commit)) {
                    for answer in answers {
                        answer(Err(StoreError::Closed("the WAL sync thread stopped".into())));
                    }
                }
            }
            _ => {
                for answer in answers {
                    answer(commit.as_ref().map(|_| ()).map_err(StoreError::again));
                }
            }
        }
    }
}

/// A write body handed to the writer thread; it reports how it went. Given an error
/// instead of a transaction (no batch could open), it answers its caller with that error.
type Body = Box<dyn FnOnce(std::result::Result<&mut Tx, StoreError>) -> Ran + Send>;

/// A body as queued: when it was sent decides whether a refused `BEGIN` refuses it too.
struct Job {
    queued: Instant,
    body: Body,
}

/// Called with the size of every committed batch (for `/metrics`).
pub type BatchObserver = Arc<dyn Fn(usize) + Send + Sync>;

#[derive(Clone)]
pub struct SqliteDb {
    writer: Arc<Mutex<Connection>>,
    jobs: mpsc::Sender<Job>,
    readers: Arc<Readers>,
    observer: Arc<std::sync::OnceLock<BatchObserver>>,
    /// Hot single-row reads (`crud::get` of a table with `CACHED`); `None` in memory.
    read_cache: Option<Arc<ReadCache>>,
    pub(crate) codes: crate::db::Codes,
}

impl SqliteDb {
    pub fn open(path: &str) -> Result<Self> {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(StoreError::UnsupportedUrl(format!("sqlite:{path}")));
        }
        let in_memory = path == ":memory:";
        let writer = configure(Connection::open(path)?)?;
        // `configure` leaves every connection at `synchronous = NORMAL`: the writer commits
        // without waiting for the disk, and at `Full` the `Syncer` fsyncs before answering.
        let synchronous = Synchronous::from_env()?;
        writer.busy_timeout(BUSY_WAIT)?;
        let readers: Vec<_> = if in_memory {
            Vec::new() // a private in-memory database exists only on its own connection
        } else {
            (0..READERS)
                .map(|_| {
                    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                    let reader = Connection::open_with_flags(path, flags).map_err(StoreError::from)?;
                    // Readers read the database file through a shared memory map rather than a
                    // `pread` per page into each connection's own small page cache: random
                    // reads of a table larger than that cache took half again as long.
                    reader.execute_batch(&format!("PRAGMA mmap_size = {READER_MMAP_BYTES}"))?;
                    configure(reader)
                })
                .collect::<Result<_>>()?
        };
        // A first read in WAL mode initialises the `-shm` file whose header is mapped.
        let header = match readers.first() {
            Some(reader) => {
                reader.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
                // The path SQLite resolved (symlinks followed): its `-shm` is the one it writes.
                let database = reader.path().unwrap_or(path);
                Header::open(database)
                    .inspect_err(|e| {
                        tracing::warn!(database, error = %e, "SQLite reads are not cached and each their own transaction")
                    })
                    .ok()
                    .map(Arc::new)
            }
            None => None,
        };
        // The setting is checked wherever it applies, even when the header cannot be mapped.
        let cache_wanted = !readers.is_empty() && read_cache_wanted()?;
        let read_cache = match &header {
            Some(header) if cache_wanted => Some(Arc::new(ReadCache::new(header.clone()))),
            _ => None,
        };
        let writer = Arc::new(Mutex::new(writer));
        let observer = Arc::new(std::sync::OnceLock::new());
        let (jobs, queue) = mpsc::channel();
        let (conn, seen, policy) = (writer.clone(), observer.clone(), BatchPolicy::from_env());
        let codes = crate::db::Codes::default();
        let batch_codes = codes.clone();
        let wal = (!in_memory).then(|| std::path::PathBuf::from(format!("{path}-wal")));
        std::thread::Builder::new()
            .name("kindling-sqlite-writer".into())
            .spawn(move || write_batches(&conn, &queue, policy, &seen, &Syncer::start(wal, synchronous), &batch_codes))
            .map_err(|e| StoreError::Closed(format!("cannot start the SQLite writer thread: {e}")))?;
        let readers = Arc::new(Readers::new(readers, header, path));
        Ok(Self { writer, jobs, readers, observer, read_cache, codes })
    }

    pub fn read_cache(&self) -> Option<&ReadCache> {
        self.read_cache.as_deref()
    }

    /// Receives the size of every batch committed from now on (the first observer set stays).
    pub fn observe_batches(&self, observer: BatchObserver) {
        let _ = self.observer.set(observer);
    }

    /// A free reader if there is one, else waits for the next in turn. WAL lets readers run
    /// beside the writer.
    pub(crate) async fn reader(&self) -> Result<ReadGuard<'_>> {
        if self.readers.is_empty() {
            return Ok(ReadGuard::plain(self.writer.lock().await));
        }
        self.readers.read().await
    }

    /// A reader held for a read transaction.
    pub(crate) async fn reader_owned(&self) -> Result<OwnedMutexGuard<Connection>> {
        if self.readers.is_empty() {
            return Ok(self.writer.clone().lock_owned().await);
        }
        self.readers.owned().await
    }

    /// Connections in use are those whose lock is held; checking takes each free one for an
    /// instant, which is cheap at scrape frequency.
    pub fn pool_stats(&self) -> crate::PoolStats {
        let connections = std::iter::once(&self.writer).chain(self.readers.connections());
        let (mut open, mut idle) = (0, 0);
        for conn in connections {
            open += 1;
            idle += usize::from(conn.try_lock().is_ok());
        }
        crate::PoolStats { open, idle }
    }

    /// Runs `body` on the writer thread in the next batch and answers once that batch has
    /// committed. An `Err` from the body rolls back only its own writes.
    pub async fn transaction<T, E, F>(&self, body: F) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> futures_util::future::BoxFuture<'t, std::result::Result<T, E>>
            + Send
            + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let body: Body =
            Box::new(move |tx| Ran::settle(tx.map_err(E::from).and_then(|tx| run_to_completion(body(tx))), answer));
        self.jobs
            .send(Job { queued: Instant::now(), body })
            .map_err(|_| StoreError::Closed("the SQLite writer thread has stopped".into()))?;
        batch::answered(answered).await
    }

    /// The writer inside `BEGIN IMMEDIATE`, outside any batch: for tools, migrations and
    /// tests that hold a transaction across awaits. The writer thread waits meanwhile.
    pub async fn begin_immediate(&self) -> Result<OwnedMutexGuard<Connection>> {
        let conn = self.writer.clone().lock_owned().await;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(conn)
    }
}

/// Polls a write body once. Its statements run synchronously on the writer's connection,
/// so it finishes in that one poll; a body that waits on anything else (a timer, another
/// service) is refused rather than left to stall every write behind it.
fn run_to_completion<T, E: From<StoreError>>(
    mut body: futures_util::future::BoxFuture<'_, std::result::Result<T, E>>,
) -> std::result::Result<T, E> {
    match body.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(outcome) => outcome,
        Poll::Pending => {
            Err(StoreError::Closed("a SQLite write body awaited something other than the database".into()).into())
        }
    }
}

/// The writer thread: takes the first waiting job, opens a transaction, runs it and every
/// job that arrives while the batch is open (up to `policy.max`), then commits and answers.
fn write_batches(
    conn: &Arc<Mutex<Connection>>,
    queue: &mpsc::Receiver<Job>,
    policy: BatchPolicy,
    observer: &std::sync::OnceLock<BatchObserver>,
    syncer: &Syncer,
    codes: &crate::db::Codes,
) {
    let mut next_first = None;
    while let Some(first) = next_first.take().or_else(|| queue.recv().ok()) {
        let guard = conn.clone().blocking_lock_owned();
        let began = Instant::now();
        if let Err(e) = guard.execute_batch("BEGIN IMMEDIATE") {
            drop(guard);
            next_first = refuse_waiting(first, queue, began, &StoreError::from(e));
            continue;
        }
        let mut tx = Tx::new(Conn::SqliteBatch(Some(guard)), codes.clone());
        let mut wrote = Vec::new();
        let mut ran = 0;
        run_job(&mut tx, first, &mut wrote);
        ran += 1;
        let closes = Instant::now() + policy.wait;
        while ran < policy.max {
            let next = match queue.try_recv() {
                Ok(job) => job,
                Err(mpsc::TryRecvError::Disconnected) => break,
                Err(mpsc::TryRecvError::Empty) => match closes.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => match queue.recv_timeout(left) {
                        Ok(job) => job,
                        Err(_) => break,
                    },
                    _ => break,
                },
            };
            run_job(&mut tx, next, &mut wrote);
            ran += 1;
        }
        let guard = tx.take_batch_conn();
        let committed = guard.execute_batch("COMMIT");
        if committed.is_err() {
            let _ = guard.execute_batch("ROLLBACK");
        }
        drop(guard);
        if let Some(observe) = observer.get() {
            observe(ran);
        }
        syncer.answer(wrote, committed.map_err(StoreError::from));
    }
}

/// The write lock stayed elsewhere for the whole busy timeout of a `BEGIN` tried at `began`:
/// the jobs queued by then waited all of it and are refused alike. The first job queued
/// later is handed back to try afresh (with the rest still queued behind it); refusing it
/// too would answer a 503 to a write that waited less than the timeout, or not at all (the
/// lock may be free by now).
fn refuse_waiting(first: Job, queue: &mpsc::Receiver<Job>, began: Instant, e: &StoreError) -> Option<Job> {
    for job in std::iter::once(first).chain(queue.try_iter()) {
        if job.queued > began {
            return Some(job);
        }
        (job.body)(Err(e.again()));
    }
    None
}

/// Runs a statement the writer runs for every job from the statement cache (`execute_batch`
/// would parse it each time, a measurable share of a small write).
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Runs one job inside its own savepoint; keeps its answer for after the commit when it wrote.
fn run_job(tx: &mut Tx, job: Job, wrote: &mut Answers) {
    if let Err(e) = run_cached(tx.batch_conn(), "SAVEPOINT job") {
        (job.body)(Err(e.into()));
        return;
    }
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.body)(Ok(tx))));
    match ran {
        Ok(Ran::Wrote(answer)) => match run_cached(tx.batch_conn(), "RELEASE job") {
            Ok(()) => wrote.push(answer),
            Err(e) => {
                let _ = tx.batch_conn().execute_batch("ROLLBACK TO job; RELEASE job");
                answer(Err(e.into()));
            }
        },
        Ok(Ran::Failed) | Err(_) => {
            if let Err(e) = tx.batch_conn().execute_batch("ROLLBACK TO job; RELEASE job") {
                tracing::error!(error = %e, "cannot roll back a failed write");
            }
        }
    }
}

fn configure(conn: Connection) -> Result<Connection> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA busy_timeout = 5000;",
    )?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Value::Int(v) => v.to_sql(),
            Value::Text(v) => v.to_sql(),
            Value::Bool(v) => v.to_sql(),
            Value::Float(v) => v.to_sql(),
            // A JSON array, read by `json_each` (see `Dialect::in_list`).
            Value::IntList(v) => json_text(v),
            Value::TextList(v) => json_text(v),
            Value::IntColumn(v) => json_text(v),
            Value::TextColumn(v) => json_text(v),
            Value::BoolColumn(v) => json_text(v),
        }
    }
}

fn json_text(list: &impl serde::Serialize) -> rusqlite::Result<ToSqlOutput<'static>> {
    let json = serde_json::to_string(list).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    Ok(ToSqlOutput::from(json))
}

/// A result row with its statement's column names, read once per execution (looking each
/// name up in SQLite per column read was a measurable share of a write's time).
pub struct SqliteRow<'r> {
    row: &'r rusqlite::Row<'r>,
    columns: &'r Columns,
    /// Where the next read's search starts (`Columns::find`).
    next: Cell<usize>,
}

impl<'r> SqliteRow<'r> {
    fn new(row: &'r rusqlite::Row<'r>, columns: &'r Columns) -> Self {
        Self { row, columns, next: Cell::new(0) }
    }
}

/// Reads one column by name (see `db::Columns::find`).
fn get<T: rusqlite::types::FromSql>(row: &SqliteRow<'_>, column: &str) -> Result<T> {
    Ok(row.row.get(row.columns.find(column, &row.next)?)?)
}

impl Row for SqliteRow<'_> {
    crate::db::row_getters!();

    fn sole_column(&self) -> Result<&str> {
        match self.columns.names() {
            [only] => Ok(only),
            names => Err(crate::db::not_scalar(names.len())),
        }
    }
}

/// Binds `params` to a prepared statement. Portable SQL numbers its parameters PostgreSQL's
/// way, `$N`, which SQLite reads as *named* parameters, indexed in order of first
/// appearance; so each index is bound to the value its name gives (`$2` → `params[1]`),
/// whatever the order they appear in. Plain `?` parameters (sea-query's, and the rows of
/// `Dialect::rows`) bind by their index, which SQLite numbers after the parameters seen
/// before them: so a statement with both must have each `$N` at index N (each first
/// appearing in order, before any `?`) and one parameter per value (none of the `$N`
/// left out), or it is refused rather than bound wrong.
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, params: &[Value]) -> Result<()> {
    let (mut anonymous, mut reordered) = (false, false);
    let count = stmt.parameter_count();
    for index in 1..=count {
        let position = match stmt.parameter_name(index) {
            Some(name) => {
                let n = name
                    .strip_prefix('$')
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| StoreError::Decode(format!("unsupported SQLite parameter {name}")))?;
                reordered |= n != index;
                n
            }
            None => {
                anonymous = true;
                index
            }
        };
        if anonymous && (reordered || count != params.len()) {
            return Err(StoreError::Decode("a statement mixes `?` with `$N` out of order or leaves one out".into()));
        }
        let value = params
            .get(position.wrapping_sub(1))
            .ok_or(rusqlite::Error::InvalidParameterCount(position, params.len()))?;
        stmt.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

fn columns(stmt: &rusqlite::CachedStatement<'_>) -> Columns {
    Columns::new(stmt.column_names().into_iter().map(str::to_owned).collect())
}

pub fn fetch_all<T: FromRow>(conn: &Connection, sql: &str, params: &[Value]) -> Result<Vec<T>> {
    crate::stats::statement();
    plans::record(conn, sql);
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    let columns = columns(&stmt);
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(T::from_row(&SqliteRow::new(row, &columns))?);
    }
    Ok(out)
}

pub fn fetch_optional<T: FromRow>(conn: &Connection, sql: &str, params: &[Value]) -> Result<Option<T>> {
    crate::stats::statement();
    plans::record(conn, sql);
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    let columns = columns(&stmt);
    let mut rows = stmt.raw_query();
    let first = match rows.next()? {
        Some(row) => Some(T::from_row(&SqliteRow::new(row, &columns))?),
        None => None,
    };
    // Step to the end so a `RETURNING` write completes and the statement resets cleanly.
    while rows.next()?.is_some() {}
    Ok(first)
}

pub fn execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64> {
    crate::stats::statement();
    plans::record(conn, sql);
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    Ok(stmt.raw_execute()? as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `$N` binds by its number wherever it appears, repeated or out of order; `?` by position.
    #[test]
    fn parameters_bind_by_their_number() {
        let conn = Connection::open_in_memory().unwrap();
        let one = |sql: &str, params: &[Value]| fetch_optional::<String>(&conn, sql, params).unwrap().unwrap();
        let params = [Value::from("a"), Value::from("b"), Value::from("c")];
        assert_eq!(one("SELECT $1 || $2 || $3 AS s", &params), "abc");
        assert_eq!(one("SELECT $3 || $1 || $2 || $1 AS s", &params), "caba");
        assert_eq!(one("SELECT ? || ? AS s", &params[..2]), "ab");
        assert!(fetch_optional::<String>(&conn, "SELECT $4 AS s", &params).is_err(), "a parameter with no value");
        assert_eq!(one("SELECT $1 || $2 || ? || $1 AS s", &params), "abca", "`?` after every `$N`");
        assert!(
            fetch_optional::<String>(&conn, "SELECT $2 || ? || $1 AS s", &params).is_err(),
            "`?` after `$N` out of order would bind the wrong value"
        );
        assert!(
            fetch_optional::<String>(&conn, "SELECT $1 || ? AS s", &params).is_err(),
            "with `$2` left out, `?` would take its value"
        );
    }

    /// A job that records its number and whether it was refused.
    fn recording(queued: Instant, seen: &Arc<std::sync::Mutex<Vec<(usize, bool)>>>, n: usize) -> Job {
        let seen = seen.clone();
        let body: Body = Box::new(move |tx| {
            seen.lock().unwrap().push((n, tx.is_err()));
            Ran::Failed
        });
        Job { queued, body }
    }

    /// A refused `BEGIN` refuses the writes queued before it began (they waited its whole
    /// timeout), and hands back the first one queued after, unrefused, with the rest still in
    /// the queue.
    #[test]
    fn a_refused_begin_refuses_only_what_waited_through_it() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (send, queue) = mpsc::channel();
        let start = Instant::now();
        let began = start + Duration::from_millis(10); // the BEGIN that then waited 5 s in vain
        let first = recording(start, &seen, 0);
        send.send(recording(start + Duration::from_millis(5), &seen, 1)).unwrap();
        send.send(recording(began + Duration::from_millis(1), &seen, 2)).unwrap();
        send.send(recording(began + Duration::from_millis(2), &seen, 3)).unwrap();
        let busy = StoreError::Busy("database is locked".into());
        let handed_back = refuse_waiting(first, &queue, began, &busy).expect("a later job is handed back");
        assert_eq!(*seen.lock().unwrap(), [(0, true), (1, true)], "only the jobs that waited were refused");
        assert_eq!(handed_back.queued, began + Duration::from_millis(1), "the first job queued after");
        let rest = queue.try_recv().expect("the job after it stays queued");
        assert_eq!(rest.queued, began + Duration::from_millis(2));
        assert!(refuse_waiting(recording(start, &seen, 4), &queue, began, &busy).is_none(), "an empty queue");
        assert_eq!(seen.lock().unwrap().len(), 3, "neither later job ran or was refused");
    }
}
