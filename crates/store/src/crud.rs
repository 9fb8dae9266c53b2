//! The plain-CRUD pattern, written once: a resource declares its table and columns and gets
//! account-scoped get, list, insert, partial update and delete. A `Scope` narrows every
//! query to one owner (e.g. a merchant's stores), so a row reached through the wrong owner
//! is indistinguishable from a missing one.

use crate::link_set::LinkSet;
use crate::{Db, FromRow, Result, StoreError, Tx, Value};
use kindling_domain::paging::PageRequest;
use kindling_domain::{AccountId, Timestamp};
use std::future::Future;

/// A table whose rows belong to an account and have an integer `id`.
pub trait Table {
    const TABLE: &'static str;
    /// The select list: every column `Record::from_row` reads by name (expressions aliased).
    const COLUMNS: &'static str;
    type Record: FromRow + Send + Sync;
    /// The table's typed id (`MemberId`, `OfferId`, ...): `get`, `lock`, `update`, `delete`
    /// and `owner_of` take it and `insert` returns it, so one table's id cannot be passed
    /// for another's.
    type Id: Copy + Into<Value> + From<i64> + Into<i64> + std::fmt::Display + Send + Sync;

    fn id(record: &Self::Record) -> Self::Id;

    /// Fills fields stored in other tables (linked ids, embedded objects) for a page of
    /// records at once.
    fn attach(_db: &Db, _account: AccountId, _records: &mut [Self::Record]) -> impl Future<Output = Result<()>> + Send {
        std::future::ready(Ok(()))
    }
}

/// Column/value pairs for an insert or a partial update.
pub type Assignments = Vec<(&'static str, Value)>;

/// Equality conditions on owner columns: `[("merchant_id", 5)]`.
pub type Scope = [(&'static str, i64)];

/// A list condition from the query string.
#[derive(Debug, Clone)]
pub enum Filter {
    Eq(&'static str, Value),
    /// Case-insensitive substring match.
    Contains(&'static str, String),
    /// A condition the store writes (see `offers::offer::at_merchant`); every `{p}` becomes
    /// this filter's parameter. Built only inside the store, so no SQL comes from callers.
    #[non_exhaustive]
    Sql {
        template: &'static str,
        value: Value,
    },
}

/// One page of records plus the count across all pages.
#[derive(Debug)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total_entries: i64,
    pub page: PageRequest,
}

/// Builds assignments from optional values, skipping `None` (a partial update).
#[derive(Debug, Default)]
pub struct Assign(Assignments);

impl Assign {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(mut self, column: &'static str, value: Option<impl Into<Value>>) -> Self {
        if let Some(value) = value {
            self.0.push((column, value.into()));
        }
        self
    }

    pub fn done(self) -> Assignments {
        self.0
    }
}

/// `WHERE` text and parameters for the account, a scope and filters; parameters start at $1.
fn conditions(account: AccountId, scope: &Scope, filters: &[Filter], alias: &str) -> (String, Vec<Value>) {
    let mut sql = format!("{alias}account_id = $1");
    let mut params: Vec<Value> = vec![account.0.into()];
    for (column, id) in scope {
        params.push((*id).into());
        sql.push_str(&format!(" AND {alias}{column} = ${}", params.len()));
    }
    for filter in filters {
        match filter {
            Filter::Eq(column, value) => {
                params.push(value.clone());
                sql.push_str(&format!(" AND {alias}{column} = ${}", params.len()));
            }
            Filter::Contains(column, needle) => {
                let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                params.push(format!("%{}%", escaped.to_lowercase()).into());
                sql.push_str(&format!(" AND LOWER({alias}{column}) LIKE ${} ESCAPE '\\'", params.len()));
            }
            Filter::Sql { template, value } => {
                params.push(value.clone());
                sql.push_str(&format!(" AND {}", template.replace("{p}", &format!("${}", params.len()))));
            }
        }
    }
    (sql, params)
}

pub async fn get<T: Table>(db: &Db, account: AccountId, scope: &Scope, id: T::Id) -> Result<Option<T::Record>> {
    let (conditions, mut params) = conditions(account, scope, &[], "");
    params.push(id.into());
    let sql = format!("SELECT {} FROM {} WHERE {conditions} AND id = ${}", T::COLUMNS, T::TABLE, params.len());
    one::<T>(db, account, &sql, &params).await
}

/// Reads one row inside a write transaction for a read-modify-write: on PostgreSQL the row
/// stays locked (`FOR NO KEY UPDATE`) until commit, so a concurrent writer of the same row waits
/// and then decides on what this one wrote; SQLite's `BEGIN IMMEDIATE` already holds the
/// only write lock. Attached fields are not loaded.
pub async fn lock<T: Table>(tx: &mut Tx, account: AccountId, scope: &Scope, id: T::Id) -> Result<Option<T::Record>> {
    let (conditions, mut params) = conditions(account, scope, &[], "");
    params.push(id.into());
    let sql = format!(
        "SELECT {} FROM {} WHERE {conditions} AND id = ${}{}",
        T::COLUMNS,
        T::TABLE,
        params.len(),
        for_update(tx)
    );
    tx.fetch_optional::<T::Record>(&sql, &params).await
}

/// The row lock of a read-modify-write: on PostgreSQL ` FOR NO KEY UPDATE`, which excludes
/// other writers of the row but not the key-share locks that foreign-key checks of child
/// inserts take (so linking a channel to a locked offer waits for no one, and cannot
/// deadlock with us); nothing on SQLite, which has no row locks and needs none.
pub fn for_update(tx: &Tx) -> &'static str {
    match tx.dialect() {
        crate::Dialect::Postgres => " FOR NO KEY UPDATE",
        crate::Dialect::Sqlite => "",
    }
}

/// The first row whose `column` equals `value` (for columns unique per account).
pub async fn find_by<T: Table>(
    db: &Db,
    account: AccountId,
    column: &'static str,
    value: Value,
) -> Result<Option<T::Record>> {
    // One query, not a page (which would also count every match).
    let (conditions, params) = conditions(account, &[], &[Filter::Eq(column, value)], "");
    let sql = format!("SELECT {} FROM {} WHERE {conditions} ORDER BY id LIMIT 1", T::COLUMNS, T::TABLE);
    one::<T>(db, account, &sql, &params).await
}

/// The record `sql` selects, with its attached fields.
async fn one<T: Table>(db: &Db, account: AccountId, sql: &str, params: &[Value]) -> Result<Option<T::Record>> {
    let Some(record) = db.fetch_optional::<T::Record>(sql, params).await? else {
        return Ok(None);
    };
    let mut records = [record];
    T::attach(db, account, &mut records).await?;
    let [record] = records;
    Ok(Some(record))
}

/// Lists in id order.
pub async fn list<T: Table>(
    db: &Db,
    account: AccountId,
    scope: &Scope,
    filters: &[Filter],
    page: PageRequest,
) -> Result<Paged<T::Record>> {
    list_ordered::<T>(db, account, scope, filters, "id", page).await
}

/// Lists in the given order; `order_by` must come from the caller's own whitelist.
pub async fn list_ordered<T: Table>(
    db: &Db,
    account: AccountId,
    scope: &Scope,
    filters: &[Filter],
    order_by: &str,
    page: PageRequest,
) -> Result<Paged<T::Record>> {
    let (conditions, params) = conditions(account, scope, filters, "");
    page_of::<T>(db, account, &format!("{} WHERE {conditions}", T::TABLE), order_by, params, page).await
}

/// Lists the records of `T` linked to `owner` through `link`, in id order.
pub async fn list_linked<T: Table>(
    db: &Db,
    account: AccountId,
    link: &LinkSet,
    owner: i64,
    filters: &[Filter],
    page: PageRequest,
) -> Result<Paged<T::Record>> {
    let (conditions, mut params) = conditions(account, &[], filters, "");
    params.push(owner.into());
    let from = format!(
        "{} WHERE {conditions} AND id IN (SELECT {} FROM {} WHERE {} = ${} AND account_id = $1)",
        T::TABLE,
        link.target_column,
        link.table,
        link.owner_column,
        params.len()
    );
    page_of::<T>(db, account, &from, "id", params, page).await
}

async fn page_of<T: Table>(
    db: &Db,
    account: AccountId,
    from: &str,
    order_by: &str,
    mut params: Vec<Value>,
    page: PageRequest,
) -> Result<Paged<T::Record>> {
    let total_entries = db.fetch_optional::<i64>(&format!("SELECT COUNT(*) FROM {from}"), &params).await?.unwrap_or(0);
    let n = params.len();
    let sql = format!("SELECT {} FROM {from} ORDER BY {order_by} LIMIT ${} OFFSET ${}", T::COLUMNS, n + 1, n + 2);
    params.push(page.limit().into());
    params.push(page.offset().into());
    let mut items = db.fetch_all::<T::Record>(&sql, &params).await?;
    T::attach(db, account, &mut items).await?;
    Ok(Paged { items, total_entries, page })
}

/// Inserts a row for `account`, stamping `created_at`/`updated_at`; returns its id.
pub async fn insert<T: Table>(tx: &mut Tx, account: AccountId, values: Assignments) -> Result<T::Id> {
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
    let sql =
        format!("INSERT INTO {} ({}) VALUES ({}) RETURNING id", T::TABLE, columns.join(", "), placeholders.join(", "));
    tx.fetch_optional::<i64>(&sql, &params)
        .await?
        .map(T::Id::from)
        .ok_or_else(|| StoreError::Decode("insert returned no row".into()))
}

/// Sets only the given columns and bumps `updated_at`; `false` when no such row is in scope.
pub async fn update<T: Table>(
    tx: &mut Tx,
    account: AccountId,
    scope: &Scope,
    id: T::Id,
    values: Assignments,
) -> Result<bool> {
    let (conditions, mut params) = conditions(account, scope, &[], "");
    params.push(id.into());
    let id_param = params.len();
    params.push(Timestamp::now().unix().into());
    let mut sets = vec![format!("updated_at = ${}", params.len())];
    for (column, value) in values {
        params.push(value);
        sets.push(format!("{column} = ${}", params.len()));
    }
    let sql = format!("UPDATE {} SET {} WHERE {conditions} AND id = ${id_param}", T::TABLE, sets.join(", "));
    Ok(tx.execute(&sql, &params).await? > 0)
}

/// Whether a row was deleted. Rows still referenced elsewhere fail with `ForeignKey`.
pub async fn delete<T: Table>(db: &Db, account: AccountId, scope: &Scope, id: T::Id) -> Result<bool> {
    let (conditions, mut params) = conditions(account, scope, &[], "");
    params.push(id.into());
    let sql = format!("DELETE FROM {} WHERE {conditions} AND id = ${}", T::TABLE, params.len());
    Ok(db.execute(&sql, &params).await? > 0)
}

/// Whether `table` has row `id` in the account (and scope).
pub async fn exists(tx: &mut Tx, table: &str, account: AccountId, scope: &Scope, id: i64) -> Result<bool> {
    let (conditions, mut params) = conditions(account, scope, &[], "");
    params.push(id.into());
    let sql = format!("SELECT id FROM {table} WHERE {conditions} AND id = ${}", params.len());
    Ok(tx.fetch_optional::<i64>(&sql, &params).await?.is_some())
}

/// Whether `T`'s table has row `id` in the account: `exists` with the table and its id
/// type tied together, for callers that know the table at compile time.
pub async fn contains<T: Table>(tx: &mut Tx, account: AccountId, id: T::Id) -> Result<bool> {
    exists(tx, T::TABLE, account, &[], id.into()).await
}

/// `contains` on the shared pool, outside a transaction.
pub async fn contains_now<T: Table>(db: &Db, account: AccountId, id: T::Id) -> Result<bool> {
    exists_now(db, T::TABLE, account, id.into()).await
}

/// The account a record of `T` belongs to, for admin commands that name a record by id alone.
pub async fn owner_of<T: Table>(db: &Db, id: T::Id) -> Result<Option<AccountId>> {
    let sql = format!("SELECT account_id FROM {} WHERE id = $1", T::TABLE);
    Ok(db.fetch_optional::<i64>(&sql, &[id.into()]).await?.map(AccountId))
}

pub async fn exists_now(db: &Db, table: &str, account: AccountId, id: i64) -> Result<bool> {
    let sql = format!("SELECT id FROM {table} WHERE account_id = $1 AND id = $2");
    Ok(db.fetch_optional::<i64>(&sql, &[account.0.into(), id.into()]).await?.is_some())
}
