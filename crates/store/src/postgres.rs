//! PostgreSQL through sqlx's pool; statements are prepared and cached per connection.

use crate::{FromRow, Result, Row, StoreError, Value};
use futures_util::TryStreamExt;
use sqlx::postgres::{PgArguments, PgPoolOptions, PgRow};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::query::Query;
use sqlx::{Connection, PgPool, Postgres};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

pub async fn connect(url: &str) -> Result<PgPool> {
    let max = pool_size();
    Ok(PgPoolOptions::new()
        .max_connections(max)
        // sqlx pings every connection it hands out by default: a second round trip for each
        // statement. Only a connection that sat idle long enough to have been dropped (a
        // restart, a proxy's idle cut) is checked; a busy one is known to be alive.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect(url)
        .await?)
}

/// A pooled connection idle this long is pinged before use.
const PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

fn pool_size() -> u32 {
    std::env::var("KINDLING_DATABASE_POOL_SIZE").ok().and_then(|v| v.parse().ok()).unwrap_or(16)
}

/// The pool, and, with `KINDLING_PG_GROUP_COMMIT=on`, the group-commit lanes that run write
/// transactions on it. Off by default: a batch holds the row locks of all its bodies until
/// it commits, so two lanes' batches can wait on each other where the requests alone would
/// not (a deadlock PostgreSQL breaks after `deadlock_timeout` by refusing one body, a 503).
#[derive(Clone)]
pub struct PgDb {
    pub pool: PgPool,
    pub(crate) committer: Option<crate::pg_commit::Committer>,
    pub(crate) readers: Readers,
    /// Hot reads by id, coalesced (`by_ids.rs`).
    pub(crate) by_ids: crate::by_ids::ByIds,
    pub(crate) codes: crate::db::Codes,
}

/// Connections kept out of the pool for single-statement reads, like SQLite's readers: sqlx
/// pings a pooled connection each time it goes back (a second round trip per statement,
/// about a quarter of a GET's CPU); these are never returned, so never pinged. A broken
/// one is dropped, reopened, and the read tried once more.
#[derive(Clone)]
pub struct Readers {
    connections: Arc<[Mutex<Option<PgConnection>>]>,
    next: Arc<AtomicUsize>,
    options: Arc<PgConnectOptions>,
}

/// Readers per process (`KINDLING_PG_READERS`).
fn reader_count() -> usize {
    std::env::var("KINDLING_PG_READERS").ok().and_then(|v| v.parse().ok()).unwrap_or(8).max(1)
}

impl Readers {
    fn new(pool: &PgPool) -> Self {
        Self {
            connections: (0..reader_count()).map(|_| Mutex::new(None)).collect(),
            next: Arc::new(AtomicUsize::new(0)),
            options: Arc::new((*pool.connect_options()).clone()),
        }
    }

    /// A free reader if there is one, else waits for the next in turn.
    async fn take(&self) -> MutexGuard<'_, Option<PgConnection>> {
        crate::db::free_or_next(&self.connections, &self.next).await
    }

    pub async fn fetch_optional<T: FromRow>(&self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        read_with_retry!(self, |conn| fetch_optional(conn, sql, params))
    }

    pub async fn fetch_all<T: FromRow>(&self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        read_with_retry!(self, |conn| fetch_all(conn, sql, params))
    }

    /// The rows themselves, for a caller that decodes them elsewhere (`by_ids`).
    pub(crate) async fn fetch_rows(&self, sql: &str, params: &[Value]) -> Result<Vec<PgRow>> {
        read_with_retry!(self, |conn| async {
            crate::stats::statement();
            Ok::<_, StoreError>(bind(sql, params).fetch_all(&mut *conn).await?)
        })
    }
}

/// Runs a read on a reader (opened first if needed); once more on a fresh connection if
/// the first attempt found the connection broken.
macro_rules! read_with_retry {
    ($readers:expr, |$conn:ident| $read:expr) => {{
        let mut slot = $readers.take().await;
        let mut attempt = 0;
        loop {
            if slot.is_none() {
                *slot = Some(PgConnection::connect_with(&$readers.options).await?);
            }
            let $conn = slot.as_mut().expect("just opened");
            match $read.await {
                Err(StoreError::Postgres(e)) if attempt == 0 && broken(&e) => {
                    tracing::warn!(error = %e, "a PostgreSQL reader connection broke; reopening it");
                    *slot = None;
                    attempt += 1;
                }
                outcome => break outcome,
            }
        }
    }};
}
use read_with_retry;

/// Whether an error means the connection itself is gone (so a fresh one may succeed).
fn broken(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        // admin_shutdown, crash_shutdown, cannot_connect_now: the server ended the session.
        sqlx::Error::Database(d) => matches!(d.code().as_deref(), Some("57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

impl PgDb {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = connect(url).await?;
        let codes = crate::db::Codes::default();
        let committer =
            match std::env::var("KINDLING_PG_GROUP_COMMIT").as_deref().map(str::to_ascii_lowercase).as_deref() {
                Err(_) | Ok("off") => None,
                Ok("on") => {
                    let lanes = std::env::var("KINDLING_PG_COMMIT_LANES")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or((pool_size() as usize / 2).max(1));
                    Some(crate::pg_commit::Committer::start(&pool, lanes, &codes))
                }
                Ok(other) => {
                    return Err(StoreError::UnsupportedUrl(format!("KINDLING_PG_GROUP_COMMIT={other} (on or off)")));
                }
            };
        let readers = Readers::new(&pool);
        let by_ids = crate::by_ids::ByIds::start(readers.clone());
        Ok(Self { pool, committer, readers, by_ids, codes })
    }
}

fn bind<'q>(sql: &'q str, params: &'q [Value]) -> Query<'q, Postgres, PgArguments> {
    params.iter().fold(sqlx::query(sql), |q, p| match p {
        Value::Int(v) => q.bind(*v),
        Value::Text(v) => q.bind(v.as_deref()),
        Value::Bool(v) => q.bind(*v),
        Value::Float(v) => q.bind(*v),
        Value::IntList(v) => q.bind(v.as_slice()),
        Value::TextList(v) => q.bind(v.as_slice()),
        Value::IntColumn(v) => q.bind(v.as_slice()),
        Value::TextColumn(v) => q.bind(v.as_slice()),
        Value::BoolColumn(v) => q.bind(v.as_slice()),
    })
}

/// Reads one column by name (see `db::position`).
fn get<'r, T>(row: &'r PgRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    let index = crate::db::position(sqlx::Row::columns(row).iter().map(sqlx::Column::name), column)?;
    sqlx::Row::try_get(row, index).map_err(|e| StoreError::Decode(format!("column {column:?}: {e}")))
}

impl Row for PgRow {
    crate::db::row_getters!();

    fn sole_column(&self) -> Result<&str> {
        match sqlx::Row::columns(self) {
            [only] => Ok(sqlx::Column::name(only)),
            columns => Err(crate::db::not_scalar(columns.len())),
        }
    }
}

pub async fn fetch_optional<'e, E, T>(executor: E, sql: &str, params: &[Value]) -> Result<Option<T>>
where
    E: sqlx::Executor<'e, Database = Postgres>,
    T: FromRow,
{
    crate::stats::statement();
    match bind(sql, params).fetch_optional(executor).await? {
        Some(row) => Ok(Some(T::from_row(&row)?)),
        None => Ok(None),
    }
}

pub async fn fetch_all<'e, E, T>(executor: E, sql: &str, params: &[Value]) -> Result<Vec<T>>
where
    E: sqlx::Executor<'e, Database = Postgres>,
    T: FromRow,
{
    crate::stats::statement();
    let mut rows = bind(sql, params).fetch(executor);
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await? {
        out.push(T::from_row(&row)?);
    }
    Ok(out)
}

pub async fn execute<'e, E>(executor: E, sql: &str, params: &[Value]) -> Result<u64>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    crate::stats::statement();
    Ok(bind(sql, params).execute(executor).await?.rows_affected())
}
