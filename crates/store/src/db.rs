//! The backend-neutral query interface: `Db` for single statements, `Tx` for transactions.

use crate::{postgres, sqlite, Result, StoreError};
use tokio::sync::OwnedMutexGuard;

/// A bound query parameter. Nulls keep their type so PostgreSQL can infer the column type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Float(Option<f64>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_owned))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::Float(Some(v))
    }
}
impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        Self::Float(v)
    }
}
impl From<Option<bool>> for Value {
    fn from(v: Option<bool>) -> Self {
        Self::Bool(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(Some(v))
    }
}

/// Column access by position, implemented for both backends' rows.
pub trait Row {
    fn int(&self, idx: usize) -> Result<i64>;
    fn opt_int(&self, idx: usize) -> Result<Option<i64>>;
    fn text(&self, idx: usize) -> Result<String>;
    fn opt_text(&self, idx: usize) -> Result<Option<String>>;
    fn boolean(&self, idx: usize) -> Result<bool>;
    fn opt_float(&self, idx: usize) -> Result<Option<f64>>;
    fn opt_boolean(&self, idx: usize) -> Result<Option<bool>>;
}

/// Reads a row's columns in order, so long select lists need no hand-counted indexes.
pub struct Cols<'r, R> {
    row: &'r R,
    next: std::cell::Cell<usize>,
}

impl<'r, R: Row> Cols<'r, R> {
    pub fn new(row: &'r R) -> Self {
        Self { row, next: std::cell::Cell::new(0) }
    }

    fn idx(&self) -> usize {
        let i = self.next.get();
        self.next.set(i + 1);
        i
    }

    pub fn int(&self) -> Result<i64> {
        self.row.int(self.idx())
    }
    pub fn opt_int(&self) -> Result<Option<i64>> {
        self.row.opt_int(self.idx())
    }
    pub fn text(&self) -> Result<String> {
        self.row.text(self.idx())
    }
    pub fn opt_text(&self) -> Result<Option<String>> {
        self.row.opt_text(self.idx())
    }
    pub fn boolean(&self) -> Result<bool> {
        self.row.boolean(self.idx())
    }
    pub fn opt_boolean(&self) -> Result<Option<bool>> {
        self.row.opt_boolean(self.idx())
    }
}

/// Builds a value from a result row; the column order is the query's select list.
pub trait FromRow: Sized {
    fn from_row(row: &impl Row) -> Result<Self>;
}

impl FromRow for i64 {
    fn from_row(row: &impl Row) -> Result<Self> {
        row.int(0)
    }
}

impl FromRow for String {
    fn from_row(row: &impl Row) -> Result<Self> {
        row.text(0)
    }
}

/// `$first, $first+1, ...`: the placeholders of an `IN (...)` list of `count` values.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl FromRow for (i64, i64) {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok((row.int(0)?, row.int(1)?))
    }
}

impl FromRow for (i64, Option<String>) {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok((row.int(0)?, row.opt_text(1)?))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A snapshot of the connection pool: on PostgreSQL sqlx's pool, on SQLite the writer and
/// the readers (a connection is in use while its lock is held).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub open: usize,
    pub idle: usize,
}

/// A handle to the database; cheap to clone and shared by every request.
#[derive(Clone)]
pub enum Db {
    Sqlite(sqlite::SqliteDb),
    Postgres(sqlx::PgPool),
}

impl Db {
    /// Opens `sqlite://PATH` (created if missing), `sqlite::memory:` or `postgres://...`,
    /// then brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres(postgres::connect(url).await?)
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Self::Sqlite(sqlite::SqliteDb::open(path.trim_start_matches("//"))?)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        crate::migrate::run(&db).await?;
        Ok(db)
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A read that sees every committed write.
    pub async fn fetch_optional<T: FromRow>(&self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        match self {
            Self::Sqlite(db) => sqlite::fetch_optional(&*db.reader().await, sql, params),
            Self::Postgres(pool) => postgres::fetch_optional(pool, sql, params).await,
        }
    }

    pub async fn fetch_all<T: FromRow>(&self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        match self {
            Self::Sqlite(db) => sqlite::fetch_all(&*db.reader().await, sql, params),
            Self::Postgres(pool) => postgres::fetch_all(pool, sql, params).await,
        }
    }

    /// One write statement in its own implicit transaction; returns rows affected.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        match self {
            Self::Sqlite(db) => db.write(|conn| sqlite::execute(conn, sql, params)).await,
            Self::Postgres(pool) => postgres::execute(pool, sql, params).await,
        }
    }

    /// One write statement with `RETURNING`, e.g. an insert that echoes the stored row.
    pub async fn write_returning<T: FromRow>(&self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        match self {
            Self::Sqlite(db) => db.write(|conn| sqlite::fetch_optional(conn, sql, params)).await,
            Self::Postgres(pool) => postgres::fetch_optional(pool, sql, params).await,
        }
    }

    /// One write statement with `RETURNING`, all rows (e.g. claiming a batch of jobs).
    pub async fn write_returning_all<T: FromRow>(&self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        match self {
            Self::Sqlite(db) => db.write(|conn| sqlite::fetch_all(conn, sql, params)).await,
            Self::Postgres(pool) => postgres::fetch_all(pool, sql, params).await,
        }
    }

    /// Starts a transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`),
    /// so read-then-write sequences inside it cannot interleave with other writers.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Self::Sqlite(db) => Tx::Sqlite(Some(db.begin_immediate().await?)),
            Self::Postgres(pool) => Tx::Postgres(Some(pool.begin().await?)),
        })
    }

    /// Starts a read-only transaction: one consistent snapshot for several reads, without
    /// the write lock (on SQLite it runs on a reader connection).
    pub async fn begin_read(&self) -> Result<Tx> {
        Ok(match self {
            Self::Sqlite(db) => {
                let conn = db.reader_owned().await;
                conn.execute_batch("BEGIN DEFERRED")?;
                Tx::Sqlite(Some(conn))
            }
            Self::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SET TRANSACTION READ ONLY").execute(&mut *tx).await?;
                Tx::Postgres(Some(tx))
            }
        })
    }

    /// Open connections and how many are idle, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        match self {
            Self::Sqlite(db) => db.pool_stats(),
            Self::Postgres(pool) => PoolStats { open: pool.size() as usize, idle: pool.num_idle() },
        }
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        self.fetch_optional::<i64>("SELECT CAST(1 AS BIGINT)", &[]).await.map(drop)
    }
}

/// Something queries can run on: the shared pool (`Reader`) or an open transaction, so one
/// loader serves both a plain read and a read inside a write.
pub trait Exec: Send {
    fn fetch_all<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> impl std::future::Future<Output = Result<Vec<T>>> + Send;
    fn fetch_optional<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> impl std::future::Future<Output = Result<Option<T>>> + Send;
}

/// Reads on the shared pool (SQLite's read-only connections).
pub struct Reader<'a>(pub &'a Db);

impl Exec for Reader<'_> {
    async fn fetch_all<T: FromRow + Send>(&mut self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        self.0.fetch_all(sql, params).await
    }
    async fn fetch_optional<T: FromRow + Send>(&mut self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        self.0.fetch_optional(sql, params).await
    }
}

impl Exec for Tx {
    async fn fetch_all<T: FromRow + Send>(&mut self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        Tx::fetch_all(self, sql, params).await
    }
    async fn fetch_optional<T: FromRow + Send>(&mut self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        Tx::fetch_optional(self, sql, params).await
    }
}

/// An open transaction. Dropping it without `commit` rolls back.
pub enum Tx {
    Sqlite(Option<OwnedMutexGuard<rusqlite::Connection>>),
    Postgres(Option<sqlx::Transaction<'static, sqlx::Postgres>>),
}

impl Tx {
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    fn sqlite(conn: &Option<OwnedMutexGuard<rusqlite::Connection>>) -> &rusqlite::Connection {
        conn.as_deref().expect("transaction used after commit")
    }

    fn pg<'a>(tx: &'a mut Option<sqlx::Transaction<'static, sqlx::Postgres>>) -> &'a mut sqlx::PgConnection {
        tx.as_deref_mut().expect("transaction used after commit")
    }

    pub async fn fetch_optional<T: FromRow>(&mut self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        match self {
            Self::Sqlite(conn) => sqlite::fetch_optional(Self::sqlite(conn), sql, params),
            Self::Postgres(tx) => postgres::fetch_optional(Self::pg(tx), sql, params).await,
        }
    }

    pub async fn fetch_all<T: FromRow>(&mut self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        match self {
            Self::Sqlite(conn) => sqlite::fetch_all(Self::sqlite(conn), sql, params),
            Self::Postgres(tx) => postgres::fetch_all(Self::pg(tx), sql, params).await,
        }
    }

    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        match self {
            Self::Sqlite(conn) => sqlite::execute(Self::sqlite(conn), sql, params),
            Self::Postgres(tx) => postgres::execute(Self::pg(tx), sql, params).await,
        }
    }

    /// Runs one statement so that its failure leaves the transaction usable: inside a
    /// SAVEPOINT that is rolled back to on error. Without it a failed statement (say, a
    /// unique violation to retry with another value) aborts the whole transaction on
    /// PostgreSQL; SQLite undoes just the statement, and the same code serves both.
    pub async fn execute_recoverable(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.execute("SAVEPOINT recoverable", &[]).await?;
        let outcome = self.execute(sql, params).await;
        if outcome.is_err() {
            self.execute("ROLLBACK TO SAVEPOINT recoverable", &[]).await?;
        }
        self.execute("RELEASE SAVEPOINT recoverable", &[]).await?;
        outcome
    }

    /// Several statements without parameters (schema migrations).
    pub async fn execute_script(&mut self, sql: &str) -> Result<()> {
        match self {
            Self::Sqlite(conn) => Ok(Self::sqlite(conn).execute_batch(sql)?),
            Self::Postgres(tx) => {
                sqlx::raw_sql(sql).execute(Self::pg(tx)).await?;
                Ok(())
            }
        }
    }

    pub async fn commit(mut self) -> Result<()> {
        match &mut self {
            Self::Sqlite(conn) => {
                let conn = conn.take().expect("transaction committed twice");
                if let Err(e) = conn.execute_batch("COMMIT") {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(())
            }
            Self::Postgres(tx) => Ok(tx.take().expect("transaction committed twice").commit().await?),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Self::Sqlite(Some(conn)) = self {
            if !conn.is_autocommit() {
                if let Err(e) = conn.execute_batch("ROLLBACK") {
                    tracing::error!(error = %e, "sqlite rollback failed");
                }
            }
        }
    }
}
