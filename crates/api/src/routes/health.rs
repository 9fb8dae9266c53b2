use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

/// The process is up.
pub async fn healthz() -> Response {
    json(StatusCode::OK, &json!({ "status": "ok" }))
}

/// The database answers.
pub async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    match state.db.ping().await {
        Ok(()) => Ok(json(StatusCode::OK, &json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::Unavailable)
        }
    }
}
