//! The plain-CRUD pattern, written once: a resource declares its table and columns and gets
//! account-scoped get, list, insert, partial update and delete.

use crate::{Db, FromRow, Result, Value};
use kindling_domain::paging::PageRequest;
use kindling_domain::{AccountId, Timestamp};

/// A table whose rows belong to an account and have an integer `id`.
pub trait Table {
    const TABLE: &'static str;
    /// The select list, in the order `Record::from_row` reads it.
    const COLUMNS: &'static str;
    type Record: FromRow + Send;
}

/// Column/value pairs for an insert or a partial update.
pub type Assignments = Vec<(&'static str, Value)>;

/// One page of records plus the count across all pages.
#[derive(Debug)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total_entries: i64,
    pub page: PageRequest,
}

pub async fn get<T: Table>(db: &Db, account: AccountId, id: i64) -> Result<Option<T::Record>> {
    let sql = format!(
        "SELECT {} FROM {} WHERE id = $1 AND account_id = $2",
        T::COLUMNS,
        T::TABLE
    );
    db.fetch_optional(&sql, &[id.into(), account.0.into()])
        .await
}

/// The row whose `column` equals `value` (for columns unique per account).
pub async fn find_by<T: Table>(
    db: &Db,
    account: AccountId,
    column: &str,
    value: Value,
) -> Result<Option<T::Record>> {
    let sql = format!(
        "SELECT {} FROM {} WHERE account_id = $1 AND {column} = $2",
        T::COLUMNS,
        T::TABLE
    );
    db.fetch_optional(&sql, &[account.0.into(), value]).await
}

/// Lists in id order; `filters` are exact-match conditions ANDed together.
pub async fn list<T: Table>(
    db: &Db,
    account: AccountId,
    page: PageRequest,
    filters: &[(&'static str, Value)],
) -> Result<Paged<T::Record>> {
    let mut conditions = String::from("account_id = $1");
    let mut params: Vec<Value> = vec![account.0.into()];
    for (column, value) in filters {
        params.push(value.clone());
        conditions.push_str(&format!(" AND {column} = ${}", params.len()));
    }
    let count_sql = format!("SELECT COUNT(*) FROM {} WHERE {conditions}", T::TABLE);
    let total_entries = db
        .fetch_optional::<i64>(&count_sql, &params)
        .await?
        .unwrap_or(0);
    let n = params.len();
    let page_sql = format!(
        "SELECT {} FROM {} WHERE {conditions} ORDER BY id LIMIT ${} OFFSET ${}",
        T::COLUMNS,
        T::TABLE,
        n + 1,
        n + 2
    );
    params.push(page.limit().into());
    params.push(page.offset().into());
    let items = db.fetch_all(&page_sql, &params).await?;
    Ok(Paged {
        items,
        total_entries,
        page,
    })
}

/// Inserts a row for `account`, stamping `created_at`/`updated_at`, and returns it as stored.
pub async fn insert<T: Table>(
    db: &Db,
    account: AccountId,
    values: Assignments,
) -> Result<T::Record> {
    let now = Timestamp::now().unix();
    let mut columns = vec!["account_id"];
    let mut params: Vec<Value> = vec![account.0.into()];
    for (column, value) in values {
        columns.push(column);
        params.push(value);
    }
    columns.extend(["created_at", "updated_at"]);
    params.extend([now.into(), now.into()]);
    let placeholders: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) RETURNING {}",
        T::TABLE,
        columns.join(", "),
        placeholders.join(", "),
        T::COLUMNS
    );
    db.write_returning(&sql, &params)
        .await?
        .ok_or_else(|| crate::StoreError::Decode("insert returned no row".into()))
}

/// Sets only the given columns (a partial update) and bumps `updated_at`.
/// `None` when no such row exists in the account.
pub async fn update<T: Table>(
    db: &Db,
    account: AccountId,
    id: i64,
    values: Assignments,
) -> Result<Option<T::Record>> {
    let mut sets = Vec::with_capacity(values.len() + 1);
    let mut params: Vec<Value> = vec![id.into(), account.0.into(), Timestamp::now().unix().into()];
    sets.push("updated_at = $3".to_owned());
    for (column, value) in values {
        params.push(value);
        sets.push(format!("{column} = ${}", params.len()));
    }
    let sql = format!(
        "UPDATE {} SET {} WHERE id = $1 AND account_id = $2 RETURNING {}",
        T::TABLE,
        sets.join(", "),
        T::COLUMNS
    );
    db.write_returning(&sql, &params).await
}

/// Whether a row was deleted.
pub async fn delete<T: Table>(db: &Db, account: AccountId, id: i64) -> Result<bool> {
    let sql = format!("DELETE FROM {} WHERE id = $1 AND account_id = $2", T::TABLE);
    Ok(db.execute(&sql, &[id.into(), account.0.into()]).await? > 0)
}
