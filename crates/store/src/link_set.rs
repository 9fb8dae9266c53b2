//! The "linked id set" pattern, written once: a join table between an owner row and target
//! rows of the same account. POST replaces the set, PUT adds, DELETE removes, GET lists.

use crate::{Db, Result, Tx, Value};
use kindling_domain::AccountId;

/// A join table `table(account_id, owner_column, target_column)` with a unique pair.
#[derive(Debug, Clone, Copy)]
pub struct LinkSet {
    pub table: &'static str,
    pub owner_table: &'static str,
    pub owner_column: &'static str,
    pub target_table: &'static str,
    pub target_column: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOp {
    Replace,
    Add,
    Remove,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The full resulting set, in ascending id order.
    Linked(Vec<i64>),
    OwnerNotFound,
    /// Ids that do not exist in the account; nothing was written.
    UnknownTargets(Vec<i64>),
}

fn in_list(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl LinkSet {
    /// The owner's linked ids, or `None` when the owner is not in the account.
    pub async fn list(&self, db: &Db, account: AccountId, owner: i64) -> Result<Option<Vec<i64>>> {
        let mut tx = db.begin().await?;
        let ids = self.current(&mut tx, account, owner).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn current(
        &self,
        tx: &mut Tx,
        account: AccountId,
        owner: i64,
    ) -> Result<Option<Vec<i64>>> {
        let owner_sql = format!(
            "SELECT id FROM {} WHERE id = $1 AND account_id = $2",
            self.owner_table
        );
        if tx
            .fetch_optional::<i64>(&owner_sql, &[owner.into(), account.0.into()])
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = $1 AND account_id = $2 ORDER BY {}",
            self.target_column, self.table, self.owner_column, self.target_column
        );
        Ok(Some(
            tx.fetch_all(&sql, &[owner.into(), account.0.into()])
                .await?,
        ))
    }

    /// Applies `op` atomically: the owner and every target are checked in the same
    /// transaction as the write, so a concurrent delete cannot leave a dangling link.
    pub async fn apply(
        &self,
        db: &Db,
        account: AccountId,
        owner: i64,
        op: LinkOp,
        ids: &[i64],
    ) -> Result<LinkOutcome> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut tx = db.begin().await?;
        if self.current(&mut tx, account, owner).await?.is_none() {
            return Ok(LinkOutcome::OwnerNotFound);
        }
        if op != LinkOp::Remove && !ids.is_empty() {
            let sql = format!(
                "SELECT id FROM {} WHERE account_id = $1 AND id IN ({})",
                self.target_table,
                in_list(2, ids.len())
            );
            let params: Vec<Value> = std::iter::once(account.0.into())
                .chain(ids.iter().map(|&id| id.into()))
                .collect();
            let found: Vec<i64> = tx.fetch_all(&sql, &params).await?;
            let unknown: Vec<i64> = ids
                .iter()
                .copied()
                .filter(|id| !found.contains(id))
                .collect();
            if !unknown.is_empty() {
                return Ok(LinkOutcome::UnknownTargets(unknown));
            }
        }
        if op == LinkOp::Replace {
            let sql = format!(
                "DELETE FROM {} WHERE {} = $1 AND account_id = $2",
                self.table, self.owner_column
            );
            tx.execute(&sql, &[owner.into(), account.0.into()]).await?;
        }
        for &id in &ids {
            let (sql, params): (String, Vec<Value>) = if op == LinkOp::Remove {
                (
                    format!(
                        "DELETE FROM {} WHERE {} = $1 AND {} = $2 AND account_id = $3",
                        self.table, self.owner_column, self.target_column
                    ),
                    vec![owner.into(), id.into(), account.0.into()],
                )
            } else {
                (
                    format!(
                        "INSERT INTO {} (account_id, {}, {}) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        self.table, self.owner_column, self.target_column
                    ),
                    vec![account.0.into(), owner.into(), id.into()],
                )
            };
            tx.execute(&sql, &params).await?;
        }
        let linked = self
            .current(&mut tx, account, owner)
            .await?
            .unwrap_or_default();
        tx.commit().await?;
        Ok(LinkOutcome::Linked(linked))
    }
}
