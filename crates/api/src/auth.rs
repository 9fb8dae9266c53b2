//! `/auth` (API key → 24 h token) and the extractor that turns a token into an account.
//!
//! Keys are Argon2 hashes, checked only at `/auth`. Tokens are stored as SHA-256 digests and
//! checked on every request by one indexed lookup, remembered in a small in-process cache:
//! a token never changes owner or expiry, so the cache cannot go stale across processes.

use crate::{ApiError, AppState};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use kindling_domain::secret::{self, TOKEN_LIFETIME_SECONDS};
use kindling_domain::{AccountId, Timestamp};
use kindling_store::accounts;

const INVALID: &str = "Invalid credentials";

pub(crate) struct TokenCache(quick_cache::sync::Cache<String, (AccountId, Timestamp)>);

impl TokenCache {
    pub(crate) fn new() -> Self {
        Self(quick_cache::sync::Cache::new(100_000))
    }
}

/// The account the request acts for, established from `X-Auth-Token`.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    pub account: AccountId,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized("X-Auth-Token header is required"))?;
        if !secret::looks_like_token(token) {
            return Err(ApiError::Unauthorized("Invalid or expired token"));
        }
        let digest = secret::token_digest(&token.to_ascii_lowercase());
        let owner = match state.tokens.0.get(&digest) {
            Some(owner) => Some(owner),
            None => {
                let owner = accounts::token_owner(&state.db, &digest).await?;
                if let Some(owner) = owner {
                    state.tokens.0.insert(digest, owner);
                }
                owner
            }
        };
        match owner {
            Some((account, expires_at)) if Timestamp::now() < expires_at => Ok(Self { account }),
            _ => Err(ApiError::Unauthorized("Invalid or expired token")),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// `GET /auth` and `POST /auth`: 204 with `X-Auth-Token`, or 401; repeated failures for one
/// identity within the window are refused with 429 before any hashing is done.
pub async fn authenticate(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (Some(identity), Some(key)) = (header(&headers, "x-auth-identity"), header(&headers, "x-auth-key")) else {
        return Err(ApiError::Unauthorized(INVALID));
    };
    let account = identity.parse::<i64>().map(AccountId).map_err(|_| ApiError::Unauthorized(INVALID))?;
    let Some(credentials) = accounts::credentials(&state.db, account).await? else {
        return Err(ApiError::Unauthorized(INVALID));
    };
    let now = Timestamp::now();
    let config = &state.config;
    let window_ends = credentials.failed_auth_since.plus_seconds(config.auth_failure_window_seconds);
    if credentials.failed_auth_count >= config.auth_max_failures && now < window_ends {
        return Err(ApiError::TooManyRequests(window_ends.unix() - now.unix()));
    }
    let (key, hash) = (key.to_owned(), credentials.api_key_hash);
    let valid = tokio::task::spawn_blocking(move || secret::verify_api_key(&key, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !valid {
        accounts::record_failed_auth(&state.db, account, now, config.auth_failure_window_seconds).await?;
        return Err(ApiError::Unauthorized(INVALID));
    }
    if credentials.failed_auth_count > 0 {
        accounts::clear_failed_auth(&state.db, account).await?;
    }
    let token = secret::new_token();
    let expires_at = now.plus_seconds(TOKEN_LIFETIME_SECONDS);
    accounts::issue_token(&state.db, account, &secret::token_digest(&token), now, expires_at).await?;
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let token = HeaderValue::from_str(&token).map_err(|e| ApiError::Internal(e.to_string()))?;
    response.headers_mut().insert("x-auth-token", token);
    Ok(response)
}
