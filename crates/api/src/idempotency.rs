//! `Idempotency-Key` on writes, with Stripe's semantics: the same key and the same request
//! within 24 hours get the first response again — status, headers and body, marked
//! `Idempotent-Replayed: true`; the same key with a different request is a 422; while the
//! first is still running, a 409. Keys are per account, 1–255 printable ASCII characters.
//!
//! The request runs in its own task, so a client that disconnects does not cancel it (or
//! leave its key claimed with nothing running): the response is still stored and a retry
//! replays it. A key whose process died mid-request
//! holds a short lease and can be claimed again when it runs out. Responses of 5xx are not
//! kept, so such a request may be retried. `/auth` is exempt: a replay would have to store
//! the token it answered with.

use crate::auth::Auth;
use crate::extract::read_body;
use crate::response::json;
use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use kindling_domain::{secret, AccountId, Timestamp};
use kindling_store::idempotency::{self, Claim, StoredResponse, KEY_LIFETIME_SECONDS};
use serde_json::json;

const MAX_KEY_LENGTH: usize = 255;

/// Headers that describe one transfer rather than the response, so a replay sets its own.
const NOT_REPLAYED: [HeaderName; 4] =
    [header::CONTENT_LENGTH, header::DATE, header::TRANSFER_ENCODING, header::CONNECTION];

pub async fn idempotency(state: AppState, req: Request, next: Next) -> Response {
    let Some(raw) = req.headers().get("idempotency-key") else {
        return next.run(req).await;
    };
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || req.uri().path() == "/auth" {
        return next.run(req).await;
    }
    let key = match valid_key(raw.as_bytes()) {
        Ok(key) => key.to_owned(),
        Err(e) => return e.into_response(),
    };
    // In its own task from the claim on: a client that hangs up cancels the connection's
    // future, and a claimed key must never be left without its request.
    match tokio::spawn(crate::observe::same_request(run(state, key, req, next))).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::Internal(format!("idempotent request task: {e}")).into_response(),
    }
}

fn valid_key(raw: &[u8]) -> Result<&str, ApiError> {
    let printable = raw.iter().all(|b| (0x20..0x7f).contains(b));
    match std::str::from_utf8(raw) {
        Ok(key) if printable && !key.trim().is_empty() && key.len() <= MAX_KEY_LENGTH => Ok(key),
        _ => Err(ApiError::BadRequest(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        ))),
    }
}

async fn run(state: AppState, key: String, req: Request, next: Next) -> Result<Response, ApiError> {
    let (mut parts, body) = req.into_parts();
    // Unauthenticated requests are the handler's to refuse; nothing is stored for them.
    let Ok(auth) = Auth::from_request_parts(&mut parts, &state).await else {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    let bytes = read_body(body).await?;
    let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let fingerprint = [parts.method.as_str().as_bytes(), b" ", target.as_bytes(), b"\n", &bytes].concat();
    let hash = secret::digest_bytes(&fingerprint);
    let lease = state.config.idempotency_lease_seconds;
    let claim =
        idempotency::claim(&state.db, auth.account, &key, &hash, Timestamp::now(), KEY_LIFETIME_SECONDS, lease).await?;
    let owner = match claim {
        Claim::Claimed { owner } => owner,
        Claim::Replay(stored) => return Ok(replay(stored)),
        Claim::Mismatch => {
            return Ok(json(
                StatusCode::UNPROCESSABLE_ENTITY,
                &json!({"error": "Idempotency-Key was already used with a different request"}),
            ))
        }
        Claim::InProgress => {
            return Ok(json(
                StatusCode::CONFLICT,
                &json!({"error": "A request with this Idempotency-Key is still in progress"}),
            ))
        }
    };
    let claimed = Claimed { account: auth.account, key, owner };
    finish(state, claimed, next, Request::from_parts(parts, Body::from(bytes))).await
}

/// A key this request holds.
struct Claimed {
    account: AccountId,
    key: String,
    owner: String,
}

/// Runs the claimed request and records its response. While it runs, its lease is renewed
/// every third of the lease, so a slow request (a long lock wait, say) keeps its key: a retry
/// meanwhile is told it is in progress instead of running it a second time.
async fn finish(state: AppState, claimed: Claimed, next: Next, req: Request) -> Result<Response, ApiError> {
    let Claimed { account, key, owner } = claimed;
    let lease = state.config.idempotency_lease_seconds;
    let every = std::time::Duration::from_millis(u64::try_from(lease.max(1)).unwrap_or(1) * 1000 / 3);
    let run = next.run(req);
    tokio::pin!(run);
    let response = loop {
        tokio::select! {
            response = &mut run => break response,
            () = tokio::time::sleep(every) => {
                if let Err(e) = idempotency::renew(&state.db, account, &key, &owner, Timestamp::now(), lease).await {
                    tracing::warn!(error = %e, "renewing an Idempotency-Key's lease");
                }
            }
        }
    };
    let (parts, body) = response.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            idempotency::release(&state.db, account, &key, &owner).await?;
            return Err(ApiError::Internal(format!("reading the response body: {e}")));
        }
    };
    if parts.status.is_server_error() {
        idempotency::release(&state.db, account, &key, &owner).await?;
    } else {
        let headers = parts
            .headers
            .iter()
            .filter(|(name, _)| !NOT_REPLAYED.contains(name))
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        idempotency::complete(&state.db, account, &key, &owner, &stored).await?;
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn replay(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::valid_key;

    #[test]
    fn keys_are_bounded_printable_ascii() {
        assert!(valid_key(b"order-42").is_ok());
        assert!(valid_key(&[b'k'; 255]).is_ok());
        for bad in [&b""[..], b"  ", &[b'k'; 256], "clé".as_bytes(), b"a\tb", b"a\x7fb"] {
            assert!(valid_key(bad).is_err(), "{bad:?}");
        }
    }
}
