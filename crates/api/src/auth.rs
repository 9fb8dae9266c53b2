//! `/auth` (API key → 24 h token, and `DELETE` to revoke), and the extractor that turns a
//! token into an account.
//!
//! Keys are Argon2 hashes, checked only at `/auth`. Tokens are stored as SHA-256 digests and
//! checked on every request by one indexed lookup, remembered in an in-process cache that
//! revocations evict in every process (`cache`, which holds account records too).

mod cache;

use crate::extract::ApiQuery;
use crate::{ApiError, AppState};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use kindling_domain::secret::{self, TOKEN_LIFETIME_SECONDS};
use kindling_domain::{AccountId, Timestamp};
use kindling_store::accounts::{self, Attempt};
use kindling_store::revocations;
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::Arc;

pub(crate) use cache::AuthCache;

const INVALID: &str = "Invalid credentials";
const INVALID_TOKEN: &str = "Invalid or expired token";

/// Starts the task that evicts revoked tokens and changed account records from this
/// server's cache, whichever process changed them. Run it next to every server; it ends
/// when the state is dropped.
pub fn spawn_revocation_watcher(state: &AppState) -> tokio::task::JoinHandle<()> {
    cache::spawn_watcher(state.db.clone(), Arc::downgrade(&state.auth))
}

/// The account the request acts for, established from `X-Auth-Token`.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    pub account: AccountId,
}

/// A valid session: its account and its token's digest (what `DELETE /auth` revokes).
pub struct Session {
    account: AccountId,
    digest: String,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized("X-Auth-Token header is required"))?;
        if !secret::looks_like_token(token) {
            return Err(ApiError::Unauthorized(INVALID_TOKEN));
        }
        let digest = secret::token_digest(&token.to_ascii_lowercase());
        let owner = state.auth.token_owner(&state.db, &digest).await?;
        match owner {
            Some((account, expires_at)) if Timestamp::now() < expires_at => Ok(Self { account, digest }),
            _ => Err(ApiError::Unauthorized(INVALID_TOKEN)),
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Session::from_request_parts(parts, state).await.map(|session| Self { account: session.account })
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// `GET /auth` and `POST /auth`: 204 with `X-Auth-Token`, or 401. A key stored as its
/// digest is checked first: the right key always logs in, and wrong ones are counted, past
/// the limit within the window a 429, so attempts with wrong keys cannot lock an account's
/// integrations out. An older Argon2 hash is checked only for an attempt counted within the
/// limit (the rest are 429s, the right key too, without hashing), and replaced by the key's
/// digest at its first login.
pub async fn authenticate(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (Some(identity), Some(key)) = (header(&headers, "x-auth-identity"), header(&headers, "x-auth-key")) else {
        return Err(ApiError::Unauthorized(INVALID));
    };
    let account = identity.parse::<i64>().map(AccountId).map_err(|_| ApiError::Unauthorized(INVALID))?;
    let now = Timestamp::now();
    let Some(stored) = accounts::credentials(&state.db, account).await? else {
        return Err(ApiError::Unauthorized(INVALID));
    };
    if secret::is_slow_key_hash(&stored.api_key_hash) {
        return slow_login(&state, account, key, now).await;
    }
    if !secret::verify_api_key(key, &stored.api_key_hash) {
        return Err(match count_attempt(&state, account, now).await? {
            Attempt::Refused { window_ends } => too_many(&state, window_ends, now),
            Attempt::Reserved { .. } | Attempt::UnknownAccount => ApiError::Unauthorized(INVALID),
        });
    }
    issue_token(&state, account, &stored.api_key_hash, None, now).await
}

/// The 429 for a refused attempt, whose `Retry-After` is when the window ends, at most the
/// window's length: a concurrent attempt that took its time a second later may have opened
/// the window, which then ends more than a window after this one's `now`.
fn too_many(state: &AppState, window_ends: Timestamp, now: Timestamp) -> ApiError {
    ApiError::TooManyRequests((window_ends.unix() - now.unix()).min(state.config.auth_failure_window_seconds))
}

async fn count_attempt(state: &AppState, account: AccountId, now: Timestamp) -> Result<Attempt, ApiError> {
    let config = &state.config;
    let limit = (config.auth_max_failures, config.auth_failure_window_seconds);
    Ok(accounts::reserve_login_attempt(&state.db, account, now, limit.0, limit.1).await?)
}

/// A login against an older Argon2 hash: counted before the key is hashed, so however many
/// attempts race, at most the limit's are hashed.
async fn slow_login(state: &AppState, account: AccountId, key: &str, now: Timestamp) -> Result<Response, ApiError> {
    let hash = match count_attempt(state, account, now).await? {
        Attempt::Reserved { api_key_hash } => api_key_hash,
        Attempt::Refused { window_ends } => return Err(too_many(state, window_ends, now)),
        Attempt::UnknownAccount => return Err(ApiError::Unauthorized(INVALID)),
    };
    // Among the server's Argon2 checks at once (`kindling_web::hashing`): a flood of
    // attempts across many accounts waits there, and is refused as busy, not run all at once.
    let valid = kindling_web::hashing::check({
        let (key, hash) = (key.to_owned(), hash.clone());
        move || secret::verify_api_key(&key, &hash)
    })
    .await
    .ok_or(ApiError::Unavailable)?;
    if !valid {
        // The reserved attempt stays counted as a failure.
        return Err(ApiError::Unauthorized(INVALID));
    }
    issue_token(state, account, &hash, Some(secret::hash_api_key(key)), now).await
}

/// The 204 with a new token, for a key that matched `api_key_hash` (replaced by `rehashed`).
async fn issue_token(
    state: &AppState,
    account: AccountId,
    api_key_hash: &str,
    rehashed: Option<String>,
    now: Timestamp,
) -> Result<Response, ApiError> {
    let token = secret::new_token();
    let expires_at = now.plus_seconds(TOKEN_LIFETIME_SECONDS);
    let digest = secret::token_digest(&token);
    if !accounts::complete_login(&state.db, account, api_key_hash, rehashed, &digest, now, expires_at).await? {
        // The key was rotated while it was being checked.
        return Err(ApiError::Unauthorized(INVALID));
    }
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let token = HeaderValue::from_str(&token).map_err(|e| ApiError::Internal(e.to_string()))?;
    response.headers_mut().insert("x-auth-token", token);
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct RevokeQuery {
    /// Revoke every token of the account, not just this one.
    #[serde(default)]
    all: bool,
}

/// `DELETE /auth` (an extension; the spec has no logout): revokes the request's token, or
/// with `?all=true` every token of its account, in every server process. 204.
pub async fn revoke(
    State(state): State<AppState>,
    session: Session,
    ApiQuery(query): ApiQuery<RevokeQuery>,
) -> Result<StatusCode, ApiError> {
    if query.all {
        revocations::revoke_all(&state.db, session.account).await?;
        state.auth.forget_accounts(&HashSet::from([session.account]));
    } else {
        revocations::revoke_token(&state.db, session.account, &session.digest).await?;
        state.auth.forget_token(&session.digest);
    }
    Ok(StatusCode::NO_CONTENT)
}
