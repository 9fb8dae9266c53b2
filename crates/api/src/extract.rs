//! Extractors whose failures speak the API's error envelope instead of axum's plain text.

use crate::{ApiError, AppState};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use bytes::Bytes;
use kindling_domain::paging::PageRequest;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A request object that arrives wrapped in its resource name: `{"member": {...}}`.
pub trait Enveloped: DeserializeOwned {
    const KEY: &'static str;
}

/// The body's `{"<KEY>": {...}}` object, parsed as JSON whatever the Content-Type (the
/// guide's curl examples send none, so curl labels them form-encoded).
pub struct Envelope<T>(pub T);

impl<T: Enveloped + Send> FromRequest<AppState> for Envelope<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &AppState) -> Result<Self, ApiError> {
        let inner = wrapped_object(req, T::KEY).await?;
        serde_path_to_error::deserialize(inner).map(Envelope).map_err(|e| {
            let path = e.path().to_string();
            ApiError::BadRequest(format!("{}.{path}: {}", T::KEY, e.into_inner()))
        })
    }
}

/// The whole JSON body as an object (empty when there is no body); `key` names the
/// expected wrapper in error messages.
pub async fn read_object(req: Request, key: &str) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let bytes = read_body(req.into_body()).await?;
    parse_object(&bytes, key)
}

/// The object under `key` in a JSON body: `{"<key>": {...}}`.
pub async fn wrapped_object(req: Request, key: &str) -> Result<serde_json::Value, ApiError> {
    let bytes = read_body(req.into_body()).await?;
    let mut object = parse_object(&bytes, key)?;
    let inner = object
        .remove(key)
        .filter(|v| !v.is_null())
        .ok_or_else(|| ApiError::BadRequest(format!("{key} is required")))?;
    if !inner.is_object() {
        return Err(ApiError::BadRequest(format!("{key} must be an object")));
    }
    Ok(inner)
}

/// The whole request body. The size limit and read timeout are applied to every request's
/// body by `limits::limit_body` before anything reads it, so this only reports them.
pub async fn read_body(body: axum::body::Body) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => Err(crate::limits::body_error(e)),
    }
}

fn parse_object(bytes: &[u8], key: &str) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(map)) => {
            map.iter().try_for_each(|(k, v)| storable_str(k).and_then(|()| storable(v)))?;
            Ok(map)
        }
        Ok(_) => Err(ApiError::BadRequest(format!("request body must be a JSON object like {{\"{key}\": {{...}}}}"))),
        Err(e) => Err(ApiError::BadRequest(format!("malformed JSON: {e}"))),
    }
}

/// Arrays in a request body hold at most this many items. An id list becomes SQL with one
/// parameter per id, and SQLite takes at most 32,766 of them (PostgreSQL 65,535).
pub const MAX_ARRAY_ITEMS: usize = 10_000;

/// Refuses what a database cannot take: U+0000 in a string or key (PostgreSQL cannot store it
/// in text; refused on both databases so they behave alike) and arrays over `MAX_ARRAY_ITEMS`.
pub(crate) fn storable(value: &serde_json::Value) -> Result<(), ApiError> {
    match value {
        serde_json::Value::String(s) => storable_str(s),
        serde_json::Value::Array(items) if items.len() > MAX_ARRAY_ITEMS => {
            Err(ApiError::BadRequest(format!("arrays in the request body may hold at most {MAX_ARRAY_ITEMS} items")))
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(storable),
        serde_json::Value::Object(map) => map.iter().try_for_each(|(k, v)| storable_str(k).and_then(|()| storable(v))),
        _ => Ok(()),
    }
}

fn storable_str(s: &str) -> Result<(), ApiError> {
    if s.contains('\0') {
        return Err(ApiError::BadRequest("request body strings must not contain NUL (\\u0000) characters".into()));
    }
    Ok(())
}

/// Path parameters; a non-numeric id is a 404 (no such resource can exist).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(v)| Self(v)).map_err(|e| match e.status() {
            StatusCode::INTERNAL_SERVER_ERROR => ApiError::Internal(e.body_text()),
            _ => ApiError::NotFound(format!("Not found: {}", e.body_text())),
        })
    }
}

/// Query parameters with a JSON 400 when they do not parse.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// An integer query parameter (an id): the guide's query strings carry numbers as text,
/// read as every other numeric input is (surrounding spaces ignored).
pub fn query_int(key: &str, raw: &str) -> Result<i64, ApiError> {
    raw.trim().parse().map_err(|_| ApiError::BadRequest(format!("{key} must be an integer")))
}

/// `page` and `per_page`, validated; both optional.
pub struct PageQuery(pub PageRequest);

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        #[derive(Deserialize)]
        struct Raw {
            page: Option<String>,
            per_page: Option<String>,
        }
        let ApiQuery(raw) = ApiQuery::<Raw>::from_request_parts(parts, state).await?;
        Ok(Self(PageRequest::parse(raw.page.as_deref(), raw.per_page.as_deref())?))
    }
}
