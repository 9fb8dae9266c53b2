//! `Idempotency-Key` bookkeeping: a key is claimed with a lease before its request runs, and
//! completed with the response (status, headers, body) that later replays return.

use crate::{Db, FromRow, Result, Row, Value};
use kindling_domain::{AccountId, Timestamp};

/// How long a key is remembered: a retry within it replays the first response; after it the
/// key is forgotten (`claim` treats it as new, `purge` deletes it).
pub const KEY_LIFETIME_SECONDS: i64 = 24 * 60 * 60;

/// A completed key's stored response.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    /// `(name, value)` pairs, in the original order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What the caller may do with a key.
#[derive(Debug)]
pub enum Claim {
    /// The key is ours, held by `owner` (a random token): run the request, renewing the
    /// lease while it runs, then `complete` or `release` it.
    Claimed { owner: String },
    /// The same request already finished: answer with its response.
    Replay(StoredResponse),
    /// The key was used with a different request.
    Mismatch,
    /// The same request is still running elsewhere (its lease has not run out).
    InProgress,
}

struct Stored {
    request_hash: String,
    status: Option<i64>,
    headers: Option<String>,
    body: Option<String>,
    created_at: i64,
    locked_until: i64,
}

impl FromRow for Stored {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            request_hash: row.text("request_hash")?,
            status: row.opt_int("status_code")?,
            headers: row.opt_text("response_headers")?,
            body: row.opt_text("response_body")?,
            created_at: row.int("created_at")?,
            locked_until: row.int("locked_until")?,
        })
    }
}

/// Claims `key` for a request with fingerprint `hash`. A key older than `lifetime_seconds` is
/// forgotten; an unfinished key whose lease ran out (its process died) is taken over.
pub async fn claim(
    db: &Db,
    account: AccountId,
    key: &str,
    hash: &str,
    now: Timestamp,
    lifetime_seconds: i64,
    lease_seconds: i64,
) -> Result<Claim> {
    let locked_until = now.plus_seconds(lease_seconds).unix();
    let owner = kindling_domain::secret::new_token();
    // Two tries: the second follows the removal of an expired key.
    for _ in 0..2 {
        let inserted = db
            .execute(
                "INSERT INTO idempotency_keys \
                 (account_id, idempotency_key, request_hash, created_at, locked_until, owner) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, idempotency_key) DO NOTHING",
                &[
                    account.0.into(),
                    key.into(),
                    hash.into(),
                    now.unix().into(),
                    locked_until.into(),
                    owner.as_str().into(),
                ],
            )
            .await?;
        if inserted > 0 {
            return Ok(Claim::Claimed { owner });
        }
        let stored: Option<Stored> = db
            .fetch_optional(
                "SELECT request_hash, status_code, response_headers, response_body, created_at, locked_until \
                 FROM idempotency_keys WHERE account_id = $1 AND idempotency_key = $2",
                &[account.0.into(), key.into()],
            )
            .await?;
        let Some(stored) = stored else { continue };
        if stored.created_at.saturating_add(lifetime_seconds) <= now.unix() {
            // Conditional on the row we saw, so two expiring claims cannot both win.
            db.execute(
                "DELETE FROM idempotency_keys WHERE account_id = $1 AND idempotency_key = $2 AND created_at = $3",
                &[account.0.into(), key.into(), stored.created_at.into()],
            )
            .await?;
            continue;
        }
        if stored.request_hash != hash {
            return Ok(Claim::Mismatch);
        }
        if let Some(status) = stored.status {
            let headers = stored.headers.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default();
            let status = u16::try_from(status).unwrap_or(200);
            return Ok(Claim::Replay(StoredResponse { status, headers, body: stored.body.unwrap_or_default() }));
        }
        if stored.locked_until > now.unix() {
            return Ok(Claim::InProgress);
        }
        // An abandoned claim: take it over, unless another request just did.
        let taken = db
            .execute(
                "UPDATE idempotency_keys SET locked_until = $4, owner = $5 WHERE account_id = $1 \
                 AND idempotency_key = $2 AND status_code IS NULL AND locked_until = $3",
                &[account.0.into(), key.into(), stored.locked_until.into(), locked_until.into(), owner.as_str().into()],
            )
            .await?;
        return Ok(if taken > 0 { Claim::Claimed { owner } } else { Claim::InProgress });
    }
    Ok(Claim::InProgress)
}

/// Keeps a claimed key `owner`'s for another `lease_seconds` (its request is still running);
/// `false` when it is no longer theirs.
pub async fn renew(
    db: &Db,
    account: AccountId,
    key: &str,
    owner: &str,
    now: Timestamp,
    lease_seconds: i64,
) -> Result<bool> {
    let renewed = db
        .execute(
            "UPDATE idempotency_keys SET locked_until = $4 WHERE account_id = $1 AND idempotency_key = $2 \
             AND owner = $3 AND status_code IS NULL",
            &[account.0.into(), key.into(), owner.into(), now.plus_seconds(lease_seconds).unix().into()],
        )
        .await?;
    Ok(renewed > 0)
}

/// Stores the response of a key `owner` claimed, for replays (nothing when another request
/// took the key over meanwhile: its own response is the one to keep).
pub async fn complete(db: &Db, account: AccountId, key: &str, owner: &str, response: &StoredResponse) -> Result<()> {
    let headers = serde_json::to_string(&response.headers).unwrap_or_else(|_| "[]".into());
    db.execute(
        "UPDATE idempotency_keys SET status_code = $3, response_headers = $4, response_body = $5 \
         WHERE account_id = $1 AND idempotency_key = $2 AND owner = $6 AND status_code IS NULL",
        &[
            account.0.into(),
            key.into(),
            i64::from(response.status).into(),
            headers.into(),
            response.body.as_str().into(),
            owner.into(),
        ],
    )
    .await
    .map(drop)
}

/// Forgets a key `owner` claimed (its request failed on our side, so the client may retry
/// it); another request's claim of it stays.
pub async fn release(db: &Db, account: AccountId, key: &str, owner: &str) -> Result<()> {
    db.execute(
        "DELETE FROM idempotency_keys WHERE account_id = $1 AND idempotency_key = $2 AND owner = $3 \
         AND status_code IS NULL",
        &[account.0.into(), key.into(), owner.into()],
    )
    .await
    .map(drop)
}

/// Deletes up to `limit` keys forgotten at `now` (created `lifetime_seconds` or more ago),
/// oldest first, except one whose request is still running (unfinished, lease not run out);
/// only `accounts`' when given (tests share one PostgreSQL database). Returns how many.
pub async fn purge(
    db: &Db,
    now: Timestamp,
    lifetime_seconds: i64,
    limit: i64,
    accounts: Option<&[AccountId]>,
) -> Result<u64> {
    let forgotten = now.unix().saturating_sub(lifetime_seconds);
    let mut params: Vec<Value> = vec![forgotten.into(), now.unix().into(), limit.max(0).into()];
    let scope = match accounts {
        Some(accounts) => {
            params.push(accounts.into());
            format!(" AND {}", db.dialect().in_list_sql("account_id", 4))
        }
        None => String::new(),
    };
    let sql = format!(
        "DELETE FROM idempotency_keys WHERE (account_id, idempotency_key) IN \
         (SELECT account_id, idempotency_key FROM idempotency_keys WHERE created_at <= $1 \
         AND (status_code IS NOT NULL OR locked_until <= $2){scope} ORDER BY created_at LIMIT $3)"
    );
    db.execute(&sql, &params).await
}
