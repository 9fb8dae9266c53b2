//! Revoking session tokens, and the log that server processes read to evict their caches of
//! tokens and account records (see docs/ARCHITECTURE.md, "Token revocation").
//!
//! The log is the truth; on PostgreSQL every entry also sends `NOTIFY kindling_auth` at
//! commit, so listeners (`spawn_listener`) read it at once instead of at their next poll.

use crate::{Db, Dialect, FromRow, Result, Row, Tx};
use kindling_domain::secret::TOKEN_LIFETIME_SECONDS;
use kindling_domain::{AccountId, Timestamp};
use std::sync::Arc;
use std::time::Duration;

/// The PostgreSQL notification channel every log entry is announced on.
const CHANNEL: &str = "kindling_auth";

/// What a log entry invalidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One token (a logout), by digest.
    Token(String),
    /// Every token of the account (key rotation, `DELETE /auth?all=true`); its record
    /// changed too (a rotation stamps `updated_at`).
    AllTokens,
    /// The account's record (settings); its tokens stay valid.
    Record,
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub id: i64,
    pub account: AccountId,
    pub target: Target,
}

impl FromRow for Revocation {
    fn from_row(row: &impl Row) -> Result<Self> {
        let target = match (row.opt_text("digest")?, row.boolean("tokens")?) {
            (Some(digest), _) => Target::Token(digest),
            (None, true) => Target::AllTokens,
            (None, false) => Target::Record,
        };
        Ok(Self { id: row.int("id")?, account: AccountId(row.int("account_id")?), target })
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
            record(tx, account, Some(&digest), true).await
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
    record(tx, account, None, true).await
}

/// Announces, in the transaction that changes it, that the account's record changed.
pub(crate) async fn record_changed_in(tx: &mut Tx, account: AccountId) -> Result<()> {
    record(tx, account, None, false).await
}

/// Appends to the log, and prunes entries older than a token's lifetime.
async fn record(tx: &mut Tx, account: AccountId, digest: Option<&str>, tokens: bool) -> Result<()> {
    // Pollers remember the highest id they have seen, so ids must become visible in
    // increasing order. SQLite has one writer; on PostgreSQL concurrent inserts could
    // commit out of order, so they take turns (reads are not blocked).
    if tx.dialect() == Dialect::Postgres {
        tx.execute("LOCK TABLE auth_revocations IN EXCLUSIVE MODE", &[]).await?;
        // Delivered at commit, and only if it commits.
        tx.execute(&format!("NOTIFY {CHANNEL}"), &[]).await?;
    }
    let now = Timestamp::now().unix();
    tx.execute("DELETE FROM auth_revocations WHERE created_at < $1", &[(now - TOKEN_LIFETIME_SECONDS - 60).into()])
        .await?;
    tx.execute(
        "INSERT INTO auth_revocations (account_id, digest, tokens, created_at) VALUES ($1, $2, $3, $4)",
        &[account.0.into(), digest.into(), tokens.into(), now.into()],
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
        "SELECT id, account_id, digest, tokens FROM auth_revocations WHERE id > $1 ORDER BY id LIMIT $2",
        &[after.into(), limit.into()],
    )
    .await
}

/// On PostgreSQL, a task that `LISTEN`s for log entries committed by any process and calls
/// `wake.notify_one()` for each, and once after every (re)connection (a notification sent
/// while the connection was down is lost, so the reader should look). It uses one
/// connection of its own, outside the pool, so it never takes a connection from requests.
/// `None` on SQLite, which has no notifications across processes: there the reader's poll
/// is the only way. Abort the task to stop it.
pub fn spawn_listener(db: &Db, wake: Arc<tokio::sync::Notify>) -> Option<tokio::task::JoinHandle<()>> {
    let Db::Postgres(pg) = db else { return None };
    let pool = &pg.pool;
    // A pool of one, as `PgListener::connect` makes, with the main pool's settings.
    let own = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with((*pool.connect_options()).clone());
    Some(tokio::spawn(async move {
        loop {
            if let Err(e) = listen(&own, &wake).await {
                tracing::warn!(error = %e, "listening for auth changes failed; the poll covers them, retrying");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}

/// Listens until an error; sqlx reconnects a lost connection itself (`try_recv` says `None`).
async fn listen(pool: &sqlx::PgPool, wake: &tokio::sync::Notify) -> std::result::Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(CHANNEL).await?;
    wake.notify_one();
    loop {
        listener.try_recv().await?;
        wake.notify_one();
    }
}
