//! Reports: offer activity, redemptions, the merchant and account-level redemption reports
//! and unique impressions. Parameters are checked here (`domain::report`); the store reads
//! and aggregates. docs/API-DESIGN.md ("Reports") gives the rules.

use crate::auth::Auth;
use crate::extract::{query_int, ApiPath, ApiQuery};
use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::report::{self, ReportError};
use kindling_domain::{ChannelId, MerchantId, OfferId, StoreListId};
use kindling_store::catalog::merchants::Merchants;
use kindling_store::catalog::store_lists::StoreLists;
use kindling_store::crud;
use kindling_store::offers::channels::Channels;
use kindling_store::reports::{activity, impressions, merchant, redemptions};
use serde_json::json;
use std::collections::HashMap;

type Query = HashMap<String, String>;

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Invalid(message) => ApiError::BadRequest(message),
            ReportError::Unprocessable(message) => ApiError::Unprocessable(message),
        }
    }
}

/// The query string's parameters. A NUL cannot reach PostgreSQL as text (and is refused on
/// SQLite alike, as in request bodies).
fn params(query: Query) -> Result<Query, ApiError> {
    match query.values().any(|v| v.contains('\0')) {
        true => Err(ApiError::BadRequest("query parameters must not contain NUL characters".into())),
        false => Ok(query),
    }
}

/// A parameter's value; empty counts as absent.
fn get<'a>(query: &'a Query, key: &str) -> Option<&'a str> {
    query.get(key).map(String::as_str).filter(|v| !v.trim().is_empty())
}

fn int(query: &Query, key: &str) -> Result<Option<i64>, ApiError> {
    get(query, key).map(|raw| query_int(key, raw)).transpose()
}

/// `GET /v1.0/reports/offer_activity` (get_offer_activity): a bare array of
/// `offer_activity_report`, oldest first.
pub async fn get_offer_activity(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Response, ApiError> {
    let query = params(query)?;
    let pair_of_times = |name: &str| {
        report::pair(name, get(&query, &format!("from_{name}")), get(&query, &format!("to_{name}")), report::parse_time)
    };
    let reported = pair_of_times("reported_datetime")?;
    let processed = pair_of_times("processed_datetime")?;
    let business = report::pair(
        "business_date",
        get(&query, "from_business_date"),
        get(&query, "to_business_date"),
        report::parse_date,
    )?;
    let window = report::activity_window(reported, processed, business)?;
    let channel = match (int(&query, "channel_id")?, get(&query, "channel_name")) {
        (Some(id), _) => {
            let id = ChannelId(id);
            crud::contains_now::<Channels>(&state.db, auth.account, id).await?.then_some(id)
        }
        (None, Some(name)) => activity::channel_named(&state.db, auth.account, name).await?,
        (None, None) => return Err(ApiError::BadRequest("channel_id or channel_name is required".into())),
    }
    .ok_or_else(|| ApiError::not_found("channel"))?;
    let query = activity::ActivityQuery {
        window,
        channel: Some(channel),
        offer: int(&query, "offer_id")?.map(OfferId),
        kind: get(&query, "type").map(report::activity_type).transpose()?,
        campaign_xid: get(&query, "campaign_xid").map(str::to_owned),
        credential_identifier: get(&query, "credential_identifier").map(|c| c.trim().to_owned()),
    };
    let rows = activity::report(&state.db, auth.account, &query).await?;
    Ok(json(StatusCode::OK, &rows))
}

/// `GET /v1.0/reports/redemptions` (get_offer_redemptions): `{"redemptions": [...]}`.
pub async fn get_offer_redemptions(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Response, ApiError> {
    let query = params(query)?;
    let business = report::pair(
        "business_date",
        get(&query, "from_business_date"),
        get(&query, "to_business_date"),
        report::parse_date,
    )?;
    let redeemed = report::pair(
        "redemption_datetime",
        get(&query, "from_redemption_datetime"),
        get(&query, "to_redemption_datetime"),
        report::parse_time,
    )?;
    let window = report::redemption_window(business, redeemed)?;
    let store_list = int(&query, "bi_storelist")?.map(StoreListId);
    if let Some(list) = store_list {
        if !crud::contains_now::<StoreLists>(&state.db, auth.account, list).await? {
            return Err(ApiError::not_found("store list"));
        }
    }
    let scope = redemptions::Scope { window, store_list, merchant: None };
    let rows = redemptions::rows(&mut kindling_store::Reader(&state.db), auth.account, &scope).await?;
    Ok(json(StatusCode::OK, &json!({ "redemptions": rows })))
}

fn epoch_span(query: &Query) -> Result<report::Span, ApiError> {
    Ok(report::epoch_span(get(query, "from"), get(query, "to"))?)
}

async fn own_merchant(state: &AppState, auth: &Auth, id: MerchantId) -> Result<(), ApiError> {
    match crud::contains_now::<Merchants>(&state.db, auth.account, id).await? {
        true => Ok(()),
        false => Err(ApiError::not_found("merchant")),
    }
}

/// `GET /v1.0/merchants/{merchant_id}/reports/full` (get_merchant_data): `{"data": [report]}`.
pub async fn get_merchant_data(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<MerchantId>,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Response, ApiError> {
    let query = params(query)?;
    own_merchant(&state, &auth, id).await?;
    let span = epoch_span(&query)?;
    let reports = merchant::reports(&state.db, auth.account, span, Some(id)).await?;
    Ok(json(StatusCode::OK, &json!({ "data": reports })))
}

/// `GET /v1.0/reports/account_level` (get_all_merchant_data): one report per merchant.
pub async fn get_all_merchant_data(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Response, ApiError> {
    let query = params(query)?;
    let span = epoch_span(&query)?;
    let reports = merchant::reports(&state.db, auth.account, span, None).await?;
    Ok(json(StatusCode::OK, &json!({ "data": reports })))
}

/// `GET /v1.0/merchants/{merchant_id}/reports/impressions` (get_merchant_impressions):
/// `{"data": [{"report": {"impressions": {...}}}]}`.
pub async fn get_merchant_impressions(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<MerchantId>,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Response, ApiError> {
    let query = params(query)?;
    own_merchant(&state, &auth, id).await?;
    let span = epoch_span(&query)?;
    let report = impressions::report(&state.db, auth.account, id, span).await?;
    Ok(json(StatusCode::OK, &json!({ "data": [{ "report": { "impressions": report } }] })))
}
