//! PostgreSQL through sqlx's pool; statements are prepared and cached per connection.

use crate::{FromRow, Result, Row, StoreError, Value};
use futures_util::TryStreamExt;
use sqlx::postgres::{PgArguments, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres};

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
}

impl PgDb {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = connect(url).await?;
        let committer =
            match std::env::var("KINDLING_PG_GROUP_COMMIT").as_deref().map(str::to_ascii_lowercase).as_deref() {
                Err(_) | Ok("off") => None,
                Ok("on") => {
                    let lanes = std::env::var("KINDLING_PG_COMMIT_LANES")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or((pool_size() as usize / 2).max(1));
                    Some(crate::pg_commit::Committer::start(&pool, lanes))
                }
                Ok(other) => {
                    return Err(StoreError::UnsupportedUrl(format!("KINDLING_PG_GROUP_COMMIT={other} (on or off)")));
                }
            };
        Ok(Self { pool, committer })
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
