//! The "linked id set" pattern, written once: a join table between an owner row and target
//! rows of the same account. POST replaces the set, PUT adds, DELETE removes, GET lists.

use crate::crud::{has_row, Table};
use crate::{query, Db, FromRow, Result, Row, Tx, Value};
use futures_util::future::BoxFuture;
use kindling_domain::AccountId;
use sea_query::{Alias, Cond, Expr, JoinType, OnConflict, Order, Query};
use std::collections::HashMap;
use std::marker::PhantomData;

/// Extra columns for a new link row, computed per row.
pub type ExtraColumns = fn() -> Vec<(&'static str, Value)>;

/// A join table `table(account_id, owner_column, target_column)` with a unique pair, from
/// owner rows of `O` to target rows of `T`: owners are `O::Id`s and targets `T::Id`s, so a
/// store list's set cannot be handed an item id. Both tables come from the types.
pub struct LinkSet<O: Table, T: Table> {
    pub table: &'static str,
    pub owner_column: &'static str,
    pub target_column: &'static str,
    /// Owner columns a target must match when the owner's value is set: a store list holds
    /// only its merchant's stores (`merchant_id`), a merchant's item set only its items.
    pub same_owner: &'static [&'static str],
    /// Extra columns for each new link row (an eligible channel's generated `xid`).
    pub extra: Option<ExtraColumns>,
    tables: PhantomData<fn() -> (O, T)>,
}

// By hand: a derive would demand `O: Copy, T: Copy`, and the tables are only markers.
impl<O: Table, T: Table> Clone for LinkSet<O, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<O: Table, T: Table> Copy for LinkSet<O, T> {}

impl<O: Table, T: Table> LinkSet<O, T> {
    pub const fn new(table: &'static str, owner_column: &'static str, target_column: &'static str) -> Self {
        Self { table, owner_column, target_column, same_owner: &[], extra: None, tables: PhantomData }
    }

    pub const fn same_owner(self, columns: &'static [&'static str]) -> Self {
        Self { same_owner: columns, ..self }
    }

    pub const fn with_extra(self, extra: ExtraColumns) -> Self {
        Self { extra: Some(extra), ..self }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOp {
    /// `POST`: the set becomes exactly the given ids.
    Replace = 0,
    /// `PUT`: the given ids join the set.
    Add = 1,
    /// `DELETE`: the given ids leave the set.
    Remove = 2,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LinkOutcome<Id> {
    /// The full resulting set, in ascending id order.
    Linked(Vec<Id>),
    OwnerNotFound,
    /// Ids that are not in the account or do not belong to the owner's owner; nothing written.
    UnknownTargets(Vec<Id>),
}

/// One row of a join table, whatever its column names.
struct Link {
    owner: i64,
    target: i64,
}

impl FromRow for Link {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { owner: row.int("owner_id")?, target: row.int("target_id")? })
    }
}

/// A link set seen from its owner, whatever its target type: lets one write replace sets of
/// different targets (`Write::links` in the api). The target ids arrive as the request names
/// them and are typed on entry; unknown ones come back as given.
pub trait ReplaceLinks<OwnerId>: Sync {
    fn replace<'a>(
        &'a self,
        tx: &'a mut Tx,
        account: AccountId,
        owner: OwnerId,
        ids: &'a [i64],
    ) -> BoxFuture<'a, Result<LinkOutcome<i64>>>;
}

impl<O: Table, T: Table> ReplaceLinks<O::Id> for LinkSet<O, T> {
    fn replace<'a>(
        &'a self,
        tx: &'a mut Tx,
        account: AccountId,
        owner: O::Id,
        ids: &'a [i64],
    ) -> BoxFuture<'a, Result<LinkOutcome<i64>>> {
        Box::pin(async move {
            let ids: Vec<T::Id> = ids.iter().copied().map(T::Id::from).collect();
            Ok(match self.apply(tx, account, owner, LinkOp::Replace, &ids).await? {
                LinkOutcome::Linked(ids) => LinkOutcome::Linked(untyped(Some(ids))),
                LinkOutcome::OwnerNotFound => LinkOutcome::OwnerNotFound,
                LinkOutcome::UnknownTargets(ids) => LinkOutcome::UnknownTargets(untyped(Some(ids))),
            })
        })
    }
}

/// Linked ids as records and the domain's rules hold them (`merchant_ids: Vec<i64>`).
pub(crate) fn untyped<I: Into<i64>>(ids: Option<Vec<I>>) -> Vec<i64> {
    ids.unwrap_or_default().into_iter().map(Into::into).collect()
}

/// A list of typed ids as one parameter.
fn id_list<I: Into<i64> + Copy>(ids: &[I]) -> Value {
    Value::IntList(ids.iter().map(|&id| id.into()).collect())
}

impl<O: Table, T: Table> LinkSet<O, T> {
    async fn owner_exists(&self, exec: &mut impl crate::Exec, account: AccountId, owner: O::Id) -> Result<bool> {
        has_row(exec, O::TABLE, account, owner.into()).await
    }

    /// The owner's linked ids, optionally only targets whose `name` contains `name`
    /// (case-insensitive); `None` when the owner is not in the account.
    pub async fn list(
        &self,
        db: &Db,
        account: AccountId,
        owner: O::Id,
        name: Option<&str>,
    ) -> Result<Option<Vec<T::Id>>> {
        if !self.owner_exists(&mut crate::Reader(db), account, owner).await? {
            return Ok(None);
        }
        let Some(name) = name else {
            return Ok(Some(self.ids_for(db, account, &[owner]).await?.remove(&owner).unwrap_or_default()));
        };
        let statement = Query::select()
            .column(("l", self.target_column))
            .from_as(self.table, Alias::new("l"))
            .join_as(
                JoinType::InnerJoin,
                T::TABLE,
                Alias::new("t"),
                Expr::col(("t", "id")).equals(("l", self.target_column)),
            )
            .and_where(query::in_account(Some("l"), account))
            .and_where(Expr::col(("l", self.owner_column)).eq(Value::from_id(owner)))
            .and_where(query::contains(("t", "name"), name))
            .order_by(("l", self.target_column), Order::Asc)
            .to_owned();
        let (sql, params) = query::build(&statement, db.dialect())?;
        let ids: Vec<i64> = db.fetch_all(&sql, &params).await?;
        Ok(Some(ids.into_iter().map(T::Id::from).collect()))
    }

    /// Linked ids for many owners at once (to fill a page of records).
    pub async fn ids_for(&self, db: &Db, account: AccountId, owners: &[O::Id]) -> Result<HashMap<O::Id, Vec<T::Id>>> {
        self.ids_in(&mut crate::Reader(db), account, owners).await
    }

    /// `ids_for` on any executor (inside a transaction, for example).
    pub async fn ids_in(
        &self,
        exec: &mut impl crate::Exec,
        account: AccountId,
        owners: &[O::Id],
    ) -> Result<HashMap<O::Id, Vec<T::Id>>> {
        let mut map: HashMap<O::Id, Vec<T::Id>> = HashMap::new();
        if owners.is_empty() {
            return Ok(map);
        }
        let statement = Query::select()
            .expr_as(Expr::col(self.owner_column), Alias::new("owner_id"))
            .expr_as(Expr::col(self.target_column), Alias::new("target_id"))
            .from(self.table)
            .and_where(query::in_account(None, account))
            .and_where(exec.dialect().in_list(self.owner_column, id_list(owners)))
            .order_by(self.owner_column, Order::Asc)
            .order_by(self.target_column, Order::Asc)
            .to_owned();
        let (sql, params) = query::build(&statement, exec.dialect())?;
        for link in exec.fetch_all::<Link>(&sql, &params).await? {
            map.entry(O::Id::from(link.owner)).or_default().push(T::Id::from(link.target));
        }
        Ok(map)
    }

    async fn current(&self, tx: &mut Tx, account: AccountId, owner: O::Id) -> Result<Vec<T::Id>> {
        Ok(self.ids_in(tx, account, &[owner]).await?.remove(&owner).unwrap_or_default())
    }

    /// The given ids that are not targets this owner may link: not in the account, or
    /// another owner's (`same_owner`).
    async fn unknown(&self, tx: &mut Tx, account: AccountId, owner: O::Id, ids: &[T::Id]) -> Result<Vec<T::Id>> {
        let mut statement = Query::select()
            .column(("t", "id"))
            .from_as(T::TABLE, Alias::new("t"))
            .join_as(JoinType::InnerJoin, O::TABLE, Alias::new("o"), Expr::col(("o", "id")).eq(Value::from_id(owner)))
            .and_where(query::in_account(Some("t"), account))
            .and_where(tx.dialect().in_list(("t", "id"), id_list(ids)))
            .to_owned();
        for &column in self.same_owner {
            statement.cond_where(
                Cond::any().add(Expr::col(("o", column)).is_null()).add(Expr::col(("t", column)).equals(("o", column))),
            );
        }
        let (sql, params) = query::build(&statement, tx.dialect())?;
        let found: Vec<i64> = tx.fetch_all(&sql, &params).await?;
        Ok(ids.iter().copied().filter(|&id| !found.contains(&id.into())).collect())
    }

    /// Deletes the owner's links to the listed ids, or with `keep`, to all but them.
    async fn unlink(&self, tx: &mut Tx, account: AccountId, owner: O::Id, ids: &[T::Id], keep: bool) -> Result<()> {
        let (dialect, list) = (tx.dialect(), id_list(ids));
        let listed = if keep {
            dialect.not_in_list(self.target_column, list)
        } else {
            dialect.in_list(self.target_column, list)
        };
        let statement = Query::delete()
            .from_table(self.table)
            .and_where(query::in_account(None, account))
            .and_where(Expr::col(self.owner_column).eq(Value::from_id(owner)))
            .and_where(listed)
            .to_owned();
        let (sql, params) = query::build(&statement, dialect)?;
        tx.execute(&sql, &params).await.map(drop)
    }

    /// Links the owner to the ids; links that exist already are kept as they are.
    async fn link(&self, tx: &mut Tx, account: AccountId, owner: O::Id, ids: &[T::Id]) -> Result<()> {
        let keep_existing = OnConflict::columns([self.owner_column, self.target_column]).do_nothing().to_owned();
        let base = [("account_id", Value::from(account)), (self.owner_column, owner.into())];
        let Some(extra) = self.extra else {
            // The whole list in one statement, its text the same for any length. `WHERE
            // true` settles SQLite's parse of `INSERT ... SELECT ... ON CONFLICT`.
            let rows = Query::select()
                .exprs(base.map(|(_, value)| Expr::val(value)))
                .column(("value", "value"))
                .from_function(tx.dialect().list_rows(id_list(ids)), Alias::new("value"))
                .and_where(Expr::cust("true"))
                .to_owned();
            let statement = Query::insert()
                .into_table(self.table)
                .columns(["account_id", self.owner_column, self.target_column])
                .select_from(rows)
                .map_err(|e| crate::StoreError::Unbindable(e.to_string()))?
                .on_conflict(keep_existing)
                .to_owned();
            let (sql, params) = query::build(&statement, tx.dialect())?;
            return tx.execute(&sql, &params).await.map(drop);
        };
        // Generated columns (an eligible channel's xid) differ per row: one insert each.
        for &id in ids {
            let values = base.clone().into_iter().chain([(self.target_column, id.into())]).chain(extra());
            let statement = query::insert(self.table, values).on_conflict(keep_existing.clone()).to_owned();
            let (sql, params) = query::build(&statement, tx.dialect())?;
            tx.execute(&sql, &params).await?;
        }
        Ok(())
    }

    /// Applies `op` inside `tx`: the owner and every target are checked in the same
    /// transaction as the write, so a concurrent delete cannot leave a dangling link.
    pub async fn apply(
        &self,
        tx: &mut Tx,
        account: AccountId,
        owner: O::Id,
        op: LinkOp,
        ids: &[T::Id],
    ) -> Result<LinkOutcome<T::Id>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if !self.owner_exists(tx, account, owner).await? {
            return Ok(LinkOutcome::OwnerNotFound);
        }
        if op != LinkOp::Remove && !ids.is_empty() {
            let unknown = self.unknown(tx, account, owner, &ids).await?;
            if !unknown.is_empty() {
                return Ok(LinkOutcome::UnknownTargets(unknown));
            }
        }
        if op == LinkOp::Replace {
            // Only the links that go away are deleted: a kept link keeps its row (and, for an
            // offer's channels, its xid, campaign fields and counters).
            self.unlink(tx, account, owner, &ids, true).await?;
        }
        if !ids.is_empty() {
            match op {
                LinkOp::Remove => self.unlink(tx, account, owner, &ids, false).await?,
                LinkOp::Replace | LinkOp::Add => self.link(tx, account, owner, &ids).await?,
            }
        }
        Ok(LinkOutcome::Linked(self.current(tx, account, owner).await?))
    }

    /// `apply` in its own transaction, committed only when the links were written.
    pub async fn apply_now(
        &self,
        db: &Db,
        account: AccountId,
        owner: O::Id,
        op: LinkOp,
        ids: &[T::Id],
    ) -> Result<LinkOutcome<T::Id>> {
        let (set, ids) = (*self, ids.to_vec());
        let outcome = db
            .transaction(move |tx| {
                Box::pin(async move {
                    match set.apply(tx, account, owner, op, &ids).await? {
                        linked @ LinkOutcome::Linked(_) => Ok(linked),
                        refused => Err(crate::Undo::Answer(refused)),
                    }
                })
            })
            .await;
        crate::Undo::settle(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{store_lists::StoreLists, stores::Stores};
    use crate::{Dialect, Exec};
    use kindling_domain::StoreListId;

    /// Records each statement's text and parameter count instead of running it.
    struct Recorder {
        dialect: Dialect,
        statements: Vec<(String, usize)>,
    }

    impl Exec for Recorder {
        fn dialect(&self) -> Dialect {
            self.dialect
        }
        fn codes(&self) -> Result<&kindling_domain::credentials::code::CodeCipher> {
            Err(crate::StoreError::Closed("a recorder draws no codes".into()))
        }
        async fn fetch_all<T: FromRow + Send>(&mut self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
            self.statements.push((sql.to_owned(), params.len()));
            Ok(Vec::new())
        }
        async fn fetch_optional<T: FromRow + Send>(&mut self, sql: &str, params: &[Value]) -> Result<Option<T>> {
            self.statements.push((sql.to_owned(), params.len()));
            Ok(None)
        }
    }

    const SET: LinkSet<StoreLists, Stores> = LinkSet::new("store_list_stores", "store_list_id", "store_id");

    /// One id or a thousand: the same statement text with the same two parameters, so each
    /// connection prepares it once (a list of `$N`s was a new statement for every length).
    #[tokio::test]
    async fn a_list_of_any_length_is_one_statement() {
        for (dialect, list) in [(Dialect::Postgres, r#""store_list_id" = ANY($2)"#), (Dialect::Sqlite, "json_each(?)")]
        {
            let mut exec = Recorder { dialect, statements: Vec::new() };
            let many: Vec<StoreListId> = (1..=1000).map(StoreListId).collect();
            SET.ids_in(&mut exec, AccountId(1), &[StoreListId(7)]).await.unwrap();
            SET.ids_in(&mut exec, AccountId(1), &many).await.unwrap();
            let [(one, one_params), (thousand, thousand_params)] = &exec.statements[..] else {
                panic!("expected two statements, got {:?}", exec.statements);
            };
            assert_eq!(one, thousand, "{dialect:?}");
            assert_eq!((*one_params, *thousand_params), (2, 2), "{dialect:?}: account and one list");
            assert!(one.contains(list), "{dialect:?}: {one}");
        }
    }
}
