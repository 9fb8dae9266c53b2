//! `/admin/reports`: offer activity and redemptions over a window of business dates (the
//! account's days, as the dashboard counts them), as tables, a bar chart and CSV downloads.
//! The figures are the API's reports' rows (`store::reports::activity::report` and
//! `store::reports::redemptions::rows`, what `GET /v1.0/reports/offer_activity` and `GET
//! /v1.0/reports/redemptions` answer) counted by day and offer in SQL, by the same
//! statements' filters (`activity::counts`, `redemptions::counts`); the CSV downloads are
//! those rows.

use super::csv;
use super::pages::{param, ACCOUNT_PAGES};
use super::session::Signed;
use super::view::{self, Nav};
use super::{chart, PortalState};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::credentials::ActivityType;
use kindling_domain::report::{self, ActivityWindow, Dates, RedemptionWindow, ReportError};
use kindling_domain::time::recent_days;
use kindling_domain::{FieldErrors, Timestamp};
use kindling_store::reports::activity::{self, ActivityQuery, DayCount};
use kindling_store::reports::redemptions::{self, OfferDayCount, Scope};
use kindling_store::{reports, Reader, StoreError};
use minijinja::context;
use std::collections::BTreeMap;

/// The window's dates as asked for (or the last 30 days), and whether they make a window.
struct Asked {
    from: String,
    to: String,
    time_zone: Option<String>,
    window: Result<Dates, FieldErrors>,
}

/// The `from` and `to` of the query, checked by the API's rules: dates, in order, and at
/// most the offer activity report's 30 days. Without them, the last 30 days.
async fn asked(portal: &PortalState, signed: &Signed, query: Option<&str>) -> Result<Asked, StoreError> {
    let time_zone = reports::time_zone(&mut Reader(&portal.db), signed.session.account).await?;
    let days = recent_days(Timestamp::now(), time_zone.as_deref(), report::MAX_ACTIVITY_WINDOW_DAYS as u32);
    let default = |i: usize| days.get(i).map(|(d, _)| d.clone()).unwrap_or_default();
    let given = |name: &str| param(query, name).map(|v| v.trim().chars().take(32).collect::<String>());
    let from = given("from").filter(|v| !v.is_empty()).unwrap_or_else(|| default(0));
    let to = given("to").filter(|v| !v.is_empty()).unwrap_or_else(|| default(days.len().saturating_sub(1)));
    let window = window(&from, &to);
    Ok(Asked { from, to, time_zone, window })
}

fn window(from: &str, to: &str) -> Result<Dates, FieldErrors> {
    let mut errors = FieldErrors::default();
    let date = |errors: &mut FieldErrors, field: &str, raw: &str| {
        report::parse_date(field, raw).map_err(|_| errors.add(field, "Enter a date (YYYY-MM-DD).")).ok()
    };
    let (from, to) = (date(&mut errors, "from", from), date(&mut errors, "to", to));
    let (Some(from), Some(to)) = (from, to) else { return Err(errors) };
    match report::activity_window(None, None, Some((from, to))) {
        Ok(ActivityWindow::Business(dates)) => Ok(dates),
        Ok(_) => Ok(Dates { from, to }),
        Err(ReportError::Invalid(message) | ReportError::Unprocessable(message)) => {
            errors.add("to", &sentence(&message));
            Err(errors)
        }
    }
}

/// The API's message as a sentence.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str())
}

/// Every channel's activities over `dates`, as the offer activity report selects them.
fn activity_query(dates: &Dates) -> ActivityQuery {
    ActivityQuery {
        window: ActivityWindow::Business(dates.clone()),
        channel: None,
        offer: None,
        kind: None,
        campaign_xid: None,
        credential_identifier: None,
    }
}

/// The redemptions over `dates`, as the redemptions report selects them.
fn redemption_scope(dates: &Dates) -> Scope {
    Scope { window: RedemptionWindow::Business(dates.clone()), store_list: None, merchant: None }
}

/// Both reports over `dates`, counted in SQL by the reports' own filters.
async fn read(
    portal: &PortalState,
    signed: &Signed,
    dates: &Dates,
) -> Result<(Vec<DayCount>, Vec<OfferDayCount>), StoreError> {
    let account = signed.session.account;
    let activity = activity::counts(&portal.db, account, &activity_query(dates)).await?;
    let redeemed = redemptions::counts(&mut Reader(&portal.db), account, &redemption_scope(dates)).await?;
    Ok((activity, redeemed))
}

/// A day's line of the table.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Day {
    pub day: String,
    pub issued: i64,
    pub redeemed: i64,
    pub voided: i64,
    /// Redemptions not voided (the redemptions report's rows of the day).
    pub redemptions: i64,
}

/// An offer's line: its redemptions in the window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OfferLine {
    pub id: i64,
    pub name: String,
    pub redemptions: i64,
}

/// The rows counted by day (every day of the window, oldest first) and by offer (most
/// redeemed first).
pub fn tabulate(dates: &Dates, activity: &[DayCount], redeemed: &[OfferDayCount]) -> (Vec<Day>, Vec<OfferLine>) {
    let mut days: BTreeMap<String, Day> =
        dates.days().into_iter().map(|day| (day.clone(), Day { day, ..Day::default() })).collect();
    for a in activity {
        if let Some(day) = days.get_mut(&a.business_date) {
            match a.kind {
                Some(ActivityType::Issue) => day.issued += a.count,
                Some(ActivityType::Redeem) => day.redeemed += a.count,
                Some(ActivityType::Void) => day.voided += a.count,
                None => {}
            }
        }
    }
    let mut offers: BTreeMap<i64, OfferLine> = BTreeMap::new();
    for r in redeemed {
        if let Some(day) = days.get_mut(&r.business_date) {
            day.redemptions += r.count;
        }
        let line = offers.entry(r.offer_id.0).or_insert_with(|| OfferLine {
            id: r.offer_id.0,
            name: r.offer_name.clone(),
            redemptions: 0,
        });
        line.redemptions += r.count;
    }
    let mut offers: Vec<OfferLine> = offers.into_values().collect();
    offers.sort_by(|a, b| b.redemptions.cmp(&a.redemptions).then(a.id.cmp(&b.id)));
    (days.into_values().collect(), offers)
}

/// The download links' query: the window as asked.
fn window_query(asked: &Asked) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("from", &asked.from)
        .append_pair("to", &asked.to)
        .finish()
}

/// `GET /admin/reports?from=&to=`.
pub async fn page(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let asked = match asked(&portal, &signed, query.as_deref()).await {
        Ok(asked) => asked,
        Err(e) => return view::store_failure(&e),
    };
    let base = context! {
        from => asked.from,
        to => asked.to,
        time_zone => asked.time_zone.clone().unwrap_or_else(|| "UTC".to_owned()),
        max_days => report::MAX_ACTIVITY_WINDOW_DAYS,
        ..signed.chrome(Nav::Reports)
    };
    let dates = match &asked.window {
        Ok(dates) => dates,
        Err(errors) => {
            let ctx = context! { errors => errors, ..base };
            return view::html(StatusCode::UNPROCESSABLE_ENTITY, view::render("portal/reports.html", ctx));
        }
    };
    let (activity, redeemed) = match read(&portal, &signed, dates).await {
        Ok(read) => read,
        Err(e) => return view::store_failure(&e),
    };
    let (days, offers) = tabulate(dates, &activity, &redeemed);
    let per_day: Vec<(String, i64)> = days.iter().map(|d| (d.day.clone(), d.redemptions)).collect();
    let (total, max) = chart::sums(&per_day);
    let label = format!("{total} redemptions from {} to {}; at most {max} in a day", asked.from, asked.to);
    let totals = context! {
        issued => days.iter().map(|d| d.issued).sum::<i64>(),
        redeemed => days.iter().map(|d| d.redeemed).sum::<i64>(),
        voided => days.iter().map(|d| d.voided).sum::<i64>(),
        redemptions => total,
    };
    let ctx = context! {
        errors => context! {},
        days => days,
        offers => offers,
        totals => totals,
        chart => chart::chart(&per_day, "report-chart", &label),
        query => window_query(&asked),
        ..base
    };
    view::html(StatusCode::OK, view::render("portal/reports.html", ctx))
}

/// Reads the window for a download, or answers the page's refusal.
async fn download_window(
    portal: &PortalState,
    signed: &Signed,
    query: Option<&str>,
) -> Result<(Asked, Dates), Response> {
    if !signed.access.sees_account() {
        return Err(signed.forbidden(ACCOUNT_PAGES));
    }
    let asked = asked(portal, signed, query).await.map_err(|e| view::store_failure(&e))?;
    match asked.window.clone() {
        Ok(dates) => Ok((asked, dates)),
        Err(_) => Err(view::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad-window",
            "Not a report window",
            "Choose the dates on the reports page.",
            Some(signed.chrome(Nav::Reports)),
        )),
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// `GET /admin/reports/redemptions.csv?from=&to=`: the redemptions report's rows.
pub async fn redemptions_csv(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    let (asked, dates) = match download_window(&portal, &signed, query.as_deref()).await {
        Ok(window) => window,
        Err(refusal) => return refusal,
    };
    let scope = redemption_scope(&dates);
    let rows = match redemptions::rows(&mut Reader(&portal.db), signed.session.account, &scope).await {
        Ok(rows) => rows,
        Err(e) => return view::store_failure(&e),
    };
    let header = [
        "id",
        "business_date",
        "redemption_datetime",
        "offer_id",
        "offer_name",
        "pos_offer_code",
        "credential_identifier",
        "member_id",
        "customer_identifier",
        "store_id",
        "store_name",
        "store_number",
        "merchant_id",
        "channel_id",
        "channel_name",
        "campaign_id",
        "pos_transaction_id",
        "operator_id",
        "purchase_amount",
        "value",
    ];
    let lines = rows.into_iter().map(|r| {
        vec![
            r.id.to_string(),
            r.business_date,
            r.redeemed_at.to_string(),
            r.offer_id.0.to_string(),
            r.offer_name,
            opt(r.pos_offer_code),
            opt(r.credential_identifier),
            r.member_id.0.to_string(),
            opt(r.customer_identifier),
            opt(r.store_id.map(|s| s.0)),
            opt(r.store_name),
            opt(r.store_number),
            opt(r.merchant_id.map(|m| m.0)),
            r.channel_id.0.to_string(),
            opt(r.channel_name),
            opt(r.campaign_xid),
            opt(r.pos_transaction_id),
            opt(r.operator_id),
            opt(r.purchase_amount),
            opt(r.value),
        ]
    });
    csv::download(&format!("redemptions-{}-{}.csv", asked.from, asked.to), csv::table(&header, lines))
}

/// `GET /admin/reports/activity.csv?from=&to=`: the offer activity report's rows, every
/// channel.
pub async fn activity_csv(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    let (asked, dates) = match download_window(&portal, &signed, query.as_deref()).await {
        Ok(window) => window,
        Err(refusal) => return refusal,
    };
    let rows = match activity::report(&portal.db, signed.session.account, &activity_query(&dates)).await {
        Ok(rows) => rows,
        Err(e) => return view::store_failure(&e),
    };
    let header = [
        "id",
        "business_date",
        "reported_at",
        "processed_at",
        "type",
        "offer_id",
        "channel_id",
        "credential_identifier",
        "member_id",
        "member_identifier",
    ];
    let lines = rows.into_iter().map(|a| {
        let (member_id, member_identifier) =
            a.member.map_or((String::new(), String::new()), |(id, m)| (id.to_string(), m));
        vec![
            a.id.0.to_string(),
            a.business_date,
            a.reported_at.to_string(),
            opt(a.processed_at),
            opt(a.kind.map(ActivityType::name)),
            a.offer_id.0.to_string(),
            a.channel_id.0.to_string(),
            opt(a.credential_identifier),
            member_id,
            member_identifier,
        ]
    });
    csv::download(&format!("offer-activity-{}-{}.csv", asked.from, asked.to), csv::table(&header, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_the_api_rules() {
        assert_eq!(window("2030-01-01", "2030-01-30").map(|d| d.days().len()), Ok(30));
        let too_long = window("2030-01-01", "2030-01-31").unwrap_err();
        assert!(too_long.get("to").unwrap().contains("30 days"), "{too_long:?}");
        assert!(window("2030-01-02", "2030-01-01").unwrap_err().get("to").is_some());
        let bad = window("soon", "2030-13-01").unwrap_err();
        assert!(bad.get("from").is_some() && bad.get("to").is_some());
    }
}
