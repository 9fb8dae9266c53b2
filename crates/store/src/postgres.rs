//! PostgreSQL through sqlx's pool; statements are prepared and cached per connection.

use crate::{FromRow, Result, Row, StoreError, Value};
use futures_util::TryStreamExt;
use sqlx::postgres::{PgArguments, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres};

pub async fn connect(url: &str) -> Result<PgPool> {
    let max = std::env::var("KINDLING_DATABASE_POOL_SIZE").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    Ok(PgPoolOptions::new().max_connections(max).connect(url).await?)
}

fn bind<'q>(sql: &'q str, params: &'q [Value]) -> Query<'q, Postgres, PgArguments> {
    params.iter().fold(sqlx::query(sql), |q, p| match p {
        Value::Int(v) => q.bind(*v),
        Value::Text(v) => q.bind(v.as_deref()),
        Value::Bool(v) => q.bind(*v),
        Value::Float(v) => q.bind(*v),
    })
}

fn decode(e: sqlx::Error) -> StoreError {
    StoreError::Decode(e.to_string())
}

impl Row for PgRow {
    fn int(&self, idx: usize) -> Result<i64> {
        sqlx::Row::try_get(self, idx).map_err(decode)
    }
    fn opt_int(&self, idx: usize) -> Result<Option<i64>> {
        sqlx::Row::try_get(self, idx).map_err(decode)
    }
    fn text(&self, idx: usize) -> Result<String> {
        sqlx::Row::try_get(self, idx).map_err(decode)
    }
    fn opt_text(&self, idx: usize) -> Result<Option<String>> {
        sqlx::Row::try_get(self, idx).map_err(decode)
    }
    fn boolean(&self, idx: usize) -> Result<bool> {
        sqlx::Row::try_get(self, idx).map_err(decode)
    }
    fn opt_boolean(&self, idx: usize) -> Result<Option<bool>> {
        sqlx::Row::try_get(self, idx).map_err(decode)
    }
    fn opt_float(&self, idx: usize) -> Result<Option<f64>> {
        sqlx::Row::try_get(self, idx).map_err(decode)
    }
}

pub async fn fetch_optional<'e, E, T>(executor: E, sql: &str, params: &[Value]) -> Result<Option<T>>
where
    E: sqlx::Executor<'e, Database = Postgres>,
    T: FromRow,
{
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
    Ok(bind(sql, params).execute(executor).await?.rows_affected())
}
