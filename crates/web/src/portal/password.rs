//! `GET`/`POST /admin/password`: a signed-in user changes their own password (every role:
//! it is their own, not the account's). The current password is checked under the sign-in
//! failure limit (counted per email, or per browser for a browser that signed in as the email
//! before, as `/admin/login` counts it, so this form is no way around it); the new one follows `check_password`'s rules and is typed twice. On a change
//! every other session of the user ends, and every other browser known for the email is
//! forgotten (`users::change_password`).

use super::login::{count_attempt, password_matches, too_busy};
use super::pages::param;
use super::session::{self, Form, Signed};
use super::view::{self, Nav};
use super::PortalState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kindling_domain::portal::{check_password, Email, PASSWORD_MIN_CHARS};
use kindling_domain::{secret, FieldErrors};
use kindling_store::portal::users;
use minijinja::context;

fn page(signed: &Signed, status: StatusCode, errors: &FieldErrors, notice: Option<&str>) -> Response {
    let ctx = context! {
        errors => errors,
        notice => notice,
        min_chars => PASSWORD_MIN_CHARS,
        ..signed.chrome(Nav::None)
    };
    view::html(status, view::render("portal/password.html", ctx))
}

fn refused(signed: &Signed, field: &str, message: &str) -> Response {
    page(signed, StatusCode::UNPROCESSABLE_ENTITY, &FieldErrors::single(field, message), None)
}

/// `GET /admin/password?done=`.
pub async fn form(signed: Signed, RawQuery(query): RawQuery) -> Response {
    let done = param(query.as_deref(), "done").filter(|d| d == "changed");
    let notice = done.map(|_| "Your password was changed. Your other sessions were signed out.");
    page(&signed, StatusCode::OK, &FieldErrors::new(), notice)
}

/// `POST /admin/password` (`csrf`, `current_password`, `new_password`, `confirm_password`):
/// 303 back with a notice; 422 with the field's error; 429 past the sign-in limit.
pub async fn change(State(portal): State<PortalState>, signed: Signed, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.csrf_refusal(&form) {
        return refused;
    }
    let current = form.get("current_password").unwrap_or_default().to_owned();
    let new = form.get("new_password").unwrap_or_default().to_owned();
    if let Err(message) = check_password(&new) {
        // "the password must be ..." → "must be ...", next to the field's label.
        return refused(&signed, "new_password", message.trim_start_matches("the password "));
    }
    if form.get("confirm_password") != Some(new.as_str()) {
        return refused(&signed, "confirm_password", "does not match the new password");
    }
    let Some(email) = Email::parse(&signed.session.email) else {
        return refused(&signed, "current_password", "cannot be checked for this user");
    };
    let (account, user) = (signed.session.account, signed.session.user);
    let limited = |wait| {
        let text = format!("was tried too often. Try again in {wait} seconds");
        page(&signed, StatusCode::TOO_MANY_REQUESTS, &FieldErrors::single("current_password", &text), None)
    };
    let device = session::device(&headers);
    if let Err(answer) = count_attempt(&portal, &email, device.as_deref(), limited).await {
        return answer;
    }
    let hash = match users::password_hash(&portal.db, account, user).await {
        Ok(Some(hash)) => hash,
        Ok(None) => return view::redirect("/admin/login"),
        Err(e) => return view::store_failure(&e),
    };
    let Some(matched) = password_matches(current, hash).await else { return too_busy() };
    if !matched {
        return refused(&signed, "current_password", "is not your current password");
    }
    let Ok(new_hash) = tokio::task::spawn_blocking(move || secret::hash_password(&new)).await else {
        return view::message(StatusCode::INTERNAL_SERVER_ERROR, "error", "Error", "Please try again.", None);
    };
    match users::change_password(&portal.db, account, user, &email, new_hash, (&signed.digest, device.as_deref())).await
    {
        Ok(true) => view::redirect("/admin/password?done=changed"),
        Ok(false) => view::redirect("/admin/login"),
        Err(e) => view::store_failure(&e),
    }
}
