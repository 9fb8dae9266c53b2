//! One error type for every handler, mapped to a status and a JSON body in one place.

use crate::response::json;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kindling_domain::FieldErrors;
use kindling_store::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `{"error": "..."}`, as the guide shows (`"channel_id is required"`).
    #[error("{0}")]
    BadRequest(String),
    /// 400 with per-field messages in `errors`.
    #[error("{}", .0.summary())]
    Invalid(FieldErrors),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with existing records (e.g. deleting a merchant that has stores).
    #[error("{0}")]
    Conflict(String),
    /// 422: the request is well formed but the rules or the resource's state refuse it (a
    /// check-in too far from the store, a points transfer below zero, an offer state already
    /// voided); nothing was written.
    #[error("{0}")]
    Unprocessable(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("request body not received in time")]
    RequestTimeout,
    #[error("too many failed authentication attempts; try again in {0} seconds")]
    TooManyRequests(i64),
    #[error("service unavailable")]
    Unavailable,
    /// The database was busy (a lock held too long); nothing was written. 503 with
    /// `Retry-After`, so a client retries instead of treating it as a server fault.
    #[error("the database is busy; retry shortly")]
    Busy,
    /// Logged in full; the client sees only an opaque message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

/// The one mapping of database errors to statuses. A handler whose resource declares a
/// better answer (a unique index reported on its field, a resource-specific 409 message)
/// matches those variants first and passes the rest here; no client-caused state is a 500.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // A concurrent request won a race for the same unique value.
            StoreError::Unique(_) => Self::Conflict("conflicts with an existing record".into()),
            // A referenced row vanished concurrently, or a row is still referenced.
            StoreError::ForeignKey => {
                Self::Conflict("a referenced record does not exist or the record is still in use".into())
            }
            StoreError::Busy(detail) => {
                tracing::warn!(error = %detail, request_id = %crate::observe::CurrentRequest, "database busy");
                Self::Busy
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Self::Invalid(errors) => json!({ "error": errors.summary(), "errors": errors }),
            Self::Internal(detail) => {
                tracing::error!(error = %detail, request_id = %crate::observe::CurrentRequest, "internal error");
                json!({ "error": "Internal server error" })
            }
            other => json!({ "error": other.to_string() }),
        };
        let mut response = json(status, &body);
        let retry_after = match self {
            Self::TooManyRequests(seconds) => Some(seconds.max(1)),
            Self::Busy => Some(1),
            _ => None,
        };
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_client_statuses() {
        let cases = [
            (StoreError::Unique("members_identifier".into()), StatusCode::CONFLICT),
            (StoreError::ForeignKey, StatusCode::CONFLICT),
            (StoreError::Busy("database is locked".into()), StatusCode::SERVICE_UNAVAILABLE),
            (StoreError::Decode("bad column".into()), StatusCode::INTERNAL_SERVER_ERROR),
        ];
        for (error, status) in cases {
            assert_eq!(ApiError::from(error).status(), status);
        }
        let busy = ApiError::from(StoreError::Busy("database is locked".into())).into_response();
        assert_eq!(busy.headers().get(header::RETRY_AFTER).map(HeaderValue::as_bytes), Some(&b"1"[..]));
    }
}
