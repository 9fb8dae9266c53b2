//! Revoking session tokens, and the revocation log that server processes poll to evict
//! their token caches (see docs/ARCHITECTURE.md, "Token revocation").

use crate::{Db, Dialect, FromRow, Result, Row, Tx};
use kindling_domain::secret::TOKEN_LIFETIME_SECONDS;
use kindling_domain::{AccountId, Timestamp};

/// One entry of the log: a single token (`digest`) or every token of the account (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub id: i64,
    pub account: AccountId,
    pub digest: Option<String>,
}

impl FromRow for Revocation {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: row.int("id")?, account: AccountId(row.int("account_id")?), digest: row.opt_text("digest")? })
    }
}

/// Revokes one token of the account (a logout). Unknown digests are not an error.
pub async fn revoke_token(db: &Db, account: AccountId, digest: &str) -> Result<()> {
    let digest = digest.to_owned();
    db.transaction(move |tx| {
        Box::pin(async move {
            tx.execute(
                "DELETE FROM auth_tokens WHERE digest = $1 AND account_id = $2",
                &[digest.as_str().into(), account.0.into()],
            )
            .await?;
            record(tx, account, Some(&digest)).await
        })
    })
    .await
}

/// Revokes every token of the account.
pub async fn revoke_all(db: &Db, account: AccountId) -> Result<()> {
    db.transaction(move |tx| Box::pin(revoke_all_in(tx, account))).await
}

pub(crate) async fn revoke_all_in(tx: &mut Tx, account: AccountId) -> Result<()> {
    tx.execute("DELETE FROM auth_tokens WHERE account_id = $1", &[account.0.into()]).await?;
    record(tx, account, None).await
}

/// Appends to the log, and prunes entries older than a token's lifetime.
async fn record(tx: &mut Tx, account: AccountId, digest: Option<&str>) -> Result<()> {
    // Pollers remember the highest id they have seen, so ids must become visible in
    // increasing order. SQLite has one writer; on PostgreSQL concurrent inserts could
    // commit out of order, so they take turns (reads are not blocked).
    if tx.dialect() == Dialect::Postgres {
        tx.execute("LOCK TABLE auth_revocations IN EXCLUSIVE MODE", &[]).await?;
    }
    let now = Timestamp::now().unix();
    tx.execute("DELETE FROM auth_revocations WHERE created_at < $1", &[(now - TOKEN_LIFETIME_SECONDS - 60).into()])
        .await?;
    tx.execute(
        "INSERT INTO auth_revocations (account_id, digest, created_at) VALUES ($1, $2, $3)",
        &[account.0.into(), digest.into(), now.into()],
    )
    .await
    .map(drop)
}

/// The id of the newest log entry (0 when empty): where a new poller starts.
pub async fn latest(db: &Db) -> Result<i64> {
    Ok(db.fetch_optional("SELECT COALESCE(MAX(id), 0) FROM auth_revocations", &[]).await?.unwrap_or(0))
}

/// Log entries after `after`, oldest first, at most `limit`.
pub async fn since(db: &Db, after: i64, limit: i64) -> Result<Vec<Revocation>> {
    db.fetch_all(
        "SELECT id, account_id, digest FROM auth_revocations WHERE id > $1 ORDER BY id LIMIT $2",
        &[after.into(), limit.into()],
    )
    .await
}
