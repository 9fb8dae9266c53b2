//! SQLite through rusqlite: one writer connection and a few readers, used directly on the
//! async worker. Statements are short and prepared once per connection, so running them
//! inline costs less than handing each one to a blocking thread (measured in issue #2).
//!
//! The writer never waits inside SQLite for another process's write lock (`kindling import`,
//! a second server): its busy timeout is zero, and a busy write is retried after an async
//! sleep, so no runtime worker is parked; after `BUSY_WAIT` the caller gets
//! `SQLITE_BUSY` (503 with `Retry-After` at the API).

use crate::{FromRow, Result, Row, StoreError, Value};
use rusqlite::types::{ToSql, ToSqlOutput};
use rusqlite::{params_from_iter, Connection, OpenFlags};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, MutexGuard, OwnedMutexGuard};

const READERS: usize = 4;
/// How long a write keeps retrying while another process holds the database's write lock.
const BUSY_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct SqliteDb {
    writer: Arc<Mutex<Connection>>,
    readers: Arc<[Arc<Mutex<Connection>>]>,
    next_reader: Arc<AtomicUsize>,
}

impl SqliteDb {
    pub fn open(path: &str) -> Result<Self> {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(StoreError::UnsupportedUrl(format!("sqlite:{path}")));
        }
        let in_memory = path == ":memory:";
        let writer = configure(Connection::open(path)?)?;
        writer.busy_timeout(Duration::ZERO)?;
        let readers: Vec<_> = if in_memory {
            Vec::new() // a private in-memory database exists only on its own connection
        } else {
            (0..READERS)
                .map(|_| {
                    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                    Connection::open_with_flags(path, flags).map_err(StoreError::from).and_then(configure)
                })
                .collect::<Result<_>>()?
        };
        Ok(Self {
            writer: Arc::new(Mutex::new(writer)),
            readers: readers.into_iter().map(|r| Arc::new(Mutex::new(r))).collect(),
            next_reader: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// A free reader if there is one, else waits for the next in turn. WAL lets readers run
    /// beside the writer.
    pub async fn reader(&self) -> MutexGuard<'_, Connection> {
        if self.readers.is_empty() {
            return self.writer.lock().await;
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            if let Ok(guard) = self.readers[(start + i) % n].try_lock() {
                return guard;
            }
        }
        self.readers[start % n].lock().await
    }

    /// A reader held for a read transaction.
    pub async fn reader_owned(&self) -> OwnedMutexGuard<Connection> {
        if self.readers.is_empty() {
            return self.writer.clone().lock_owned().await;
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            if let Ok(guard) = self.readers[(start + i) % n].clone().try_lock_owned() {
                return guard;
            }
        }
        self.readers[start % n].clone().lock_owned().await
    }

    /// Connections in use are those whose lock is held; checking takes each free one for an
    /// instant, which is cheap at scrape frequency.
    pub fn pool_stats(&self) -> crate::PoolStats {
        let connections = std::iter::once(&self.writer).chain(self.readers.iter());
        let (mut open, mut idle) = (0, 0);
        for conn in connections {
            open += 1;
            idle += usize::from(conn.try_lock().is_ok());
        }
        crate::PoolStats { open, idle }
    }

    /// Runs one write statement on the writer, retrying while another process holds the lock.
    pub async fn write<T>(&self, run: impl Fn(&Connection) -> Result<T>) -> Result<T> {
        let (run, writer) = (&run, &self.writer);
        retry_busy(move || async move { run(&*writer.lock().await) }).await
    }

    /// The writer inside `BEGIN IMMEDIATE`: the write lock is taken up front, so a
    /// read-then-write sequence cannot interleave with other writers.
    pub async fn begin_immediate(&self) -> Result<OwnedMutexGuard<Connection>> {
        let writer = &self.writer;
        retry_busy(move || async move {
            let conn = writer.clone().lock_owned().await;
            conn.execute_batch("BEGIN IMMEDIATE")?;
            Ok(conn)
        })
        .await
    }
}

/// Retries `attempt` with growing async pauses while SQLite reports another writer.
async fn retry_busy<T, F: std::future::Future<Output = Result<T>>>(attempt: impl Fn() -> F) -> Result<T> {
    let deadline = Instant::now() + BUSY_WAIT;
    let mut pause = Duration::from_millis(1);
    loop {
        match attempt().await {
            Err(StoreError::Busy(_)) if Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn configure(conn: Connection) -> Result<Connection> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;",
    )?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// Portable SQL uses PostgreSQL's `$N`; SQLite's numbered form is `?N`.
pub(crate) fn numbered_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
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
        }
    }
}

fn json_text(list: &impl serde::Serialize) -> rusqlite::Result<ToSqlOutput<'static>> {
    let json = serde_json::to_string(list).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    Ok(ToSqlOutput::from(json))
}

/// Reads one column by name (see `db::position`).
fn get<T: rusqlite::types::FromSql>(row: &rusqlite::Row<'_>, column: &str) -> Result<T> {
    let stmt = row.as_ref();
    let names = (0..stmt.column_count()).map(|i| stmt.column_name(i).unwrap_or_default());
    Ok(row.get(crate::db::position(names, column)?)?)
}

impl Row for rusqlite::Row<'_> {
    crate::db::row_getters!();

    fn sole_column(&self) -> Result<&str> {
        let stmt = self.as_ref();
        match stmt.column_count() {
            1 => Ok(stmt.column_name(0)?),
            width => Err(crate::db::not_scalar(width)),
        }
    }
}

pub fn fetch_all<T: FromRow>(conn: &Connection, sql: &str, params: &[Value]) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(&numbered_params(sql))?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(T::from_row(row)?);
    }
    Ok(out)
}

pub fn fetch_optional<T: FromRow>(conn: &Connection, sql: &str, params: &[Value]) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(&numbered_params(sql))?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let first = match rows.next()? {
        Some(row) => Some(T::from_row(row)?),
        None => None,
    };
    // Step to the end so a `RETURNING` write completes and the statement resets cleanly.
    while rows.next()?.is_some() {}
    Ok(first)
}

pub fn execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64> {
    let mut stmt = conn.prepare_cached(&numbered_params(sql))?;
    Ok(stmt.execute(params_from_iter(params))? as u64)
}

#[cfg(test)]
mod tests {
    use super::numbered_params;

    #[test]
    fn rewrites_numbered_placeholders_only() {
        assert_eq!(numbered_params("a = $1 AND b = $12 AND c = '$'"), "a = ?1 AND b = ?12 AND c = '$'");
    }
}
