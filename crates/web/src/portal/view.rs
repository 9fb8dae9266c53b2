//! The portal's templates (crates/web/templates/portal, compiled into the binary), the
//! layout's navigation, and the HTML responses with their security headers.

use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use kindling_domain::portal::Access;
use kindling_store::portal::Session;
use kindling_store::StoreError;
use minijinja::{context, Environment, Value};
use std::sync::LazyLock;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("portal/layout.html", include_str!("../../templates/portal/layout.html")),
        ("portal/login.html", include_str!("../../templates/portal/login.html")),
        ("portal/message.html", include_str!("../../templates/portal/message.html")),
        ("portal/dashboard.html", include_str!("../../templates/portal/dashboard.html")),
        ("portal/offers.html", include_str!("../../templates/portal/offers.html")),
        ("portal/codes.html", include_str!("../../templates/portal/codes.html")),
        ("portal/merchants.html", include_str!("../../templates/portal/merchants.html")),
        ("portal/merchant.html", include_str!("../../templates/portal/merchant.html")),
        ("portal/offer_form.html", include_str!("../../templates/portal/offer_form.html")),
        ("portal/offer.html", include_str!("../../templates/portal/offer.html")),
        ("portal/catalog_tabs.html", include_str!("../../templates/portal/catalog_tabs.html")),
        ("portal/catalog_list.html", include_str!("../../templates/portal/catalog_list.html")),
        ("portal/catalog_form.html", include_str!("../../templates/portal/catalog_form.html")),
        ("portal/store_upload.html", include_str!("../../templates/portal/store_upload.html")),
        ("portal/pager.html", include_str!("../../templates/portal/pager.html")),
        ("portal/channels.html", include_str!("../../templates/portal/channels.html")),
        ("portal/channel.html", include_str!("../../templates/portal/channel.html")),
        ("portal/campaigns.html", include_str!("../../templates/portal/campaigns.html")),
        ("portal/campaign.html", include_str!("../../templates/portal/campaign.html")),
        ("portal/member_lists.html", include_str!("../../templates/portal/member_lists.html")),
        ("portal/member_list.html", include_str!("../../templates/portal/member_list.html")),
        ("portal/members.html", include_str!("../../templates/portal/members.html")),
        ("portal/member.html", include_str!("../../templates/portal/member.html")),
        ("portal/reports.html", include_str!("../../templates/portal/reports.html")),
        ("portal/account.html", include_str!("../../templates/portal/account.html")),
        ("portal/password.html", include_str!("../../templates/portal/password.html")),
    ] {
        env.add_template(name, source).expect("portal templates parse (checked by the tests)");
    }
    env
});

/// Which page of the navigation is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Dashboard,
    Offers,
    Merchants,
    Catalog,
    Codes,
    Channels,
    Members,
    Reports,
    Account,
    None,
}

/// The layout's part of a page's context: who is signed in, the links their role may
/// follow, and the CSRF token of the sign-out form.
pub fn chrome(session: &Session, access: &Access, current: Nav) -> Value {
    let mut nav = Vec::new();
    if access.sees_account() {
        nav.push(context! { href => "/admin", label => "Dashboard", current => current == Nav::Dashboard });
        nav.push(context! { href => "/admin/offers", label => "Offers", current => current == Nav::Offers });
        nav.push(context! { href => "/admin/merchants", label => "Merchants", current => current == Nav::Merchants });
        nav.push(context! { href => "/admin/stores", label => "Catalog", current => current == Nav::Catalog });
        nav.push(context! { href => "/admin/channels", label => "Channels", current => current == Nav::Channels });
        nav.push(context! { href => "/admin/members", label => "Members", current => current == Nav::Members });
    }
    nav.push(context! { href => "/admin/codes", label => "Codes", current => current == Nav::Codes });
    if access.sees_account() {
        nav.push(context! { href => "/admin/reports", label => "Reports", current => current == Nav::Reports });
    }
    if access.role() == kindling_domain::portal::Role::Owner {
        nav.push(context! { href => "/admin/account", label => "Account", current => current == Nav::Account });
    }
    context! {
        user => context! {
            email => session.email,
            role => access.role().label(),
            account => session.account_name,
            sees_account => access.sees_account(),
            can_edit => access.can_edit(),
        },
        nav => nav,
        csrf => session.csrf_token,
    }
}

/// Renders `template`; a template error is logged and shown as a plain failure page.
pub fn render(template: &str, ctx: Value) -> String {
    TEMPLATES.get_template(template).and_then(|t| t.render(ctx)).unwrap_or_else(|e| {
        tracing::error!(error = %e, template, "portal template failed");
        "<!doctype html><title>Error</title><p>Something went wrong. Please reload the page.</p>".to_owned()
    })
}

/// An HTML answer with the landing pages' security headers, allowing forms to post back and
/// refusing frames.
pub fn html(status: StatusCode, body: String) -> Response {
    // Scripts only from this origin (the offer form's live preview, which posts the form
    // back here), no outside styles, images only https (the preview shows the offer's);
    // forms post only to this origin.
    const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src data: https:; \
                       style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    let mut response = crate::page::html(status, body, CSP);
    response.headers_mut().insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

/// `303 See Other` to a path of the portal (after a POST, or to the sign-in form).
pub fn redirect(to: &str) -> Response {
    let mut response = html(StatusCode::SEE_OTHER, String::new());
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// A page that only says something; with `chrome` it has the signed-in layout.
pub fn message(status: StatusCode, id: &str, heading: &str, text: &str, chrome: Option<Value>) -> Response {
    let ctx = context! { id => id, heading => heading, text => text, ..chrome.unwrap_or_default() };
    html(status, render("portal/message.html", ctx))
}

/// 403: what the role may not do, or a form whose CSRF token does not match.
pub fn forbidden(text: &str, chrome: Option<Value>) -> Response {
    message(StatusCode::FORBIDDEN, "forbidden", "Not allowed", text, chrome)
}

/// 404: no such record in the account (another account's ids are the same as unknown ones).
pub fn not_found(what: &str, chrome: Value) -> Response {
    let text = format!("There is no such {what} in this account.");
    message(StatusCode::NOT_FOUND, "not-found", "Not found", &text, Some(chrome))
}

/// A store failure as a page: 503 with `Retry-After` when the database is busy, else 500.
pub fn store_failure(e: &StoreError) -> Response {
    tracing::error!(error = %e, "portal store error");
    let busy = matches!(e, StoreError::Busy(_) | StoreError::Closed(_));
    let (status, text) = if busy {
        (StatusCode::SERVICE_UNAVAILABLE, "We are busy right now. Please try again in a moment.")
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong. Please try again.")
    };
    let mut response = message(status, "error", "Please try again", text, None);
    if busy {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_empty() {
        for name in TEMPLATES.templates().map(|(name, _)| name) {
            // The dashboard's figures, a form's values and errors, an offer, a pager, a
            // member, the account page's parts and an offer's rule are objects; every other
            // value may be missing.
            let ctx = context! { d => context! {}, v => context! {}, errors => context! {}, o => context! {}, user => context! {}, p => context! {}, m => context! {}, account => context! {}, cb => context! {}, nu => context! {}, cb_errors => context! {}, nu_errors => context! {}, rule => context! {} };
            TEMPLATES.get_template(name).unwrap().render(ctx).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }

    #[test]
    fn text_is_escaped() {
        let page = render("portal/message.html", context! { heading => "<script>x</script>", text => "a\"b" });
        assert!(page.contains("&lt;script&gt;x&lt;&#x2f;script&gt;"), "{page}");
        assert!(!page.contains("<script>"));
    }
}
