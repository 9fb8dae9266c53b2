//! Cross-cutting HTTP behaviour: the `.json` suffix, request bounds and idempotency, panics
//! (request ids, `X-Runtime`, logs and metrics are `observe`'s).

use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::any::Any;

/// `/v1.0/members/1009.json` routes as `/v1.0/members/1009`: "The URI Extension will take
/// precedence" and JSON is the only format, so the suffix only needs removing.
pub fn strip_json_suffix(mut req: Request) -> Request {
    let Some(path) = req.uri().path().strip_suffix(".json") else {
        return req;
    };
    let rebuilt = match req.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(path_and_query) = rebuilt.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// Bounds on the request (`limits::limit_body`), then `Idempotency-Key` handling, around the
/// whole router: one layer, so a request pays for one middleware call, not one per layer.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match crate::limits::limit_body(&state, req).await {
        Ok(req) => crate::idempotency::idempotency(state, req, next).await,
        Err(refused) => refused,
    }
}

pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!(request_id = %crate::observe::CurrentRequest, "handler panicked");
    json(StatusCode::INTERNAL_SERVER_ERROR, &serde_json::json!({ "error": "Internal server error" }))
}

pub async fn not_found() -> Response {
    ApiError::NotFound("Not found".into()).into_response()
}

pub async fn method_not_allowed() -> Response {
    ApiError::MethodNotAllowed.into_response()
}
