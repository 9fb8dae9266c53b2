//! Cross-cutting HTTP behaviour: the `.json` suffix, `X-Runtime`, request ids, panics.

use crate::response::json;
use crate::ApiError;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::any::Any;
use std::time::Instant;

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

/// `X-Runtime: 0.042759`, the server's own seconds, as the platform reports them.
pub async fn runtime_header(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut response = next.run(req).await;
    let runtime = format!("{:.6}", started.elapsed().as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&runtime) {
        response.headers_mut().insert("x-runtime", value);
    }
    response
}

pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    json(StatusCode::INTERNAL_SERVER_ERROR, &serde_json::json!({ "error": "Internal server error" }))
}

pub async fn not_found() -> Response {
    ApiError::NotFound("Not found".into()).into_response()
}

pub async fn method_not_allowed() -> Response {
    ApiError::MethodNotAllowed.into_response()
}
