//! `GET /admin` (the dashboard) and `GET /admin/offers`: the account-wide pages, which a
//! store operator may not see.

use super::session::Signed;
use super::view::{self, Nav};
use super::{chart, PortalState};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::Timestamp;
use kindling_store::portal::{dashboard as figures, offers as listing};
use minijinja::context;

pub const ACCOUNT_PAGES: &str = "Your role works with codes only; this page shows the whole account.";
pub const READ_ONLY: &str = "Your role may look but not change anything.";

/// The first value of each query parameter this page reads.
pub fn param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A date as the pages show it (UTC, to the minute).
pub fn shown(t: Timestamp) -> String {
    let text = t.to_string();
    match (text.get(..10), text.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => text,
    }
}

/// `GET /admin`.
pub async fn dashboard(State(portal): State<PortalState>, signed: Signed) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let d = match figures::dashboard(&portal.db, signed.session.account, Timestamp::now()).await {
        Ok(Some(d)) => d,
        Ok(None) => return view::redirect("/admin/login"),
        Err(e) => return view::store_failure(&e),
    };
    let ctx = context! {
        d => context! {
            active_offers => d.active_offers,
            issued_today => d.issued_today,
            issued_30_days => d.issued_30_days,
            redeemed_today => d.redeemed_today,
            redeemed_30_days => d.redeemed_30_days,
            pending_callbacks => d.pending_callbacks,
        },
        time_zone => d.time_zone.clone().unwrap_or_else(|| "UTC".to_owned()),
        chart => chart::bars(&d.per_day),
        ..signed.chrome(Nav::Dashboard)
    };
    view::html(StatusCode::OK, view::render("portal/dashboard.html", ctx))
}

/// The offers page's address with these filters and page.
fn offers_url(q: &str, status: Option<OfferStatus>, page: i64) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        url.append_pair("q", q);
    }
    if let Some(status) = status {
        url.append_pair("status", status.as_str());
    }
    url.append_pair("page", &page.to_string());
    format!("/admin/offers?{}", url.finish())
}

/// `GET /admin/offers?q=&status=&page=`: 50 a page, newest first. An unknown status or page
/// number is ignored (the first page of every status).
pub async fn offers(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let q: String = param(query.as_deref(), "q").unwrap_or_default().trim().chars().take(255).collect();
    let status = param(query.as_deref(), "status").and_then(|s| OfferStatus::parse(&s));
    let page = param(query.as_deref(), "page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).max(1);
    let filter = listing::Filter { name: Some(q.clone()), status };
    let found = match listing::page(&portal.db, signed.session.account, &filter, page).await {
        Ok(found) => found,
        Err(e) => return view::store_failure(&e),
    };
    let rows: Vec<_> = found
        .offers
        .iter()
        .map(|o| {
            context! {
                id => o.id.0,
                name => o.name,
                status => o.status.as_str(),
                starts => o.activates_at.map(shown),
                ends => o.expires_at.map(shown),
                redemptions => o.redemptions,
            }
        })
        .collect();
    let pages = found.pages();
    let ctx = context! {
        q => q,
        status => status.map(OfferStatus::as_str),
        statuses => OfferStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        offers => rows,
        total => found.total,
        page => found.page,
        pages => pages,
        prev => (found.page > 1).then(|| offers_url(&q, status, (found.page - 1).min(pages))),
        next => (found.page < pages).then(|| offers_url(&q, status, found.page + 1)),
        ..signed.chrome(Nav::Offers)
    };
    view::html(StatusCode::OK, view::render("portal/offers.html", ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_to_the_minute() {
        assert_eq!(shown(Timestamp::from_unix(1_359_409_450)), "2013-01-28 21:44 UTC");
    }

    #[test]
    fn page_links_keep_the_filters() {
        assert_eq!(offers_url("a&b", Some(OfferStatus::Approved), 2), "/admin/offers?q=a%26b&status=approved&page=2");
        assert_eq!(offers_url("", None, 1), "/admin/offers?page=1");
    }
}
