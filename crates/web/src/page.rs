//! What the landing pages and the portal share on the wire: HTML answered with the same
//! security headers, and our cookies read back from a request.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An HTML page that is never cached (each shows a personal code or account data), with
/// `csp` as its Content-Security-Policy, no referrer (links may carry `sf_uid` and
/// signatures) and no content sniffing.
pub fn html(status: StatusCode, body: String, csp: &'static str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("content-security-policy", HeaderValue::from_static(csp));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

/// The value of cookie `name` in the request, if `valid` says it has the shape of one we
/// could have set.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str, valid: impl Fn(&str) -> bool) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, value)| *n == name && valid(value))
        .map(|(_, value)| value)
}
