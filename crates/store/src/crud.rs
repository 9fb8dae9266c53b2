//! The plain-CRUD pattern, written once: a resource declares its table and columns and gets
//! account-scoped get, list, insert, partial update and delete. A `Scope` narrows every
//! query to one owner (e.g. a merchant's stores), so a row reached through the wrong owner
//! is indistinguishable from a missing one.

use crate::link_set::LinkSet;
use crate::{query, Db, Dialect, Exec, FromRow, Reader, Result, StoreError, Tx, Value};
use kindling_domain::paging::PageRequest;
use kindling_domain::{AccountId, ItemSetId, ManufacturerId, MerchantId, OfferId, Timestamp};
pub use sea_query::Order;
use sea_query::{Alias, Cond, Condition, Expr, LockType, NullOrdering, Query, SelectStatement, SimpleExpr};
use std::future::Future;

/// A table whose rows belong to an account and have an integer `id`.
pub trait Table: 'static {
    const TABLE: &'static str;
    /// The select list: every column `Record::from_row` reads by name (expressions aliased).
    const COLUMNS: &'static str;
    type Record: FromRow + Clone + Send + Sync + 'static;
    /// The table's typed id (`MemberId`, `OfferId`, ...): `get`, `lock`, `update`, `delete`
    /// and `owner_of` take it and `insert` returns it, so one table's id cannot be passed
    /// for another's.
    type Id: Copy
        + Eq
        + Ord
        + std::hash::Hash
        + Into<Value>
        + From<i64>
        + Into<i64>
        + std::fmt::Display
        + std::fmt::Debug
        + Send
        + Sync
        + 'static;

    /// Whether `get` serves this table's rows from the SQLite read cache (`read_cache.rs`):
    /// for rows read far more often than any row of the database is written.
    const CACHED: bool = false;

    fn id(record: &Self::Record) -> Self::Id;

    /// Fills fields stored in other tables (linked ids, embedded objects) for a page of
    /// records at once.
    fn attach(_db: &Db, _account: AccountId, _records: &mut [Self::Record]) -> impl Future<Output = Result<()>> + Send {
        std::future::ready(Ok(()))
    }
}

/// Column/value pairs for an insert or a partial update.
pub type Assignments = Vec<(&'static str, Value)>;

/// The typed id of a row another row hangs under or points at: an owner in a path
/// (`/merchants/{merchant_id}/stores`) or a reference in a body (`item_set_id`). The variant
/// names the table and the column, so a merchant's id can never be matched against
/// `offer_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowId {
    Merchant(MerchantId),
    Manufacturer(ManufacturerId),
    Offer(OfferId),
    ItemSet(ItemSetId),
}

impl RowId {
    /// The table the row is in.
    pub fn table(self) -> &'static str {
        match self {
            Self::Merchant(_) => "merchants",
            Self::Manufacturer(_) => "manufacturers",
            Self::Offer(_) => "offers",
            Self::ItemSet(_) => "item_sets",
        }
    }

    /// The column that names such a row in the rows that hang under or point at it.
    pub fn column(self) -> &'static str {
        match self {
            Self::Merchant(_) => "merchant_id",
            Self::Manufacturer(_) => "manufacturer_id",
            Self::Offer(_) => "offer_id",
            Self::ItemSet(_) => "item_set_id",
        }
    }

    pub fn value(self) -> Value {
        match self {
            Self::Merchant(id) => id.into(),
            Self::Manufacturer(id) => id.into(),
            Self::Offer(id) => id.into(),
            Self::ItemSet(id) => id.into(),
        }
    }
}

impl std::fmt::Display for RowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Merchant(id) => id.fmt(f),
            Self::Manufacturer(id) => id.fmt(f),
            Self::Offer(id) => id.fmt(f),
            Self::ItemSet(id) => id.fmt(f),
        }
    }
}

/// The owners a query is narrowed to (`[RowId::Merchant(5)]`: `merchant_id = 5`).
pub type Scope = [RowId];

/// A list condition from the query string.
#[derive(Debug, Clone)]
pub enum Filter {
    Eq(&'static str, Value),
    /// Case-insensitive substring match.
    Contains(&'static str, String),
    /// A condition the store builds (see `offers::offer::at_merchant`), so no SQL comes
    /// from callers.
    #[non_exhaustive]
    Where(SimpleExpr),
}

/// One page of records plus the count across all pages.
#[derive(Debug)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total_entries: i64,
    pub page: PageRequest,
}

/// The field a unique-index violation (`StoreError::Unique`'s detail) is reported on: the
/// first of `fields` the violated index names, else the first of them (the API's and the
/// portal's "has already been taken").
pub fn unique_field(detail: &str, fields: &[&'static str]) -> Option<&'static str> {
    fields.iter().find(|f| detail.contains(*f)).or(fields.first()).copied()
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

/// The account, the scope and the filters, all of which a row must match.
fn conditions(account: AccountId, scope: &Scope, filters: &[Filter]) -> Condition {
    let mut all = Cond::all().add(query::in_account(None, account));
    for owner in scope {
        all = all.add(Expr::col(owner.column()).eq(owner.value()));
    }
    for filter in filters {
        all = all.add(match filter {
            Filter::Eq(column, value) => Expr::col(*column).eq(value.clone()),
            Filter::Contains(column, needle) => query::contains(*column, needle),
            Filter::Where(condition) => condition.clone(),
        });
    }
    all
}

/// `SELECT <T's columns> FROM <T's table> WHERE <account, scope> AND id = <id>`.
fn select_one<T: Table>(account: AccountId, scope: &Scope, id: T::Id) -> SelectStatement {
    Query::select()
        .expr(Expr::cust(T::COLUMNS))
        .from(T::TABLE)
        .cond_where(conditions(account, scope, &[]))
        .and_where(Expr::col("id").eq(Value::from_id(id)))
        .to_owned()
}

/// `SELECT <T's columns> FROM <T's table> WHERE account_id = <account> AND id = ANY(<ids>)`:
/// many `get`s in one statement (`by_ids.rs`, PostgreSQL only).
fn select_by_ids<T: Table>(account: AccountId) -> SelectStatement {
    Query::select()
        .expr(Expr::cust(T::COLUMNS))
        .from(T::TABLE)
        .and_where(query::in_account(None, account))
        .and_where(Dialect::Postgres.in_list("id", Value::IntList(Vec::new())))
        .to_owned()
}

pub async fn get<T: Table>(db: &Db, account: AccountId, scope: &Scope, id: T::Id) -> Result<Option<T::Record>> {
    if scope.is_empty() {
        // The hot path (`GET /members/{id}`): the text is rendered once per table.
        let sql = query::memo((T::TABLE, T::COLUMNS), db.dialect(), || select_one::<T>(account, &[], id));
        let params = [account.into(), id.into()];
        if let Some(reads) = db.by_ids().filter(|_| T::CACHED) {
            let sql = query::memo((T::TABLE, "id = ANY"), db.dialect(), || select_by_ids::<T>(account));
            let Some(row) = reads.read(sql, account, id.into()).await? else {
                return Ok(None);
            };
            let mut records = [T::Record::from_row(&*row)?];
            T::attach(db, account, &mut records).await?;
            let [record] = records;
            return Ok(Some(record));
        }
        let read = one::<T>(db, account, &sql, &params);
        return match db.read_cache().filter(|_| T::CACHED) {
            Some(cache) => cache.get_or_load((T::TABLE, account.0, id.into()), read).await,
            None => read.await,
        };
    }
    let (sql, params) = query::build(&select_one::<T>(account, scope, id), db.dialect())?;
    one::<T>(db, account, &sql, &params).await
}

/// Reads one row inside a write transaction for a read-modify-write: on PostgreSQL the row
/// stays locked (`FOR NO KEY UPDATE`) until commit, so a concurrent writer of the same row waits
/// and then decides on what this one wrote; SQLite's `BEGIN IMMEDIATE` already holds the
/// only write lock. Attached fields are not loaded.
pub async fn lock<T: Table>(tx: &mut Tx, account: AccountId, scope: &Scope, id: T::Id) -> Result<Option<T::Record>> {
    let statement = locked(&mut select_one::<T>(account, scope, id)).to_owned();
    let (sql, params) = query::build(&statement, tx.dialect())?;
    tx.fetch_optional::<T::Record>(&sql, &params).await
}

/// The row lock of a read-modify-write, for a select built with sea-query: on PostgreSQL
/// `FOR NO KEY UPDATE`, which excludes other writers of the row but not the key-share locks
/// that foreign-key checks of child inserts take (so linking a channel to a locked offer
/// waits for no one, and cannot deadlock with us); SQLite's builder writes nothing, as
/// SQLite has no row locks and needs none.
pub(crate) fn locked(select: &mut SelectStatement) -> &mut SelectStatement {
    select.lock(LockType::NoKeyUpdate)
}

/// The first row whose `column` equals `value` (for columns unique per account).
pub async fn find_by<T: Table>(
    db: &Db,
    account: AccountId,
    column: &'static str,
    value: Value,
) -> Result<Option<T::Record>> {
    // One query, not a page (which would also count every match).
    let statement = Query::select()
        .expr(Expr::cust(T::COLUMNS))
        .from(T::TABLE)
        .cond_where(conditions(account, &[], &[Filter::Eq(column, value)]))
        .order_by("id", Order::Asc)
        .limit(1)
        .to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
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
    list_ordered::<T>(db, account, scope, filters, &[("id", Order::Asc)], page).await
}

/// Of the columns a list may be ordered by, those that hold text (compared by their bytes on
/// both stores) and those that may be NULL (NULL is the smallest value on both stores).
const TEXT_ORDER: &[&str] = &["name", "status"];
const NULLABLE_ORDER: &[&str] = &["activates_at"];

/// Lists in the given order (columns from the caller's own whitelist).
pub async fn list_ordered<T: Table>(
    db: &Db,
    account: AccountId,
    scope: &Scope,
    filters: &[Filter],
    order_by: &[(&'static str, Order)],
    page: PageRequest,
) -> Result<Paged<T::Record>> {
    page_of::<T>(db, account, conditions(account, scope, filters), order_by, page).await
}

/// Lists the records of `T` linked to `owner` through `link`, in id order.
pub async fn list_linked<T: Table, O: Table, L: Table>(
    db: &Db,
    account: AccountId,
    link: &LinkSet<O, L>,
    owner: O::Id,
    filters: &[Filter],
    page: PageRequest,
) -> Result<Paged<T::Record>> {
    let linked = Query::select()
        .column(link.target_column)
        .from(link.table)
        .and_where(Expr::col(link.owner_column).eq(Value::from_id(owner)))
        .and_where(query::in_account(None, account))
        .to_owned();
    let conditions = conditions(account, &[], filters).add(Expr::col("id").in_subquery(linked));
    page_of::<T>(db, account, conditions, &[("id", Order::Asc)], page).await
}

async fn page_of<T: Table>(
    db: &Db,
    account: AccountId,
    conditions: Condition,
    order_by: &[(&'static str, Order)],
    page: PageRequest,
) -> Result<Paged<T::Record>> {
    let mut select = Query::select().from(T::TABLE).cond_where(conditions).to_owned();
    let count = select.clone().expr_as(Expr::cust("COUNT(*)"), Alias::new("count")).to_owned();
    let (sql, params) = query::build(&count, db.dialect())?;
    let total_entries = db.fetch_optional::<i64>(&sql, &params).await?.unwrap_or(0);
    select.expr(Expr::cust(T::COLUMNS));
    for (column, order) in order_by {
        // The same order on both stores: a NULL first going up, last going down (SQLite's
        // rule; PostgreSQL's is the reverse), and text by its bytes (PostgreSQL would use
        // the database's locale). Other columns keep the plain order their indexes serve.
        let nulls = match order {
            Order::Desc => NullOrdering::Last,
            _ => NullOrdering::First,
        };
        match db.dialect() {
            Dialect::Postgres if TEXT_ORDER.contains(column) => {
                select.order_by_expr(Expr::cust(format!("\"{column}\" COLLATE \"C\"")), order.clone())
            }
            Dialect::Postgres if NULLABLE_ORDER.contains(column) => {
                select.order_by_with_nulls(*column, order.clone(), nulls)
            }
            _ => select.order_by(*column, order.clone()),
        };
    }
    select.limit(page.limit() as u64).offset(page.offset() as u64);
    let (sql, params) = query::build(&select, db.dialect())?;
    let mut items = db.fetch_all::<T::Record>(&sql, &params).await?;
    T::attach(db, account, &mut items).await?;
    Ok(Paged { items, total_entries, page })
}

/// Inserts a row for `account`, stamping `created_at`/`updated_at`; returns its id.
pub async fn insert<T: Table>(tx: &mut Tx, account: AccountId, values: Assignments) -> Result<T::Id> {
    let now = Timestamp::now().unix();
    let values = [("account_id", account.into())]
        .into_iter()
        .chain(values)
        .chain([("created_at", now.into()), ("updated_at", now.into())]);
    let statement = query::insert(T::TABLE, values).returning_col("id").to_owned();
    let (sql, params) = query::build(&statement, tx.dialect())?;
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
    let statement = query::update(T::TABLE, values)
        .cond_where(conditions(account, scope, &[]))
        .and_where(Expr::col("id").eq(Value::from_id(id)))
        .to_owned();
    let (sql, params) = query::build(&statement, tx.dialect())?;
    Ok(tx.execute(&sql, &params).await? > 0)
}

/// Whether a row was deleted. Rows still referenced elsewhere fail with `ForeignKey`.
pub async fn delete<T: Table>(db: &Db, account: AccountId, scope: &Scope, id: T::Id) -> Result<bool> {
    let statement = Query::delete()
        .from_table(T::TABLE)
        .cond_where(conditions(account, scope, &[]))
        .and_where(Expr::col("id").eq(Value::from_id(id)))
        .to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    Ok(db.execute(&sql, &params).await? > 0)
}

/// `SELECT id FROM <table> WHERE account_id = <account> AND id = <id>`.
pub(crate) fn row_in_account(table: &'static str, account: AccountId, id: Value) -> SelectStatement {
    Query::select()
        .column("id")
        .from(table)
        .and_where(query::in_account(None, account))
        .and_where(Expr::col("id").eq(id))
        .to_owned()
}

/// Whether `table` has row `id` in the account, on any executor. Existence checks run on
/// every credential write, so the text is rendered once per table (`query::memo`).
pub(crate) async fn has_row(exec: &mut impl Exec, table: &'static str, account: AccountId, id: Value) -> Result<bool> {
    let sql = query::memo((table, "id"), exec.dialect(), || row_in_account(table, account, id.clone()));
    Ok(exec.fetch_optional::<i64>(&sql, &[account.into(), id]).await?.is_some())
}

/// Whether the row `id` names is in the account (a parent in the path, a reference in a body).
pub async fn exists(tx: &mut Tx, account: AccountId, id: RowId) -> Result<bool> {
    has_row(tx, id.table(), account, id.value()).await
}

/// `exists` on the shared pool, outside a transaction.
pub async fn exists_now(db: &Db, account: AccountId, id: RowId) -> Result<bool> {
    has_row(&mut Reader(db), id.table(), account, id.value()).await
}

/// Whether `T`'s table has row `id` in the account.
pub async fn contains<T: Table>(tx: &mut Tx, account: AccountId, id: T::Id) -> Result<bool> {
    has_row(tx, T::TABLE, account, id.into()).await
}

/// `contains` on the shared pool, outside a transaction.
pub async fn contains_now<T: Table>(db: &Db, account: AccountId, id: T::Id) -> Result<bool> {
    has_row(&mut Reader(db), T::TABLE, account, id.into()).await
}

/// The account a record of `T` belongs to, for admin commands that name a record by id alone.
pub async fn owner_of<T: Table>(db: &Db, id: T::Id) -> Result<Option<AccountId>> {
    let statement = Query::select()
        .column("account_id")
        .from(T::TABLE)
        .and_where(Expr::col("id").eq(Value::from_id(id)))
        .to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    Ok(db.fetch_optional::<i64>(&sql, &params).await?.map(AccountId))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::stores::Stores;
    use kindling_domain::StoreId;

    /// A scoped, filtered select: one placeholder per value, in order, on both dialects; the
    /// row lock only where the dialect has one.
    #[test]
    fn a_scoped_select_renders_for_each_dialect() {
        let scope = [RowId::Merchant(MerchantId(5))];
        let mut select = select_one::<Stores>(AccountId(1), &scope, StoreId(9));
        select.cond_where(conditions(AccountId(1), &[], &[Filter::Contains("name", "a%".into())]));
        let locked = locked(&mut select.clone()).to_owned();
        let (pg, params) = query::build(&locked, Dialect::Postgres).unwrap();
        assert!(
            pg.contains(r#"WHERE "account_id" = $1 AND "merchant_id" = $2 AND "id" = $3 AND "account_id" = $4"#),
            "{pg}"
        );
        assert!(pg.ends_with("FOR NO KEY UPDATE"), "{pg}");
        let (lite, lite_params) = query::build(&locked, Dialect::Sqlite).unwrap();
        assert!(lite.contains(r#"WHERE "account_id" = ? AND "merchant_id" = ? AND "id" = ?"#), "{lite}");
        assert!(!lite.contains("FOR "), "SQLite has no row locks: {lite}");
        assert_eq!(params, lite_params);
        assert_eq!(&params[..3], &[Value::from(1_i64), Value::from(5_i64), Value::from(9_i64)]);
        assert_eq!(params[4], Value::from(r"%a\%%"));
    }

    /// `get` binds `[account, id]` to the memoized text of an unscoped `select_one`: the
    /// same text and parameters `build` gives.
    #[test]
    fn the_memoized_get_matches_the_built_statement() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let built = select_one::<Stores>(AccountId(4), &[], StoreId(9));
            let (sql, params) = query::build(&built, dialect).unwrap();
            let memo = query::memo((Stores::TABLE, Stores::COLUMNS), dialect, || built.clone());
            assert_eq!((&*memo, params), (sql.as_str(), vec![Value::from(AccountId(4)), Value::from(StoreId(9))]));
            let again = query::memo((Stores::TABLE, Stores::COLUMNS), dialect, || unreachable!("rendered once"));
            assert_eq!(again, memo);
        }
    }

    /// `by_ids` binds `[account, ids]` to the memoized text of `select_by_ids`.
    #[test]
    fn the_memoized_read_by_ids_matches_the_built_statement() {
        let built = select_by_ids::<Stores>(AccountId(4));
        let (sql, params) = query::build(&built, Dialect::Postgres).unwrap();
        assert!(sql.ends_with(r#"WHERE "account_id" = $1 AND ("id" = ANY($2))"#), "{sql}");
        let memo = query::memo((Stores::TABLE, "id = ANY"), Dialect::Postgres, || built.clone());
        assert_eq!((&*memo, params), (sql.as_str(), vec![Value::from(AccountId(4)), Value::IntList(Vec::new())]));
    }

    /// `has_row` binds `[account, id]` to the memoized text of `row_in_account`.
    #[test]
    fn the_memoized_existence_check_matches_the_built_statement() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let built = row_in_account("offers", AccountId(2), Value::from(OfferId(6)));
            let (sql, params) = query::build(&built, dialect).unwrap();
            let memo = query::memo(("offers", "id"), dialect, || built.clone());
            assert_eq!((&*memo, params), (sql.as_str(), vec![Value::from(AccountId(2)), Value::from(OfferId(6))]));
        }
    }

    #[test]
    fn a_row_id_names_its_table_and_column() {
        let owner = RowId::ItemSet(ItemSetId(3));
        assert_eq!((owner.table(), owner.column(), owner.value()), ("item_sets", "item_set_id", Value::from(3_i64)));
        assert_eq!(RowId::Offer(OfferId(8)).to_string(), "8");
    }
}
