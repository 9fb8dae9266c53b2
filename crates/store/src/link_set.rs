//! The "linked id set" pattern, written once: a join table between an owner row and target
//! rows of the same account. POST replaces the set, PUT adds, DELETE removes, GET lists.

use crate::{Db, FromRow, Result, Row, Tx, Value};
use kindling_domain::AccountId;
use std::collections::HashMap;

/// Extra columns for a new link row, computed per row.
pub type ExtraColumns = fn() -> Vec<(&'static str, Value)>;

/// A join table `table(account_id, owner_column, target_column)` with a unique pair.
#[derive(Debug, Clone, Copy)]
pub struct LinkSet {
    pub table: &'static str,
    pub owner_table: &'static str,
    pub owner_column: &'static str,
    pub target_table: &'static str,
    pub target_column: &'static str,
    /// Owner columns a target must match when the owner's value is set: a store list holds
    /// only its merchant's stores (`merchant_id`), a merchant's item set only its items.
    pub same_owner: &'static [&'static str],
    /// Extra columns for each new link row (an eligible channel's generated `xid`).
    pub extra: Option<ExtraColumns>,
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
pub enum LinkOutcome {
    /// The full resulting set, in ascending id order.
    Linked(Vec<i64>),
    OwnerNotFound,
    /// Ids that are not in the account or do not belong to the owner's owner; nothing written.
    UnknownTargets(Vec<i64>),
}

use crate::db::placeholders;

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

impl LinkSet {
    /// The owner's linked ids, optionally only targets whose `name` contains `name`
    /// (case-insensitive); `None` when the owner is not in the account.
    pub async fn list(&self, db: &Db, account: AccountId, owner: i64, name: Option<&str>) -> Result<Option<Vec<i64>>> {
        let owner_sql = format!("SELECT id FROM {} WHERE id = $1 AND account_id = $2", self.owner_table);
        if db.fetch_optional::<i64>(&owner_sql, &[owner.into(), account.0.into()]).await?.is_none() {
            return Ok(None);
        }
        let Some(name) = name else {
            return Ok(Some(self.ids_for(db, account, &[owner]).await?.remove(&owner).unwrap_or_default()));
        };
        let escaped = name.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let sql = format!(
            "SELECT l.{target} FROM {table} l JOIN {targets} t ON t.id = l.{target} \
             WHERE l.account_id = $1 AND l.{owner_col} = $2 AND LOWER(t.name) LIKE $3 ESCAPE '\\' ORDER BY l.{target}",
            target = self.target_column,
            table = self.table,
            targets = self.target_table,
            owner_col = self.owner_column,
        );
        Ok(Some(db.fetch_all(&sql, &[account.0.into(), owner.into(), format!("%{escaped}%").into()]).await?))
    }

    /// Linked ids for many owners at once (to fill a page of records).
    pub async fn ids_for(&self, db: &Db, account: AccountId, owners: &[i64]) -> Result<HashMap<i64, Vec<i64>>> {
        self.ids_in(&mut crate::Reader(db), account, owners).await
    }

    /// `ids_for` on any executor (inside a transaction, for example).
    pub async fn ids_in(
        &self,
        exec: &mut impl crate::Exec,
        account: AccountId,
        owners: &[i64],
    ) -> Result<HashMap<i64, Vec<i64>>> {
        let mut map: HashMap<i64, Vec<i64>> = HashMap::new();
        if owners.is_empty() {
            return Ok(map);
        }
        let sql = format!(
            "SELECT {owner} AS owner_id, {target} AS target_id FROM {table} WHERE account_id = $1 AND {listed} ORDER BY {owner}, {target}",
            owner = self.owner_column,
            target = self.target_column,
            table = self.table,
            listed = exec.dialect().in_list(self.owner_column, 2),
        );
        for link in exec.fetch_all::<Link>(&sql, &[account.0.into(), owners.into()]).await? {
            map.entry(link.owner).or_default().push(link.target);
        }
        Ok(map)
    }

    async fn current(&self, tx: &mut Tx, account: AccountId, owner: i64) -> Result<Vec<i64>> {
        let sql = format!(
            "SELECT {target} FROM {table} WHERE {owner_col} = $1 AND account_id = $2 ORDER BY {target}",
            target = self.target_column,
            table = self.table,
            owner_col = self.owner_column,
        );
        tx.fetch_all(&sql, &[owner.into(), account.0.into()]).await
    }

    /// Applies `op` inside `tx`: the owner and every target are checked in the same
    /// transaction as the write, so a concurrent delete cannot leave a dangling link.
    pub async fn apply(
        &self,
        tx: &mut Tx,
        account: AccountId,
        owner: i64,
        op: LinkOp,
        ids: &[i64],
    ) -> Result<LinkOutcome> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let owner_sql = format!("SELECT id FROM {} WHERE id = $1 AND account_id = $2", self.owner_table);
        if tx.fetch_optional::<i64>(&owner_sql, &[owner.into(), account.0.into()]).await?.is_none() {
            return Ok(LinkOutcome::OwnerNotFound);
        }
        if op != LinkOp::Remove && !ids.is_empty() {
            let same_owner: String =
                self.same_owner.iter().map(|c| format!(" AND (o.{c} IS NULL OR t.{c} = o.{c})")).collect();
            let sql = format!(
                "SELECT t.id FROM {target} t JOIN {owner_table} o ON o.id = $2 WHERE t.account_id = $1{same_owner} AND {listed}",
                target = self.target_table,
                owner_table = self.owner_table,
                listed = tx.dialect().in_list("t.id", 3),
            );
            let found: Vec<i64> = tx.fetch_all(&sql, &[account.0.into(), owner.into(), ids.as_slice().into()]).await?;
            let unknown: Vec<i64> = ids.iter().copied().filter(|id| !found.contains(id)).collect();
            if !unknown.is_empty() {
                return Ok(LinkOutcome::UnknownTargets(unknown));
            }
        }
        if op == LinkOp::Replace {
            // Only the links that go away are deleted: a kept link keeps its row (and, for an
            // offer's channels, its xid, campaign fields and counters).
            let sql = format!(
                "DELETE FROM {} WHERE {} = $1 AND account_id = $2 AND {}",
                self.table,
                self.owner_column,
                tx.dialect().not_in_list(self.target_column, 3)
            );
            tx.execute(&sql, &[owner.into(), account.0.into(), ids.as_slice().into()]).await?;
        }
        if ids.is_empty() {
            return Ok(LinkOutcome::Linked(self.current(tx, account, owner).await?));
        }
        let (owner_col, target) = (self.owner_column, self.target_column);
        match (op, self.extra) {
            // The whole list in one statement, its text the same for any length.
            (LinkOp::Remove, _) => {
                let sql = format!(
                    "DELETE FROM {} WHERE account_id = $1 AND {owner_col} = $2 AND {}",
                    self.table,
                    tx.dialect().in_list(target, 3)
                );
                tx.execute(&sql, &[account.0.into(), owner.into(), ids.as_slice().into()]).await?;
            }
            (_, None) => {
                // `WHERE true` settles SQLite's parse of `SELECT ... FROM ... ON CONFLICT`.
                let sql = format!(
                    "INSERT INTO {} (account_id, {owner_col}, {target}) SELECT $1, $2, value FROM {} WHERE true \
                     ON CONFLICT ({owner_col}, {target}) DO NOTHING",
                    self.table,
                    tx.dialect().list_rows(3)
                );
                tx.execute(&sql, &[account.0.into(), owner.into(), ids.as_slice().into()]).await?;
            }
            // Generated columns (an eligible channel's xid) differ per row: one insert each.
            (_, Some(extra)) => {
                for &id in &ids {
                    let mut params: Vec<Value> = vec![account.0.into(), owner.into(), id.into()];
                    let mut columns = String::new();
                    for (column, value) in extra() {
                        columns.push_str(", ");
                        columns.push_str(column);
                        params.push(value);
                    }
                    let sql = format!(
                        "INSERT INTO {table} (account_id, {owner_col}, {target}{columns}) VALUES ({values}) \
                         ON CONFLICT ({owner_col}, {target}) DO NOTHING",
                        table = self.table,
                        values = placeholders(1, params.len()),
                    );
                    tx.execute(&sql, &params).await?;
                }
            }
        }
        Ok(LinkOutcome::Linked(self.current(tx, account, owner).await?))
    }

    /// `apply` in its own transaction, committed only when the links were written.
    pub async fn apply_now(
        &self,
        db: &Db,
        account: AccountId,
        owner: i64,
        op: LinkOp,
        ids: &[i64],
    ) -> Result<LinkOutcome> {
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
    use crate::{Dialect, Exec};

    /// Records each statement's text and parameter count instead of running it.
    struct Recorder {
        dialect: Dialect,
        statements: Vec<(String, usize)>,
    }

    impl Exec for Recorder {
        fn dialect(&self) -> Dialect {
            self.dialect
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

    const SET: LinkSet = LinkSet {
        table: "store_list_stores",
        owner_table: "store_lists",
        owner_column: "store_list_id",
        target_table: "stores",
        target_column: "store_id",
        same_owner: &[],
        extra: None,
    };

    /// One id or a thousand: the same statement text with the same two parameters, so each
    /// connection prepares it once (a list of `$N`s was a new statement for every length).
    #[tokio::test]
    async fn a_list_of_any_length_is_one_statement() {
        for (dialect, list) in [(Dialect::Postgres, "store_list_id = ANY($2)"), (Dialect::Sqlite, "json_each($2)")] {
            let mut exec = Recorder { dialect, statements: Vec::new() };
            let many: Vec<i64> = (1..=1000).collect();
            SET.ids_in(&mut exec, AccountId(1), &[7]).await.unwrap();
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
