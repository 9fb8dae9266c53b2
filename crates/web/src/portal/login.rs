//! `GET`/`POST /admin/login` and `POST /admin/logout`.
//!
//! A wrong email and a wrong password get the same answer, in about the same time (an
//! unknown email is checked against a dummy hash). Attempts are counted per email before
//! the password is checked, `/auth`'s numbers (5 a minute by default), known email or not;
//! from a browser that signed in as the email before (its device cookie), per browser.

use super::session::{self, Form, Signed, LOGIN_COOKIE, SESSION_COOKIE};
use super::view;
use super::PortalState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use kindling_domain::portal::{Email, Role, DEVICE_LIFETIME_SECONDS, SESSION_LIFETIME_SECONDS};
use kindling_domain::{secret, Timestamp};
use kindling_store::portal::{self, Attempt, Device, DeviceDigest, NewSession};
use minijinja::context;
use std::sync::LazyLock;

const INVALID: &str = "Invalid email or password.";

/// What an unknown email's password is checked against, so it costs what a known one does.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| secret::hash_password(&secret::new_password()));

/// Whether `password` matches `hash` (`crate::hashing`); `None` when the server is too busy
/// checking passwords.
pub(super) async fn password_matches(password: String, hash: String) -> Option<bool> {
    crate::hashing::check(move || secret::verify_password(&password, &hash)).await
}

/// The page for a password check the server had no room for: try again in a moment.
pub(super) fn too_busy() -> Response {
    let mut response = view::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "Busy",
        "Too many sign-ins are being checked right now. Try again in a moment.",
        None,
    );
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The form with its CSRF token (and the cookie that must match it, when it is new).
fn form_page(status: StatusCode, token: &str, email: &str, error: Option<&str>) -> Response {
    view::html(status, view::render("portal/login.html", context! { csrf => token, email => email, error => error }))
}

/// `GET /admin/login`.
pub async fn form(headers: HeaderMap) -> Response {
    match session::cookie(&headers, LOGIN_COOKIE) {
        Some(token) => form_page(StatusCode::OK, &token, "", None),
        None => {
            let token = secret::new_token();
            with_cookie(form_page(StatusCode::OK, &token, "", None), &session::login_cookie(&token))
        }
    }
}

/// `POST /admin/login` (`email`, `password`, `csrf`): 303 to the first page the user may
/// see with a new session cookie; 401 with the form again; 429 past the limit; 403 when the
/// form's token is not the browser's.
pub async fn sign_in(State(portal): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let Some(token) = session::cookie(&headers, LOGIN_COOKIE)
        .filter(|cookie| form.get("csrf").is_some_and(|field| secret::same_bytes(field.as_bytes(), cookie.as_bytes())))
    else {
        let text = "This sign-in form has expired or did not come from this site. Reload the page and sign in again.";
        return view::forbidden(text, None);
    };
    let typed = form.get("email").unwrap_or_default();
    let typed = if typed.len() > 320 { "" } else { typed };
    let password = form.get("password").unwrap_or_default().to_owned();
    let refused = |status| form_page(status, &token, typed, Some(INVALID));
    let Some(email) = Email::parse(typed) else { return refused(StatusCode::UNAUTHORIZED) };
    let limited = |wait| {
        let text = format!("Too many sign-in attempts for this email. Try again in {wait} seconds.");
        form_page(StatusCode::TOO_MANY_REQUESTS, &token, typed, Some(&text))
    };
    let device = session::device(&headers);
    if let Err(answer) = count_attempt(&portal, &email, device.as_deref(), limited).await {
        return answer;
    }
    let now = Timestamp::now();
    let user = match portal::login_user(&portal.db, &email).await {
        Ok(user) => user,
        Err(e) => return view::store_failure(&e),
    };
    let hash = user.as_ref().map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let Some(matched) = password_matches(password, hash).await else { return too_busy() };
    let Some(user) = user.filter(|_| matched) else { return refused(StatusCode::UNAUTHORIZED) };
    let (session_token, device_token) = (secret::new_token(), secret::new_token());
    let (digest, csrf) = (secret::token_digest(&session_token), secret::new_token());
    let expires_at = now.plus_seconds(SESSION_LIFETIME_SECONDS);
    let session = NewSession { user: user.id, email: &email, digest: &digest, csrf_token: &csrf, expires_at };
    let device_digest = secret::token_digest(&device_token);
    let device = Device {
        presented: device.as_deref(),
        digest: &device_digest,
        expires_at: now.plus_seconds(DEVICE_LIFETIME_SECONDS),
    };
    if let Err(e) = portal::start_session(&portal.db, session, device, now).await {
        return view::store_failure(&e);
    }
    // A store operator has one page; everyone else starts at the dashboard.
    let first = if user.role == Role::StoreOperator { "/admin/codes" } else { "/admin" };
    let response = with_cookie(view::redirect(first), &session::session_cookie(&session_token));
    let response = with_cookie(response, &session::device_cookie(&device_token));
    with_cookie(response, &session::expired_cookie(LOGIN_COOKIE))
}

/// Counts an attempt to check `email`'s password (a sign-in, or the current password of a
/// password change), before it is checked, against the email or the browser (`device`, see
/// `portal::reserve_login_attempt`): `Ok` to go on; past the limit, the page `limited` makes
/// for the seconds left, as a 429 with `Retry-After`.
pub(super) async fn count_attempt(
    portal: &PortalState,
    email: &Email,
    device: DeviceDigest<'_>,
    limited: impl FnOnce(i64) -> Response,
) -> Result<(), Response> {
    let now = Timestamp::now();
    let limit = portal.limit;
    let (max, window) = (limit.max_failures, limit.window_seconds);
    match portal::reserve_login_attempt(&portal.db, email, device, now, max, window).await {
        Ok(Attempt::Allowed) => Ok(()),
        Ok(Attempt::Refused { window_ends }) => {
            let wait = (window_ends.unix() - now.unix()).max(1);
            let mut response = limited(wait);
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            Err(response)
        }
        Err(e) => Err(view::store_failure(&e)),
    }
}

/// `POST /admin/logout` (`csrf`): the session is deleted, the cookie cleared.
pub async fn sign_out(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    if let Some(refused) = signed.csrf_refusal(&Form::parse(&body)) {
        return refused;
    }
    if let Err(e) = portal::end_session(&portal.db, &signed.digest).await {
        return view::store_failure(&e);
    }
    with_cookie(view::redirect("/admin/login"), &session::expired_cookie(SESSION_COOKIE))
}
