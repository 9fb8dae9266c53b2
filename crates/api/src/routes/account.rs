//! The caller's own account and its callback switches. Reads come from the process's cache
//! of account records (`auth::cache`); each write evicts the record here at once and, through
//! the log the store appends to, in every other process within a second.

use crate::auth::Auth;
use crate::extract::{Envelope, Enveloped};
use crate::response::single;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::account::{Account, AccountInput};
use kindling_store::accounts;
use std::collections::HashSet;

impl Enveloped for AccountInput {
    const KEY: &'static str = "account";
}

fn found(account: Option<Account>) -> Result<Response, ApiError> {
    let account = account.ok_or_else(|| ApiError::not_found("account"))?;
    Ok(single(StatusCode::OK, "account", &account))
}

/// Answers a write, after evicting this process's cached copy of the record.
fn changed(state: &AppState, auth: Auth, updated: Option<Account>) -> Result<Response, ApiError> {
    state.auth.forget_records(&HashSet::from([auth.account]));
    found(updated)
}

pub async fn get_account(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    found(state.auth.account(&state.db, auth.account).await?)
}

/// `PUT /v1.0/account` with `{"account":{"callbacks":{"credential_url":"https://..."}}}`;
/// an empty URL clears it.
pub async fn update_account(
    State(state): State<AppState>,
    auth: Auth,
    Envelope(input): Envelope<AccountInput>,
) -> Result<Response, ApiError> {
    let changes = input.into_changes()?;
    let updated = accounts::update(&state.db, auth.account, changes).await?;
    changed(&state, auth, updated)
}

/// The spec lists no body for the toggles; the account is returned anyway, and clients that
/// expect none ignore it.
pub async fn enable_callbacks(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let updated = accounts::set_callbacks_enabled(&state.db, auth.account, true).await?;
    changed(&state, auth, updated)
}

pub async fn disable_callbacks(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let updated = accounts::set_callbacks_enabled(&state.db, auth.account, false).await?;
    changed(&state, auth, updated)
}
