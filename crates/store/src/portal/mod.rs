//! The Admin Portal's people and sessions (`users`), and the reads its pages show
//! (`dashboard`, `offers`, `codes`). Codes are redeemed and voided through
//! `credentials::write`, like the API's; nothing here writes a credential.

pub mod catalog;
pub mod channels;
pub mod choices;
pub mod codes;
pub mod dashboard;
pub mod members;
pub mod offers;
pub mod users;

use crate::{Db, FromRow, Result, Row, StoreError, Tx, Value};
use kindling_domain::portal::{Access, Email, Role};
use kindling_domain::{AccountId, PortalUserId, StoreId, Timestamp};

/// A user to create (the password already hashed).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub password_hash: String,
    pub access: Access,
}

/// Why a user was not created.
#[derive(Debug)]
pub enum CreateError {
    UnknownAccount,
    /// Some user of some account already signs in with this email.
    DuplicateEmail,
    /// These stores are not the account's (unknown, or another account's).
    ForeignStores(Vec<StoreId>),
    Store(StoreError),
}

impl From<StoreError> for CreateError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Creates a portal user and their stores in one transaction.
pub async fn create_user(db: &Db, account: AccountId, user: NewUser) -> std::result::Result<PortalUserId, CreateError> {
    db.transaction(move |tx| Box::pin(create_user_in(tx, account, user))).await
}

async fn create_user_in(
    tx: &mut Tx,
    account: AccountId,
    user: NewUser,
) -> std::result::Result<PortalUserId, CreateError> {
    let found: Option<i64> = tx.fetch_optional("SELECT id FROM accounts WHERE id = $1", &[account.into()]).await?;
    if found.is_none() {
        return Err(CreateError::UnknownAccount);
    }
    let stores: Vec<StoreId> = user.access.stores().map(|s| s.ids().to_vec()).unwrap_or_default();
    if !stores.is_empty() {
        let sql = format!("SELECT id FROM stores WHERE account_id = $1 AND {}", tx.dialect().in_list_sql("id", 2));
        let own: Vec<i64> = tx.fetch_all(&sql, &[account.into(), Value::from(&stores[..])]).await?;
        let foreign: Vec<StoreId> = stores.iter().copied().filter(|s| !own.contains(&s.0)).collect();
        if !foreign.is_empty() {
            return Err(CreateError::ForeignStores(foreign));
        }
    }
    let inserted = tx
        .fetch_optional::<i64>(
            "INSERT INTO portal_users (account_id, email, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                account.into(),
                user.email.as_str().into(),
                user.password_hash.as_str().into(),
                user.access.role().as_str().into(),
                Timestamp::now().unix().into(),
            ],
        )
        .await;
    let id = match inserted {
        Ok(Some(id)) => PortalUserId(id),
        Ok(None) => return Err(StoreError::Decode("insert returned no row".into()).into()),
        Err(StoreError::Unique(_)) => return Err(CreateError::DuplicateEmail),
        Err(e) => return Err(e.into()),
    };
    // Browsers known for an earlier user of this email are not this user's.
    forget_devices(tx, user.email.as_str(), None).await?;
    if !stores.is_empty() {
        let sql = format!(
            "INSERT INTO portal_user_stores (account_id, user_id, store_id) SELECT $1, $2, value FROM {}",
            tx.dialect().list_rows_sql(3)
        );
        tx.execute(&sql, &[account.into(), id.into(), Value::from(&stores[..])]).await?;
    }
    Ok(id)
}

/// What a sign-in checks its password against.
#[derive(Debug, Clone)]
pub struct LoginUser {
    pub id: PortalUserId,
    pub password_hash: String,
    pub role: Role,
}

impl FromRow for LoginUser {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: PortalUserId(row.int("id")?),
            password_hash: row.text("password_hash")?,
            role: crate::db::decode("portal role", row.text("role")?, Role::parse)?,
        })
    }
}

pub async fn login_user(db: &Db, email: &Email) -> Result<Option<LoginUser>> {
    db.fetch_optional("SELECT id, password_hash, role FROM portal_users WHERE email = $1", &[email.as_str().into()])
        .await
}

/// The outcome of counting a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Allowed,
    /// The limit is reached; no attempt is allowed before the window ends.
    Refused {
        window_ends: Timestamp,
    },
}

/// A browser's device cookie (its token's digest, `DEVICE_COOKIE` in the portal): a sign-in
/// attempt from a browser that signed in as the email before counts against the browser.
pub type DeviceDigest<'a> = Option<&'a str>;

/// Counts a sign-in attempt for `email` *before* its password is checked, in one
/// conditional upsert, so however many attempts race at most `max_attempts` per window get
/// through; the window starts at the first counted attempt and a successful sign-in clears
/// it (`start_session`). The rule `/auth` applies per account, applied per email, known or
/// not; but from a browser known to have signed in as `email` (`device`, unexpired), per
/// browser, so that attempts from elsewhere cannot lock the user out of it. Rows of windows
/// that have ended are dropped in the same transaction.
pub async fn reserve_login_attempt(
    db: &Db,
    email: &Email,
    device: DeviceDigest<'_>,
    now: Timestamp,
    max_attempts: i64,
    window_seconds: i64,
) -> Result<Attempt> {
    let (email, device) = (email.as_str().to_owned(), device.map(str::to_owned));
    let window_start = now.unix() - window_seconds;
    db.transaction(move |tx| {
        Box::pin(async move {
            tx.execute("DELETE FROM portal_login_attempts WHERE failed_since <= $1", &[window_start.into()]).await?;
            let counter = attempt_counter(tx, device.as_deref(), &email, now).await?;
            let counted: Option<i64> = tx
                .fetch_optional(
                    "INSERT INTO portal_login_attempts (email, failed_count, failed_since) VALUES ($1, 1, $3) \
                     ON CONFLICT (email) DO UPDATE SET \
                     failed_count = CASE WHEN portal_login_attempts.failed_since > $2 \
                        THEN portal_login_attempts.failed_count + 1 ELSE 1 END, \
                     failed_since = CASE WHEN portal_login_attempts.failed_since > $2 \
                        THEN portal_login_attempts.failed_since ELSE $3 END \
                     WHERE portal_login_attempts.failed_since <= $2 OR portal_login_attempts.failed_count < $4 \
                     RETURNING failed_count",
                    &[counter.as_str().into(), window_start.into(), now.unix().into(), max_attempts.into()],
                )
                .await?;
            if counted.is_some() {
                return Ok(Attempt::Allowed);
            }
            let since: Option<i64> = tx
                .fetch_optional("SELECT failed_since FROM portal_login_attempts WHERE email = $1", &[counter.into()])
                .await?;
            let since = since.unwrap_or(now.unix());
            Ok(Attempt::Refused { window_ends: Timestamp::from_unix(since + window_seconds) })
        })
    })
    .await
}

/// The most browsers known for one email; a sign-in from another forgets the oldest.
const DEVICES_PER_EMAIL: i64 = 10;

/// A browser's count, in the table of counts per email: no email has a space.
fn device_counter(device: &str) -> String {
    format!("device {device}")
}

/// The count an attempt from `device` (if any) for `email` is counted in.
pub(crate) async fn attempt_counter(
    tx: &mut Tx,
    device: DeviceDigest<'_>,
    email: &str,
    now: Timestamp,
) -> Result<String> {
    Ok(match device {
        Some(device) if known_device(tx, device, email, now).await? => device_counter(device),
        _ => email.to_owned(),
    })
}

/// Forgets the browsers known for `email`, all but `keep`: its user changed their password,
/// or was removed or made anew, so what they signed in with before no longer counts.
pub(crate) async fn forget_devices(tx: &mut Tx, email: &str, keep: DeviceDigest<'_>) -> Result<()> {
    tx.execute(
        "DELETE FROM portal_devices WHERE email = $1 AND digest <> $2",
        &[email.into(), keep.unwrap_or_default().into()],
    )
    .await
    .map(drop)
}

async fn known_device(tx: &mut Tx, device: &str, email: &str, now: Timestamp) -> Result<bool> {
    let known: Option<i64> = tx
        .fetch_optional(
            "SELECT COUNT(*) FROM portal_devices WHERE digest = $1 AND email = $2 AND expires_at > $3",
            &[device.into(), email.into(), now.unix().into()],
        )
        .await?;
    Ok(known.unwrap_or(0) > 0)
}

/// The browser a session starts in: the device cookie it came with (dropped), and the new
/// one's digest and expiry.
#[derive(Debug, Clone, Copy)]
pub struct Device<'a> {
    pub presented: DeviceDigest<'a>,
    pub digest: &'a str,
    pub expires_at: Timestamp,
}

/// A session to start: its user (signed in as `email`), its token's digest, CSRF token and
/// expiry.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    pub user: PortalUserId,
    pub email: &'a Email,
    pub digest: &'a str,
    pub csrf_token: &'a str,
    pub expires_at: Timestamp,
}

/// A new session for a user whose password matched: clears the count the sign-in was counted
/// in (the browser's if it was known for the email, else the email's), drops the user's
/// expired sessions and stores the new one, and makes the browser known for the email
/// (`device`; its old cookie and the email's expired ones dropped).
pub async fn start_session(db: &Db, session: NewSession<'_>, device: Device<'_>, now: Timestamp) -> Result<()> {
    let NewSession { user, email, digest, csrf_token, expires_at } = session;
    let (email, digest, csrf) = (email.as_str().to_owned(), digest.to_owned(), csrf_token.to_owned());
    let presented = device.presented.map(str::to_owned);
    let (device_digest, device_expires) = (device.digest.to_owned(), device.expires_at);
    db.transaction(move |tx| {
        Box::pin(async move {
            // The count this sign-in was counted in: a success from a known browser leaves
            // the email's (attempts from elsewhere) as it is.
            let counter = attempt_counter(tx, presented.as_deref(), &email, now).await?;
            tx.execute("DELETE FROM portal_login_attempts WHERE email = $1", &[counter.into()]).await?;
            tx.execute(
                "DELETE FROM portal_devices WHERE digest = $1 OR email = $2 AND expires_at <= $3",
                &[presented.into(), email.as_str().into(), now.unix().into()],
            )
            .await?;
            tx.execute(
                "INSERT INTO portal_devices (digest, email, expires_at) VALUES ($1, $2, $3)",
                &[device_digest.into(), email.as_str().into(), device_expires.unix().into()],
            )
            .await?;
            // However often someone with the password signs in, the email keeps a few
            // browsers, each with its own count.
            tx.execute(
                "DELETE FROM portal_devices WHERE email = $1 AND id NOT IN \
                 (SELECT id FROM portal_devices WHERE email = $1 ORDER BY id DESC LIMIT $2)",
                &[email.into(), DEVICES_PER_EMAIL.into()],
            )
            .await?;
            tx.execute(
                "DELETE FROM portal_sessions WHERE user_id = $1 AND expires_at <= $2",
                &[user.into(), now.unix().into()],
            )
            .await?;
            tx.execute(
                "INSERT INTO portal_sessions (digest, user_id, account_id, csrf_token, expires_at, created_at) \
                 SELECT $1, id, account_id, $3, $4, $5 FROM portal_users WHERE id = $2",
                &[digest.into(), user.into(), csrf.into(), expires_at.unix().into(), now.unix().into()],
            )
            .await
            .map(drop)
        })
    })
    .await
}

/// A live session: who is signed in, for which account, and what they may do.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: PortalUserId,
    pub account: AccountId,
    pub account_name: String,
    pub email: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
    /// `None` for a store operator whose stores have all been deleted: they may do nothing.
    pub access: Option<Access>,
}

struct SessionRow {
    user: PortalUserId,
    account: AccountId,
    account_name: String,
    email: String,
    role: Role,
    csrf_token: String,
    expires_at: Timestamp,
}

impl FromRow for SessionRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            user: PortalUserId(row.int("user_id")?),
            account: AccountId(row.int("account_id")?),
            account_name: row.text("account_name")?,
            email: row.text("email")?,
            role: crate::db::decode("portal role", row.text("role")?, Role::parse)?,
            csrf_token: row.text("csrf_token")?,
            expires_at: row.time("expires_at")?,
        })
    }
}

/// The unexpired session whose token has `digest`: one indexed read, and a second for a
/// store operator's stores.
pub async fn session(db: &Db, digest: &str, now: Timestamp) -> Result<Option<Session>> {
    let row: Option<SessionRow> = db
        .fetch_optional(
            "SELECT s.user_id, s.account_id, s.csrf_token, s.expires_at, u.email, u.role, a.name AS account_name \
             FROM portal_sessions s JOIN portal_users u ON u.id = s.user_id JOIN accounts a ON a.id = s.account_id \
             WHERE s.digest = $1 AND s.expires_at > $2",
            &[digest.into(), now.unix().into()],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let stores: Vec<i64> = if row.role == Role::StoreOperator {
        db.fetch_all("SELECT store_id FROM portal_user_stores WHERE user_id = $1", &[row.user.into()]).await?
    } else {
        Vec::new()
    };
    let stores: Vec<StoreId> = stores.into_iter().map(StoreId).collect();
    Ok(Some(Session {
        user: row.user,
        account: row.account,
        account_name: row.account_name,
        email: row.email,
        csrf_token: row.csrf_token,
        expires_at: row.expires_at,
        access: Access::new(row.role, &stores).ok(),
    }))
}

/// Signs a session out (its row is deleted, so the cookie no longer works anywhere).
pub async fn end_session(db: &Db, digest: &str) -> Result<()> {
    db.execute("DELETE FROM portal_sessions WHERE digest = $1", &[digest.into()]).await.map(drop)
}
