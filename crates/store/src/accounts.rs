//! Accounts, their API-key hashes, login-attempt bookkeeping and session tokens.

use crate::{revocations, Db, FromRow, Result, Row, StoreError, Tx};
use kindling_domain::account::{Account, AccountChanges};
use kindling_domain::{AccountId, Timestamp};

const COLUMNS: &str =
    "id, name, enable_callbacks, credential_callback_url, supports_barcode, created_at, updated_at, time_zone";

impl FromRow for Account {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Account {
            id: AccountId(row.int("id")?),
            name: row.text("name")?,
            enable_callbacks: row.boolean("enable_callbacks")?,
            credential_callback_url: row.opt_text("credential_callback_url")?,
            supports_barcode: row.boolean("supports_barcode")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            time_zone: row.opt_text("time_zone")?,
        })
    }
}

/// What `/auth` needs to judge a login attempt.
#[derive(Debug)]
pub struct Credentials {
    pub api_key_hash: String,
    pub failed_auth_count: i64,
    pub failed_auth_since: Timestamp,
}

impl FromRow for Credentials {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            api_key_hash: row.text("api_key_hash")?,
            failed_auth_count: row.int("failed_auth_count")?,
            failed_auth_since: row.time("failed_auth_since")?,
        })
    }
}

pub async fn create(db: &Db, name: &str, api_key_hash: &str) -> Result<AccountId> {
    let now = Timestamp::now().unix();
    db.write_returning::<i64>(
        "INSERT INTO accounts (name, api_key_hash, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
        &[name.into(), api_key_hash.into(), now.into()],
    )
    .await?
    .map(AccountId)
    .ok_or_else(|| StoreError::Decode("insert returned no row".into()))
}

pub async fn get(db: &Db, id: AccountId) -> Result<Option<Account>> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
    db.fetch_optional(&sql, &[id.0.into()]).await
}

/// Applies `changes`; every server process drops its cached copy of the record (the change
/// is logged in the same transaction, see `revocations`).
pub async fn update(db: &Db, id: AccountId, changes: AccountChanges) -> Result<Option<Account>> {
    let values = crate::crud::Assign::new()
        .set("credential_callback_url", changes.credential_callback_url.map(|url| url.map(|u| u.as_str().to_owned())))
        .set("time_zone", changes.time_zone)
        .done();
    let statement = crate::query::update("accounts", values)
        .and_where(sea_query::Expr::col("id").eq(crate::Value::from(id)))
        .returning(sea_query::Query::returning().expr(sea_query::Expr::cust(COLUMNS)))
        .to_owned();
    let (sql, params) = crate::query::build(&statement, db.dialect())?;
    change(db, id, &sql, &params).await
}

/// Turns callbacks on or off, logged like `update`.
pub async fn set_callbacks_enabled(db: &Db, id: AccountId, enabled: bool) -> Result<Option<Account>> {
    let sql = format!("UPDATE accounts SET enable_callbacks = $2, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}");
    change(db, id, &sql, &[id.0.into(), enabled.into(), Timestamp::now().unix().into()]).await
}

/// Runs an account update and logs the change in one transaction.
async fn change(db: &Db, id: AccountId, sql: &str, params: &[crate::Value]) -> Result<Option<Account>> {
    let (sql, params) = (sql.to_owned(), params.to_vec());
    db.transaction(move |tx| {
        Box::pin(async move {
            let Some(account) = tx.fetch_optional(&sql, &params).await? else {
                return Ok(None);
            };
            revocations::record_changed_in(tx, id).await?;
            Ok(Some(account))
        })
    })
    .await
}

/// A fresh API key and its stored form (`secret::hash_api_key`).
pub async fn new_key() -> Result<(String, String)> {
    let key = kindling_domain::secret::new_api_key();
    let hash = kindling_domain::secret::hash_api_key(&key);
    Ok((key, hash))
}

/// Gives the account a fresh API key (`kindling account rotate-key` and the portal's account
/// page): the new key, shown once to whoever asked and stored only as its hash, or `None`
/// when there is no such account.
pub async fn rotate_to_new_key(db: &Db, id: AccountId) -> Result<Option<String>> {
    let (key, hash) = new_key().await?;
    Ok(rotate_key(db, id, &hash).await?.then_some(key))
}

/// Replaces the account's API key hash and revokes all of its tokens in one transaction,
/// so neither the old key nor a session opened with it works afterwards. The attempt
/// count is cleared: the new key starts with a full allowance. False if no such account.
pub async fn rotate_key(db: &Db, id: AccountId, api_key_hash: &str) -> Result<bool> {
    let api_key_hash = api_key_hash.to_owned();
    db.transaction(move |tx| Box::pin(rotate_key_in(tx, id, api_key_hash))).await
}

async fn rotate_key_in(tx: &mut Tx, id: AccountId, api_key_hash: String) -> Result<bool> {
    let updated = tx
        .execute(
            "UPDATE accounts SET api_key_hash = $2, failed_auth_count = 0, failed_auth_since = 0, updated_at = $3
             WHERE id = $1",
            &[id.0.into(), api_key_hash.into(), Timestamp::now().unix().into()],
        )
        .await?;
    if updated == 0 {
        return Ok(false);
    }
    revocations::revoke_all_in(tx, id).await?;
    Ok(true)
}

/// Sets how many days a member is kept after a deletion request (`None`: the default, see
/// `privacy::deletion`). Not part of the `account` record, so no cached copy goes stale.
/// False if no such account.
pub async fn set_privacy_retention(db: &Db, id: AccountId, days: Option<i64>) -> Result<bool> {
    let updated = db
        .transaction(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE accounts SET privacy_retention_days = $2, updated_at = $3 WHERE id = $1",
                    &[id.0.into(), days.into(), Timestamp::now().unix().into()],
                )
                .await
            })
        })
        .await?;
    Ok(updated > 0)
}

/// Sets the account's point-of-sale rounding (`half_up`/`half_even`) and hold lifetime in
/// seconds, each left as it is when `None`; returns both as they are now (`None` when no
/// such account).
pub async fn set_pos(
    db: &Db,
    id: AccountId,
    rounding: Option<String>,
    hold_seconds: Option<i64>,
) -> Result<Option<(String, i64)>> {
    struct Settings(Option<String>, Option<i64>);
    impl crate::FromRow for Settings {
        fn from_row(row: &impl crate::Row) -> Result<Self> {
            Ok(Self(row.opt_text("pos_rounding")?, row.opt_int("pos_hold_seconds")?))
        }
    }
    let now = Timestamp::now().unix();
    let settings: Option<Settings> = db
        .write_returning(
            "UPDATE accounts SET pos_rounding = COALESCE($2, pos_rounding), \
             pos_hold_seconds = COALESCE($3, pos_hold_seconds), updated_at = $4 WHERE id = $1 \
             RETURNING pos_rounding, pos_hold_seconds",
            &[id.0.into(), rounding.into(), hold_seconds.into(), now.into()],
        )
        .await?;
    Ok(settings.map(|Settings(r, h)| {
        (r.unwrap_or_else(|| "half_up".into()), h.unwrap_or(crate::pos::holds::DEFAULT_HOLD_SECONDS))
    }))
}

pub async fn credentials(db: &Db, id: AccountId) -> Result<Option<Credentials>> {
    db.fetch_optional(
        "SELECT api_key_hash, failed_auth_count, failed_auth_since FROM accounts WHERE id = $1",
        &[id.0.into()],
    )
    .await
}

/// The outcome of reserving a login attempt before the key is checked.
#[derive(Debug)]
pub enum Attempt {
    /// Counted against the limit; check the key against this hash.
    Reserved {
        api_key_hash: String,
    },
    /// The limit is reached; no attempt is allowed before the window ends.
    Refused {
        window_ends: Timestamp,
    },
    UnknownAccount,
}

/// Counts a login attempt against the limit in one conditional statement, so however many
/// attempts race at most `max_attempts` per window get through (the database serializes the
/// updates of the account row on both backends). `/auth` counts a key that did not match its
/// digest, and an attempt on an older Argon2 hash *before* it is hashed. The window starts at
/// the first counted attempt; a successful login clears the count (`complete_login`). The
/// count lives in the database so every server process shares it.
pub async fn reserve_login_attempt(
    db: &Db,
    id: AccountId,
    now: Timestamp,
    max_attempts: i64,
    window_seconds: i64,
) -> Result<Attempt> {
    let window_start = now.unix() - window_seconds;
    let reserved: Option<String> = db
        .write_returning(
            "UPDATE accounts SET
                failed_auth_count = CASE WHEN failed_auth_since > $2 THEN failed_auth_count + 1 ELSE 1 END,
                failed_auth_since = CASE WHEN failed_auth_since > $2 THEN failed_auth_since ELSE $3 END
             WHERE id = $1 AND (failed_auth_since <= $2 OR failed_auth_count < $4)
             RETURNING api_key_hash",
            &[id.0.into(), window_start.into(), now.unix().into(), max_attempts.into()],
        )
        .await?;
    if let Some(api_key_hash) = reserved {
        return Ok(Attempt::Reserved { api_key_hash });
    }
    let since: Option<i64> =
        db.fetch_optional("SELECT failed_auth_since FROM accounts WHERE id = $1", &[id.0.into()]).await?;
    Ok(match since {
        Some(since) => Attempt::Refused { window_ends: Timestamp::from_unix(since + window_seconds) },
        None => Attempt::UnknownAccount,
    })
}

/// Finishes a login whose key matched `api_key_hash`: clears the attempt count, replaces the
/// stored hash with `rehashed` when given (an older Argon2 hash by the key's digest; a login
/// racing this one that already stored the same digest also counts as a match), and stores
/// the new token's digest. Returns false, issuing nothing, if the key was rotated
/// while it was being checked: the conditional update takes the account row's lock, so
/// either the rotation sees this token and revokes it, or this sees the new hash.
pub async fn complete_login(
    db: &Db,
    id: AccountId,
    api_key_hash: &str,
    rehashed: Option<String>,
    token_digest: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<bool> {
    let (api_key_hash, digest) = (api_key_hash.to_owned(), token_digest.to_owned());
    db.transaction(move |tx| {
        Box::pin(async move {
            let current = tx
                .execute(
                    "UPDATE accounts SET failed_auth_count = 0, failed_auth_since = 0, \
                     api_key_hash = COALESCE($3, api_key_hash) \
                     WHERE id = $1 AND (api_key_hash = $2 OR api_key_hash = COALESCE($3, $2))",
                    &[id.0.into(), api_key_hash.into(), rehashed.into()],
                )
                .await?;
            if current == 0 {
                return Ok(false);
            }
            insert_token(tx, id, &digest, now, expires_at).await?;
            Ok(true)
        })
    })
    .await
}

/// Stores a new token's digest (outside a login; tests use it to plant expired tokens).
pub async fn issue_token(db: &Db, id: AccountId, digest: &str, now: Timestamp, expires_at: Timestamp) -> Result<()> {
    let digest = digest.to_owned();
    db.transaction(move |tx| Box::pin(async move { insert_token(tx, id, &digest, now, expires_at).await })).await
}

/// Inserts a token digest and drops the account's expired ones.
async fn insert_token(tx: &mut Tx, id: AccountId, digest: &str, now: Timestamp, expires_at: Timestamp) -> Result<()> {
    tx.execute("DELETE FROM auth_tokens WHERE account_id = $1 AND expires_at <= $2", &[id.0.into(), now.unix().into()])
        .await?;
    tx.execute(
        "INSERT INTO auth_tokens (digest, account_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
        &[digest.into(), id.0.into(), expires_at.unix().into(), now.unix().into()],
    )
    .await
    .map(drop)
}

struct TokenOwner {
    account_id: AccountId,
    expires_at: Timestamp,
}

impl FromRow for TokenOwner {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { account_id: AccountId(row.int("account_id")?), expires_at: row.time("expires_at")? })
    }
}

/// The account a token digest belongs to, with the token's expiry.
pub async fn token_owner(db: &Db, digest: &str) -> Result<Option<(AccountId, Timestamp)>> {
    Ok(db
        .fetch_optional::<TokenOwner>(
            "SELECT account_id, expires_at FROM auth_tokens WHERE digest = $1",
            &[digest.into()],
        )
        .await?
        .map(|t| (t.account_id, t.expires_at)))
}
