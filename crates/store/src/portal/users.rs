//! Managing an account's portal users: creating one as `kindling user create` does (the CLI
//! and the portal's account page share `create`), listing them, changing a role and removing
//! one (an account always keeps an owner, and nobody changes or removes themselves), and a
//! user changing their own password.

use super::{create_user, CreateError, DeviceDigest, NewUser};
use crate::{Db, Dialect, FromRow, Result, Row, StoreError, Tx, Value};
use kindling_domain::portal::{check_password, Access, AccessError, Email, Role};
use kindling_domain::{secret, AccountId, PortalUserId, StoreId, Timestamp};
use std::collections::BTreeMap;

/// Why `create` made no user; each caller words it (the CLI for a terminal, the portal
/// next to a field).
#[derive(Debug)]
pub enum NewUserError {
    /// Not `local@domain`.
    BadEmail,
    /// A role and stores that do not go together.
    Access(AccessError),
    /// A password given that breaks `check_password`'s rules.
    Password(String),
    Create(CreateError),
}

/// Creates a user of `account` from what a person typed: the email is normalised, the role
/// and stores checked together, and the password is `password` or, when `None`, a random
/// one made here and returned (the only time it exists outside its Argon2id hash).
pub async fn create(
    db: &Db,
    account: AccountId,
    email: &str,
    role: Role,
    stores: &[StoreId],
    password: Option<String>,
) -> std::result::Result<(PortalUserId, Option<String>), NewUserError> {
    let email = Email::parse(email).ok_or(NewUserError::BadEmail)?;
    let access = Access::new(role, stores).map_err(NewUserError::Access)?;
    let made_up = password.is_none();
    let password = password.unwrap_or_else(secret::new_password);
    check_password(&password).map_err(NewUserError::Password)?;
    let hash = tokio::task::spawn_blocking({
        let password = password.clone();
        move || secret::hash_password(&password)
    })
    .await
    .map_err(|e| NewUserError::Create(CreateError::Store(StoreError::Decode(format!("hashing: {e}")))))?;
    let user = NewUser { email, password_hash: hash, access };
    let id = create_user(db, account, user).await.map_err(NewUserError::Create)?;
    Ok((id, made_up.then_some(password)))
}

/// A user as the account page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: PortalUserId,
    pub email: String,
    pub role: Role,
    pub stores: Vec<StoreId>,
    pub created_at: Timestamp,
}

impl FromRow for UserRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: PortalUserId(row.int("id")?),
            email: row.text("email")?,
            role: crate::db::decode("portal role", row.text("role")?, Role::parse)?,
            stores: Vec::new(),
            created_at: row.time("created_at")?,
        })
    }
}

struct UserStore {
    user: i64,
    store: i64,
}

impl FromRow for UserStore {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { user: row.int("user_id")?, store: row.int("store_id")? })
    }
}

/// Users a page lists.
pub const PER_PAGE: i64 = 50;

/// A page of an account's users (by email) with their stores and how many there are.
#[derive(Debug, Clone)]
pub struct UsersPage {
    pub users: Vec<UserRow>,
    pub total: i64,
    pub page: i64,
}

impl UsersPage {
    pub fn pages(&self) -> i64 {
        ((self.total + PER_PAGE - 1) / PER_PAGE).max(1)
    }
}

/// Three statements whatever the page's length: the page, the count, the page's stores.
pub async fn page(db: &Db, account: AccountId, page: i64) -> Result<UsersPage> {
    let page = page.max(1);
    let mut tx = db.begin_read().await?;
    let mut users: Vec<UserRow> = tx
        .fetch_all(
            &format!(
                "SELECT id, email, role, created_at FROM portal_users WHERE account_id = $1 \
                 ORDER BY {}, id LIMIT $2 OFFSET $3",
                tx.dialect().bytewise("email")
            ),
            &[account.into(), PER_PAGE.into(), ((page - 1).saturating_mul(PER_PAGE)).into()],
        )
        .await?;
    let total: i64 = tx
        .fetch_optional("SELECT COUNT(*) AS count FROM portal_users WHERE account_id = $1", &[account.into()])
        .await?
        .unwrap_or(0);
    let ids: Vec<i64> = users.iter().map(|u| u.id.0).collect();
    if !ids.is_empty() {
        let sql = format!(
            "SELECT user_id, store_id FROM portal_user_stores WHERE account_id = $1 AND {} ORDER BY store_id",
            tx.dialect().in_list_sql("user_id", 2)
        );
        let links: Vec<UserStore> = tx.fetch_all(&sql, &[account.into(), Value::from(&ids[..])]).await?;
        let mut by_user: BTreeMap<i64, Vec<StoreId>> = BTreeMap::new();
        for link in links {
            by_user.entry(link.user).or_default().push(StoreId(link.store));
        }
        for user in &mut users {
            user.stores = by_user.remove(&user.id.0).unwrap_or_default();
        }
    }
    Ok(UsersPage { users, total, page })
}

/// Why a user was not changed or removed.
#[derive(Debug)]
pub enum ChangeError {
    /// No such user in the account.
    NotFound,
    /// The acting user themselves (someone else must do it).
    Yourself,
    /// The account's only owner would be left without one.
    LastOwner,
    /// These stores are not the account's.
    ForeignStores(Vec<StoreId>),
    Store(StoreError),
}

impl From<StoreError> for ChangeError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The user's role, after checking they are another user of the account and that the
/// account keeps an owner without them. On PostgreSQL the account's row is locked first, so
/// two owners demoting each other at once cannot leave none (SQLite has one writer).
async fn check_change(
    tx: &mut Tx,
    account: AccountId,
    actor: PortalUserId,
    user: PortalUserId,
    new_role: Option<Role>,
) -> std::result::Result<(), ChangeError> {
    if user == actor {
        return Err(ChangeError::Yourself);
    }
    let lock = if tx.dialect() == Dialect::Postgres { " FOR UPDATE" } else { "" };
    tx.fetch_optional::<i64>(&format!("SELECT id FROM accounts WHERE id = $1{lock}"), &[account.into()]).await?;
    let role: Option<String> = tx
        .fetch_optional(
            "SELECT role FROM portal_users WHERE id = $1 AND account_id = $2",
            &[user.into(), account.into()],
        )
        .await?;
    let Some(role) = role.as_deref().and_then(Role::parse) else { return Err(ChangeError::NotFound) };
    if role == Role::Owner && new_role != Some(Role::Owner) {
        let owners: i64 = tx
            .fetch_optional(
                "SELECT COUNT(*) AS count FROM portal_users WHERE account_id = $1 AND role = 'owner'",
                &[account.into()],
            )
            .await?
            .unwrap_or(0);
        if owners <= 1 {
            return Err(ChangeError::LastOwner);
        }
    }
    Ok(())
}

/// Gives `user` a new role (and a store operator's stores), replacing their stores. Their
/// sessions are ended, so the new role applies from their next sign-in at the latest.
pub async fn change_role(
    db: &Db,
    account: AccountId,
    actor: PortalUserId,
    user: PortalUserId,
    access: Access,
) -> std::result::Result<(), ChangeError> {
    db.transaction(move |tx| {
        Box::pin(async move {
            check_change(tx, account, actor, user, Some(access.role())).await?;
            let stores: Vec<StoreId> = access.stores().map(|s| s.ids().to_vec()).unwrap_or_default();
            if !stores.is_empty() {
                let sql =
                    format!("SELECT id FROM stores WHERE account_id = $1 AND {}", tx.dialect().in_list_sql("id", 2));
                let own: Vec<i64> = tx.fetch_all(&sql, &[account.into(), Value::from(&stores[..])]).await?;
                let foreign: Vec<StoreId> = stores.iter().copied().filter(|s| !own.contains(&s.0)).collect();
                if !foreign.is_empty() {
                    return Err(ChangeError::ForeignStores(foreign));
                }
            }
            tx.execute(
                "UPDATE portal_users SET role = $3 WHERE id = $1 AND account_id = $2",
                &[user.into(), account.into(), access.role().as_str().into()],
            )
            .await?;
            tx.execute("DELETE FROM portal_user_stores WHERE user_id = $1", &[user.into()]).await?;
            if !stores.is_empty() {
                let sql = format!(
                    "INSERT INTO portal_user_stores (account_id, user_id, store_id) SELECT $1, $2, value FROM {}",
                    tx.dialect().list_rows_sql(3)
                );
                tx.execute(&sql, &[account.into(), user.into(), Value::from(&stores[..])]).await?;
            }
            tx.execute("DELETE FROM portal_sessions WHERE user_id = $1", &[user.into()]).await?;
            Ok(())
        })
    })
    .await
}

/// Removes `user` (their stores, sessions and known browsers go with them).
pub async fn remove(
    db: &Db,
    account: AccountId,
    actor: PortalUserId,
    user: PortalUserId,
) -> std::result::Result<(), ChangeError> {
    db.transaction(move |tx| {
        Box::pin(async move {
            check_change(tx, account, actor, user, None).await?;
            let email: Option<String> = tx
                .fetch_optional(
                    "SELECT email FROM portal_users WHERE id = $1 AND account_id = $2",
                    &[user.into(), account.into()],
                )
                .await?;
            if let Some(email) = email {
                super::forget_devices(tx, &email, None).await?;
            }
            tx.execute("DELETE FROM portal_sessions WHERE user_id = $1", &[user.into()]).await?;
            tx.execute("DELETE FROM portal_user_stores WHERE user_id = $1", &[user.into()]).await?;
            tx.execute("DELETE FROM portal_users WHERE id = $1 AND account_id = $2", &[user.into(), account.into()])
                .await?;
            Ok(())
        })
    })
    .await
}

/// The hash `user`'s password is checked against before they change it.
pub async fn password_hash(db: &Db, account: AccountId, user: PortalUserId) -> Result<Option<String>> {
    db.fetch_optional(
        "SELECT password_hash FROM portal_users WHERE id = $1 AND account_id = $2",
        &[user.into(), account.into()],
    )
    .await
}

/// Gives `user` a new password hash and ends every session of theirs but `keep`'s (the session
/// and browser that made the change), so a password someone else knew stops working
/// everywhere at once; every other browser known for the email is forgotten, so none keeps a
/// count of its own for guessing the new one. The count the change was counted in is cleared,
/// as a sign-in clears it. `false` when the user is gone.
pub async fn change_password(
    db: &Db,
    account: AccountId,
    user: PortalUserId,
    email: &Email,
    password_hash: String,
    keep: (&str, DeviceDigest<'_>),
) -> Result<bool> {
    let (email, keep_session) = (email.as_str().to_owned(), keep.0.to_owned());
    let keep_device = keep.1.map(str::to_owned);
    db.transaction(move |tx| {
        Box::pin(async move {
            let changed = tx
                .execute(
                    "UPDATE portal_users SET password_hash = $3 WHERE id = $1 AND account_id = $2",
                    &[user.into(), account.into(), password_hash.into()],
                )
                .await?;
            if changed == 0 {
                return Ok(false);
            }
            tx.execute(
                "DELETE FROM portal_sessions WHERE user_id = $1 AND digest <> $2",
                &[user.into(), keep_session.into()],
            )
            .await?;
            // The count the current password's check was counted in (the browser's, if it is
            // known), then every other browser is forgotten.
            let counter = super::attempt_counter(tx, keep_device.as_deref(), &email, Timestamp::now()).await?;
            tx.execute("DELETE FROM portal_login_attempts WHERE email = $1", &[counter.into()]).await?;
            super::forget_devices(tx, &email, keep_device.as_deref()).await?;
            Ok(true)
        })
    })
    .await
}
