//! Bounds on what one client can make the server hold: body size and read time (applied to
//! every request before anything buffers it), NUL characters that PostgreSQL cannot store,
//! and the connection-level limits of `serve`.

use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower_http::timeout::{TimeoutBody, TimeoutError};

/// Bytes of an oversized body that are still read (and discarded) so the client can read
/// the 413 instead of meeting a connection reset; larger declared bodies are refused at once.
const DRAIN_CAP: usize = 16 * 1024 * 1024;

/// Every request body is cut off at `config.body_limit` bytes and `config.body_read_timeout`;
/// a request refused outright (a NUL in the query, a declared length over the limit) gets
/// its answer as the error.
pub async fn limit_body(state: &AppState, req: Request) -> Result<Request, Response> {
    let limit = state.config.body_limit;
    if query_has_nul(&req) {
        return Err(ApiError::BadRequest("query parameters must not contain NUL characters".into()).into_response());
    }
    if path_has_nul(&req) {
        return Err(ApiError::BadRequest("the request path must not contain NUL characters".into()).into_response());
    }
    let declared = req.headers().get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    if let Some(declared) = declared.filter(|len: &usize| *len > limit) {
        if declared <= DRAIN_CAP {
            // Read and drop, frame by frame: nothing of it is kept.
            let mut body = std::pin::pin!(TimeoutBody::new(state.config.body_read_timeout, req.into_body()));
            let mut seen = 0;
            while let Some(Ok(frame)) = body.frame().await {
                seen += frame.data_ref().map_or(0, |data| data.len());
                if seen > DRAIN_CAP {
                    break;
                }
            }
        }
        return Err(ApiError::PayloadTooLarge.into_response());
    }
    let timeout = state.config.body_read_timeout;
    let req = req.map(|body| Body::new(Limited::new(TimeoutBody::new(timeout, body), limit)));
    if is_form(&req) {
        return form_without_nul(req).await;
    }
    Ok(req)
}

/// Whether the body is a posted HTML form: one that says so, or any but a file upload posted
/// to the portal, which reads every posted body as a form whatever its type.
fn is_form(req: &Request) -> bool {
    let content_type = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_start().to_ascii_lowercase())
        .unwrap_or_default();
    content_type.starts_with("application/x-www-form-urlencoded")
        || (req.method() == axum::http::Method::POST
            && req.uri().path().starts_with("/admin")
            && !content_type.starts_with("multipart/form-data"))
}

/// A form's fields are text for the database, which cannot hold NUL: a form carrying one is
/// refused here, once, rather than by each of the portal's forms. Forms are small (the body
/// limit holds), so the body is read whole and handed on.
async fn form_without_nul(req: Request) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let bytes = crate::extract::read_body(body).await.map_err(IntoResponse::into_response)?;
    if percent_encoding::percent_decode(&bytes).any(|b| b == 0) {
        return Err(ApiError::BadRequest("form fields must not contain NUL characters".into()).into_response());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Whether the query string carries NUL (`%00`), which no database column can hold.
fn query_has_nul(req: &Request) -> bool {
    req.uri().query().is_some_and(|query| percent_encoding::percent_decode_str(query).any(|b| b == 0))
}

/// Whether the path carries NUL (`%00`): a path segment (a code, a site id) is looked up as
/// text, which no database column can hold with a NUL (PostgreSQL refuses the statement).
fn path_has_nul(req: &Request) -> bool {
    percent_encoding::percent_decode_str(req.uri().path()).any(|b| b == 0)
}

/// What a failed body read means for the client: too large (413), too slow (408), or cut off.
pub fn body_error(e: axum::Error) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if err.is::<LengthLimitError>() {
            return ApiError::PayloadTooLarge;
        }
        if err.is::<TimeoutError>() {
            return ApiError::RequestTimeout;
        }
        source = err.source();
    }
    ApiError::BadRequest(format!("could not read request body: {e}"))
}
