//! Parameters from the query string or the JSON body (the body wins), for the operations the
//! guide and the spec call with either (credentials, offer states, check-ins, points): flat
//! keys (`?identifier=&points=`, `{"identifier": "a"}`) or inside the operation's wrapper
//! (`?check_in[lat]=`, `{"check_in": {"lat": 39.7}}`). Numbers may come as JSON numbers or as
//! text, since query strings carry them as text.

use crate::extract::read_object;
use crate::ApiError;
use axum::extract::Request;
use serde_json::{Map, Value};

pub struct Params {
    body: Map<String, Value>,
    query: Vec<(String, String)>,
    wrapper: Option<&'static str>,
}

/// A request's parameters as read, see `Params::into_parts`.
pub struct Parts {
    pub top: Map<String, Value>,
    pub inner: Map<String, Value>,
    pub query: Vec<(String, String)>,
}

impl Params {
    /// The request's query string and JSON body (an empty body is no parameters).
    pub async fn read(req: Request, wrapper: Option<&'static str>) -> Result<Self, ApiError> {
        let query = query_pairs(req.uri().query())?;
        let body = read_object(req, wrapper.unwrap_or("parameters")).await.map_err(|e| match (wrapper, e) {
            (None, ApiError::BadRequest(m)) if m.starts_with("request body must be") => {
                ApiError::BadRequest("request body must be a JSON object of parameters".into())
            }
            (_, e) => e,
        })?;
        if let Some(key) = wrapper {
            match body.get(key) {
                None | Some(Value::Null | Value::Object(_)) => {}
                Some(_) => return Err(ApiError::BadRequest(format!("{key} must be an object"))),
            }
        }
        Ok(Self { body, query, wrapper })
    }

    /// The query string only (GET operations).
    pub fn from_query(query: Option<&str>) -> Result<Self, ApiError> {
        Ok(Self { body: Map::new(), query: query_pairs(query)?, wrapper: None })
    }

    /// The body's top-level object, the wrapper's object taken out of it (empty when absent),
    /// and the query pairs: for operations that read their parameters their own way.
    pub fn into_parts(mut self) -> Parts {
        let inner = match self.wrapper.and_then(|w| self.body.remove(w)) {
            Some(Value::Object(inner)) => inner,
            _ => Map::new(),
        };
        Parts { top: self.body, inner, query: self.query }
    }

    fn body_value(&self, key: &str) -> Option<&Value> {
        let wrapped = self.wrapper.and_then(|w| self.body.get(w)).and_then(|inner| inner.get(key));
        wrapped.or_else(|| self.body.get(key)).filter(|v| !v.is_null())
    }

    fn query_value(&self, key: &str) -> Option<&str> {
        let bracketed = self.wrapper.map(|w| format!("{w}[{key}]"));
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key || Some(k) == bracketed.as_ref())
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// The name a message uses for `key`: `check_in[lat]` where the spec wraps it.
    fn name(&self, key: &str) -> String {
        self.wrapper.map_or_else(|| key.to_owned(), |w| format!("{w}[{key}]"))
    }

    fn missing(&self, key: &str) -> ApiError {
        ApiError::BadRequest(format!("{} is required", self.name(key)))
    }

    /// A required integer; a fraction, a word or an out-of-range number is a 400.
    pub fn int(&self, key: &str) -> Result<i64, ApiError> {
        let bad = || ApiError::BadRequest(format!("{} must be an integer", self.name(key)));
        match self.body_value(key) {
            Some(Value::Number(n)) => n.as_i64().ok_or_else(bad),
            Some(Value::String(s)) => s.trim().parse().map_err(|_| bad()),
            Some(_) => Err(bad()),
            None => self.query_value(key).ok_or_else(|| self.missing(key))?.trim().parse().map_err(|_| bad()),
        }
    }

    /// A required finite number.
    pub fn number(&self, key: &str) -> Result<f64, ApiError> {
        let bad = || ApiError::BadRequest(format!("{} must be a number", self.name(key)));
        let parsed = match self.body_value(key) {
            Some(Value::Number(n)) => n.as_f64().ok_or_else(bad)?,
            Some(Value::String(s)) => s.trim().parse().map_err(|_| bad())?,
            Some(_) => return Err(bad()),
            None => self.query_value(key).ok_or_else(|| self.missing(key))?.trim().parse().map_err(|_| bad())?,
        };
        parsed.is_finite().then_some(parsed).ok_or_else(bad)
    }

    /// A required text as sent (a number given for it is taken as its digits), checked as
    /// `domain::engine::points::text` checks it (not blank, not over 255 characters).
    fn raw_text(&self, key: &str) -> Result<String, ApiError> {
        let raw = match self.body_value(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(ApiError::BadRequest(format!("{} must be a string", self.name(key)))),
            None => self.query_value(key).ok_or_else(|| self.missing(key))?.to_owned(),
        };
        kindling_domain::engine::points::text(&self.name(key), &raw).map_err(ApiError::BadRequest)?;
        Ok(raw)
    }

    /// A required text (a number given for it is taken as its digits); trimmed, not blank.
    pub fn text(&self, key: &str) -> Result<String, ApiError> {
        self.raw_text(key).map(|raw| raw.trim().to_owned())
    }

    /// `text`, or `None` when the key is absent (or blank in the query string).
    pub fn opt_text(&self, key: &str) -> Result<Option<String>, ApiError> {
        if self.body_value(key).is_none() && self.query_value(key).is_none() {
            return Ok(None);
        }
        self.text(key).map(Some)
    }

    /// A required member identifier, exactly as sent: members are stored and found by the
    /// raw value, so `"alice "` is not `"alice"` (trimming it would name another member).
    /// Blank or over 255 characters is a 400, as `text`.
    pub fn identifier(&self, key: &str) -> Result<String, ApiError> {
        self.raw_text(key)
    }

    /// `identifier`, or `None` when the key is absent (or blank in the query string).
    pub fn opt_identifier(&self, key: &str) -> Result<Option<String>, ApiError> {
        if self.body_value(key).is_none() && self.query_value(key).is_none() {
            return Ok(None);
        }
        self.identifier(key).map(Some)
    }

    /// `int` as a typed id.
    pub fn id<T: From<i64>>(&self, key: &str) -> Result<T, ApiError> {
        self.int(key).map(T::from)
    }
}

fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(query) = query else { return Ok(Vec::new()) };
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|e| ApiError::BadRequest(format!("bad query string: {e}")))?;
    if pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(ApiError::BadRequest("query strings must not contain NUL characters".into()));
    }
    Ok(pairs)
}
