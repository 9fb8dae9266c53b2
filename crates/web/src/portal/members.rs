//! `/admin/members`: the account's members found by identifier (`?q=`, the identifier's
//! start, or all of it with `exact=1`; filtered in SQL, 50 a page), and a member's page:
//! their newest codes (with status and offers) and redemptions, at most `CAP` each with the
//! totals. Read only, for every role that sees the account.

use super::merchants::path_id;
use super::pages::{param, shown, ACCOUNT_PAGES};
use super::paging::{self, PER_PAGE};
use super::session::Signed;
use super::view::{self, Nav};
use super::PortalState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::MemberId;
use kindling_store::portal::members::{self as reads, Match};
use minijinja::{context, Value};

/// Codes and redemptions a member's page lists (the newest).
const CAP: i64 = 50;

/// `GET /admin/members?q=&exact=1&page=`: nothing is listed until something is searched
/// for (an account may have millions of members).
pub async fn search(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let q: String = param(query.as_deref(), "q").unwrap_or_default().trim().chars().take(255).collect();
    let exact = param(query.as_deref(), "exact").is_some_and(|e| e == "1");
    let page = paging::requested(query.as_deref());
    let (rows, pager) = if q.is_empty() {
        (Vec::new(), Value::UNDEFINED)
    } else {
        let how = if exact { Match::Exact } else { Match::Prefix };
        let (members, total) =
            match reads::search(&portal.db, signed.session.account, &q, how, PER_PAGE, paging::offset(page)).await {
                Ok(found) => found,
                Err(e) => return view::store_failure(&e),
            };
        let rows: Vec<Value> = members
            .iter()
            .map(|m| context! { id => m.id.0, identifier => m.identifier, created_at => shown(m.created_at) })
            .collect();
        let exact_param = if exact { "1" } else { "" };
        (rows, paging::pager("/admin/members", &[("q", &q), ("exact", exact_param)], page, total))
    };
    let ctx = context! {
        q => q,
        exact => exact,
        members => rows,
        p => pager,
        ..signed.chrome(Nav::Members)
    };
    view::html(StatusCode::OK, view::render("portal/members.html", ctx))
}

/// `GET /admin/members/{id}`.
pub async fn show(State(portal): State<PortalState>, signed: Signed, Path(raw): Path<String>) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let not_found = || view::not_found("member", signed.chrome(Nav::Members));
    let Some(id) = path_id(&raw).map(MemberId) else {
        return not_found();
    };
    let found = match reads::member_page(&portal.db, signed.session.account, id, CAP).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(e) => return view::store_failure(&e),
    };
    let codes: Vec<Value> = found
        .codes
        .iter()
        .map(|c| {
            context! {
                id => c.id.0,
                identifier => c.identifier,
                href => c.identifier.as_deref().map(|code| paging::url("/admin/codes", &[("code", code)], 1)),
                status => c.status.to_string(),
                channel => c.channel_name,
                created_at => shown(c.created_at),
                redeemed_at => c.redeemed_at.map(shown),
                voided_at => c.voided_at.map(shown),
                offers => c.offers.iter().map(|o| context! { id => o.id.0, name => o.name, status => o.status }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let redemptions: Vec<Value> = found
        .redemptions
        .iter()
        .map(|r| {
            context! {
                id => r.id,
                offer_id => r.offer_id.0,
                offer_name => r.offer_name,
                code => r.code,
                store => r.store_name,
                redeemed_at => shown(r.redeemed_at),
                business_date => r.business_date,
                voided_at => r.voided_at.map(shown),
            }
        })
        .collect();
    let m = &found.member;
    let ctx = context! {
        m => context! {
            id => m.id.0,
            identifier => m.identifier,
            back => paging::url("/admin/members", &[("q", &m.identifier), ("exact", "1")], 1),
            notification_mode => m.notification_mode,
            created_at => shown(m.created_at),
        },
        codes => codes,
        codes_total => found.codes_total,
        redemptions => redemptions,
        redemptions_total => found.redemptions_total,
        cap => CAP,
        ..signed.chrome(Nav::Members)
    };
    view::html(StatusCode::OK, view::render("portal/member.html", ctx))
}
