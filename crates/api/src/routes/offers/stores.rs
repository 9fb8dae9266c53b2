//! Store searches that depend on active offers: stores near a point where at least one active
//! offer applies, the stores of one offer, and the offers of one store. Which offers are
//! active and which stores they apply at are the domain's rules (`is_active`,
//! `StoreRule::allows`); distances are great-circle, in whole meters.

use crate::auth::Auth;
use crate::extract::{ApiPath, ApiQuery, PageQuery};
use crate::response::{json, paged};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::catalog::store::{Nearby, Store};
use kindling_domain::offers::eligibility::StoreRule;
use kindling_domain::offers::geo::{distance_meters, parse_point};
use kindling_domain::paging::PageRequest;
use kindling_domain::{ChannelId, MerchantId, OfferId, StoreId, Timestamp};
use kindling_store::catalog::merchants::Merchants;
use kindling_store::crud::{self, Paged};
use kindling_store::offers::offer::Offers;
use kindling_store::offers::{eligibility, eligible_channels};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    lat: Option<String>,
    lng: Option<String>,
    by_tag_ids: Option<String>,
    sort_by: Option<String>,
    x_channel_id: Option<String>,
}

fn point(lat: Option<&str>, lng: Option<&str>) -> Result<(f64, f64), ApiError> {
    let (Some(lat), Some(lng)) = (lat, lng) else {
        return Err(ApiError::BadRequest("lat and lng are required".into()));
    };
    parse_point(lat, lng).ok_or_else(|| ApiError::BadRequest("lat must be within ±90 and lng within ±180".into()))
}

/// Eligible stores with their distance from `origin`, sorted and paged.
async fn nearby(
    state: &AppState,
    auth: Auth,
    origin: (f64, f64),
    rules: Vec<(OfferId, StoreRule)>,
    query: &SearchQuery,
    page: PageRequest,
) -> Result<Response, ApiError> {
    // Store tags are not modelled yet, so no store carries any tag.
    let tagged_only = query.by_tag_ids.as_deref().is_some_and(|t| !t.trim().is_empty());
    let stores = eligibility::stores_with_lists(&state.db, auth.account, None).await?;
    let mut found: Vec<Store> = stores
        .into_iter()
        .filter(|_| !tagged_only)
        .filter(|(store, lists)| rules.iter().any(|(_, rule)| rule.allows(store.merchant_id.0, lists)))
        .map(|(mut store, _)| {
            let distance = match (store.location.lat, store.location.lng) {
                (Some(lat), Some(lng)) => distance_meters(origin, (lat, lng)),
                _ => i64::MAX,
            };
            store.nearby = Some(Nearby { lat: origin.0.to_string(), lng: origin.1.to_string(), distance });
            store
        })
        .collect();
    let distance = |s: &Store| s.nearby.as_ref().map_or(i64::MAX, |n| n.distance);
    match query.sort_by.as_deref() {
        Some("name") => found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        _ => found.sort_by_key(|s| (distance(s), s.id)),
    }
    for store in &mut found {
        // Stores without coordinates sort last and show no distance.
        if distance(store) == i64::MAX {
            store.nearby = None;
        }
    }
    let total_entries = found.len() as i64;
    let items: Vec<Store> = found.into_iter().skip(page.offset() as usize).take(page.per_page as usize).collect();
    Ok(paged("stores", "store", &Paged { items, total_entries, page }))
}

async fn active_rules(
    state: &AppState,
    auth: Auth,
    only: Option<OfferId>,
) -> Result<Vec<(OfferId, StoreRule)>, ApiError> {
    Ok(eligibility::active_store_rules(&state.db, auth.account, Timestamp::now(), only).await?)
}

/// `GET /v1.0/merchants/stores/index` and `/v1.0/merchants/stores/nearby/index`.
pub async fn stores_with_active_offers(
    State(state): State<AppState>,
    auth: Auth,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Response, ApiError> {
    let origin = point(query.lat.as_deref(), query.lng.as_deref())?;
    let rules = active_rules(&state, auth, None).await?;
    nearby(&state, auth, origin, rules, &query, page).await
}

/// `GET /v1.0/merchants/stores/nearby/{lat}/{lng}/index`.
pub async fn stores_near_point(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((lat, lng)): ApiPath<(String, String)>,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Response, ApiError> {
    let origin = point(Some(&lat), Some(&lng))?;
    let rules = active_rules(&state, auth, None).await?;
    nearby(&state, auth, origin, rules, &query, page).await
}

/// `GET /v1.0/offers/{offer_id}/stores?lat&lng&x_channel_id`: where this offer (if active, and
/// on that channel) can be redeemed.
pub async fn offer_stores(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(offer): ApiPath<OfferId>,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Response, ApiError> {
    let origin = point(query.lat.as_deref(), query.lng.as_deref())?;
    let raw = query.x_channel_id.as_deref().ok_or_else(|| ApiError::BadRequest("x_channel_id is required".into()))?;
    let channel = ChannelId(crate::extract::query_int("x_channel_id", raw)?);
    if !crud::contains_now::<Offers>(&state.db, auth.account, offer).await? {
        return Err(ApiError::not_found("offer"));
    }
    if eligible_channels::find(&state.db, auth.account, offer, channel).await?.is_none() {
        return Err(ApiError::NotFound(format!("channel {channel} is not linked to offer {offer}")));
    }
    let rules = active_rules(&state, auth, Some(offer)).await?;
    nearby(&state, auth, origin, rules, &query, page).await
}

/// `GET /v1.0/merchants/{merchant_id}/stores/{store_id}/offers`: `{"offer_ids": [...]}`, the
/// active offers redeemable at the store.
pub async fn store_offers(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((merchant, store)): ApiPath<(MerchantId, StoreId)>,
) -> Result<Response, ApiError> {
    if !crud::contains_now::<Merchants>(&state.db, auth.account, merchant).await? {
        return Err(ApiError::not_found("merchant"));
    }
    let found = eligibility::stores_with_lists(&state.db, auth.account, Some(store)).await?;
    let (store, lists) =
        found.into_iter().find(|(s, _)| s.merchant_id == merchant).ok_or_else(|| ApiError::not_found("store"))?;
    let rules = active_rules(&state, auth, None).await?;
    let ids: Vec<OfferId> =
        rules.iter().filter(|(_, rule)| rule.allows(store.merchant_id.0, &lists)).map(|(id, _)| *id).collect();
    Ok(json(StatusCode::OK, &json!({ "offer_ids": ids })))
}
