//! `GET /admin/codes?code=` (look a code up), `POST /admin/codes/redeem` and
//! `POST /admin/codes/void`. The writes are `credentials::write::{redeem, void}`, the API's;
//! a refusal shows the API's (the guide's) message. Who may do what is `Access`'s rule,
//! checked here whatever the page offered: a viewer neither redeems nor voids, a store
//! operator redeems only at their stores and never voids.

use super::pages::shown;
use super::session::{Form, Signed};
use super::view::{self, Nav};
use super::PortalState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::{CredentialId, StoreId};
use kindling_store::credentials::write::{self, WriteError};
use kindling_store::portal::codes::{self, Code};
use minijinja::{context, Value};

/// Identifiers are at most this long (a member identifier's limit); longer finds nothing.
const CODE_MAX: usize = 255;

fn param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn code_view(c: &Code) -> Value {
    context! {
        id => c.id.0,
        identifier => c.identifier,
        status => c.status.as_str(),
        member => c.member_identifier,
        channel => c.channel_name,
        store => c.store_name,
        created_at => shown(c.created_at),
        redeemed_at => c.redeemed_at.map(shown),
        voided_at => c.voided_at.map(shown),
        offers => c.offers.iter().map(|o| context! { name => o.name, status => o.status }).collect::<Vec<_>>(),
        history => c.history.iter().map(|a| context! {
            at => shown(a.at),
            kind => a.kind.map_or("other", |k| k.name()),
            offer => a.offer_name,
        }).collect::<Vec<_>>(),
    }
}

/// The codes page for `code` (looked up when not blank), with a notice or an error.
async fn render(
    portal: &PortalState,
    signed: &Signed,
    code: &str,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let account = signed.session.account;
    let found = if code.is_empty() || code.len() > CODE_MAX {
        Vec::new()
    } else {
        match codes::lookup(&portal.db, account, code).await {
            Ok(found) => found,
            Err(e) => return view::store_failure(&e),
        }
    };
    // The stores this user may redeem at; none for a viewer (no form is shown).
    let stores = match (&signed.access, found.is_empty()) {
        (_, true) => Ok(Vec::new()),
        (access, false) if access.can_edit() => codes::stores(&portal.db, account, None).await,
        (access, false) => match access.stores() {
            Some(own) => codes::stores(&portal.db, account, Some(own.ids())).await,
            None => Ok(Vec::new()),
        },
    };
    let stores = match stores {
        Ok(stores) => stores,
        Err(e) => return view::store_failure(&e),
    };
    let ctx = context! {
        code => code,
        found => found.iter().map(code_view).collect::<Vec<_>>(),
        stores => stores.iter().map(|s| context! { id => s.id.0, name => s.name, merchant => s.merchant_name }).collect::<Vec<_>>(),
        store_required => !signed.access.can_redeem_at(None),
        can_void => signed.access.can_void(),
        notice => notice,
        error => error,
        ..signed.chrome(Nav::Codes)
    };
    view::html(status, view::render("portal/codes.html", ctx))
}

/// `GET /admin/codes?code=ABC`.
pub async fn page(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    let code = param(query.as_deref(), "code").unwrap_or_default().trim().to_owned();
    let notice = match param(query.as_deref(), "done").as_deref() {
        Some("redeemed") => Some("The code was redeemed."),
        Some("voided") => Some("The code was voided."),
        _ => None,
    };
    render(&portal, &signed, &code, StatusCode::OK, notice, None).await
}

/// The code page to return to after a write.
fn back_to(code: &str, done: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("code", code)
        .append_pair("done", done)
        .finish();
    format!("/admin/codes?{query}")
}

/// A posted credential id (the form's hidden field).
fn credential(form: &Form) -> Option<CredentialId> {
    form.get("credential_id")?.trim().parse::<i64>().ok().filter(|id| *id > 0).map(CredentialId)
}

/// Answers a refused or failed write with the code page and the reason.
async fn refused(portal: &PortalState, signed: &Signed, code: &str, e: WriteError) -> Response {
    let (status, message) = match e {
        WriteError::Refused(refusal) => (StatusCode::BAD_REQUEST, refusal.message()),
        WriteError::Invalid(message) => (StatusCode::BAD_REQUEST, message),
        WriteError::Conflict(message) => (StatusCode::CONFLICT, message),
        WriteError::NotFound => (StatusCode::NOT_FOUND, "No such code in this account.".to_owned()),
        WriteError::Store(e) => return view::store_failure(&e),
    };
    render(portal, signed, code, status, None, Some(&message)).await
}

/// `POST /admin/codes/redeem` (`csrf`, `credential_id`, `store_id`, `code`).
pub async fn redeem(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.csrf_refusal(&form) {
        return refused;
    }
    let store = match form.get("store_id").map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(id) if id > 0 => Some(StoreId(id)),
            _ => return signed.forbidden("You may not redeem codes at that store."),
        },
    };
    if !signed.access.can_redeem_at(store) {
        let text = match store {
            Some(_) if signed.access.stores().is_some() => "You may redeem codes only at your own stores.",
            None if signed.access.stores().is_some() => "Choose one of your stores to redeem at.",
            _ => "Your role may look at codes but not redeem them.",
        };
        return signed.forbidden(text);
    }
    let code = form.get("code").unwrap_or_default().trim().to_owned();
    let Some(id) = credential(&form) else {
        return render(&portal, &signed, &code, StatusCode::BAD_REQUEST, None, Some("No code was chosen.")).await;
    };
    match write::redeem(&portal.db, signed.session.account, id, store).await {
        Ok(redeemed) => view::redirect(&back_to(redeemed.identifier.as_deref().unwrap_or(&code), "redeemed")),
        Err(e) => refused(&portal, &signed, &code, e).await,
    }
}

/// `POST /admin/codes/void` (`csrf`, `credential_id`, `code`): owners and editors only.
pub async fn void(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.csrf_refusal(&form) {
        return refused;
    }
    if !signed.access.can_void() {
        return signed.forbidden("Your role may not void codes.");
    }
    let code = form.get("code").unwrap_or_default().trim().to_owned();
    let Some(id) = credential(&form) else {
        return render(&portal, &signed, &code, StatusCode::BAD_REQUEST, None, Some("No code was chosen.")).await;
    };
    match write::void(&portal.db, signed.session.account, id).await {
        Ok(()) => view::redirect(&back_to(&code, "voided")),
        Err(e) => refused(&portal, &signed, &code, e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_to_the_code_escaped() {
        assert_eq!(back_to("A B&C", "redeemed"), "/admin/codes?code=A+B%26C&done=redeemed");
    }
}
