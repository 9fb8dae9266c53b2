//! `Idempotency-Key` on writes, with Stripe's semantics: the same key and the same request
//! within 24 hours get the first response again (`Idempotent-Replayed: true`); the same key
//! with a different request is a 422; while the first is still running, a 409. Keys are per
//! account. Responses of 5xx are not kept, so such a request may be retried.

use crate::auth::Auth;
use crate::response::json;
use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use kindling_domain::{secret, Timestamp};
use kindling_store::{Cols, FromRow, Row};
use serde_json::json;

const KEY_LIFETIME_SECONDS: i64 = 24 * 60 * 60;

struct Stored {
    request_hash: String,
    status: Option<i64>,
    body: Option<String>,
    created_at: Timestamp,
}

impl FromRow for Stored {
    fn from_row(row: &impl Row) -> kindling_store::Result<Self> {
        let c = Cols::new(row);
        Ok(Self {
            request_hash: c.text()?,
            status: c.opt_int()?,
            body: c.opt_text()?,
            created_at: Timestamp::from_unix(c.int()?),
        })
    }
}

pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(key) = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return next.run(req).await;
    };
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    match run(state, key, req, next).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn run(state: AppState, key: String, req: Request, next: Next) -> Result<Response, ApiError> {
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::BadRequest("Idempotency-Key must be 1 to 255 characters".into()));
    }
    let (mut parts, body) = req.into_parts();
    let auth = Auth::from_request_parts(&mut parts, &state).await?;
    let bytes =
        body.collect().await.map_err(|e| ApiError::BadRequest(format!("could not read request body: {e}")))?.to_bytes();
    if bytes.len() > state.config.body_limit {
        return Err(ApiError::PayloadTooLarge);
    }
    let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let fingerprint = [parts.method.as_str().as_bytes(), b" ", target.as_bytes(), b"\n", &bytes].concat();
    let hash = secret::digest_bytes(&fingerprint);
    let db = &state.db;
    let account = auth.account.0;
    let now = Timestamp::now();
    let claim =
        "INSERT INTO idempotency_keys (account_id, idempotency_key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (account_id, idempotency_key) DO NOTHING";
    let params = [account.into(), key.as_str().into(), hash.as_str().into(), now.unix().into()];
    let mut claimed = db.execute(claim, &params).await? > 0;
    if !claimed {
        let stored: Option<Stored> = db
            .fetch_optional(
                "SELECT request_hash, status_code, response_body, created_at FROM idempotency_keys WHERE account_id = $1 AND idempotency_key = $2",
                &[account.into(), key.as_str().into()],
            )
            .await?;
        match stored {
            Some(s) if s.created_at.plus_seconds(KEY_LIFETIME_SECONDS) <= now => {
                db.execute(
                    "DELETE FROM idempotency_keys WHERE account_id = $1 AND idempotency_key = $2",
                    &[account.into(), key.as_str().into()],
                )
                .await?;
                claimed = db.execute(claim, &params).await? > 0;
            }
            Some(s) if s.request_hash != hash => {
                return Ok(json(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &json!({"error": "Idempotency-Key was already used with a different request"}),
                ));
            }
            Some(Stored { status: Some(status), body, .. }) => {
                let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
                let mut response = Response::new(Body::from(body.unwrap_or_default()));
                *response.status_mut() = status;
                response.headers_mut().insert("content-type", HeaderValue::from_static(crate::response::JSON_UTF8));
                response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
                return Ok(response);
            }
            _ => {}
        }
        if !claimed {
            return Ok(json(
                StatusCode::CONFLICT,
                &json!({"error": "A request with this Idempotency-Key is still in progress"}),
            ));
        }
    }
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.map_err(|e| ApiError::Internal(e.to_string()))?.to_bytes();
    if parts.status.is_server_error() {
        db.execute(
            "DELETE FROM idempotency_keys WHERE account_id = $1 AND idempotency_key = $2",
            &[account.into(), key.as_str().into()],
        )
        .await?;
    } else {
        db.execute(
            "UPDATE idempotency_keys SET status_code = $3, response_body = $4 WHERE account_id = $1 AND idempotency_key = $2",
            &[account.into(), key.as_str().into(), i64::from(parts.status.as_u16()).into(), String::from_utf8_lossy(&bytes).into_owned().into()],
        )
        .await?;
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}
