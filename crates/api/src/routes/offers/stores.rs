//! Store searches that depend on active offers: stores near a point where at least one active
//! offer applies, the stores of one offer, and the offers of one store. Which offers are
//! active and which stores they apply at are the domain's rules (`is_active`,
//! `StoreRule::allows`, which the store's searches apply in SQL); distances are
//! great-circle, in whole meters.

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
use kindling_store::offers::eligibility::{self, StoreOrder};
use kindling_store::offers::eligible_channels;
use kindling_store::offers::offer::Offers;
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

/// Stores where at least one of `offers` applies, with their distance from `origin`, sorted
/// and paged by the store (filtered in SQL, see `eligibility::stores_for_offers`).
async fn nearby(
    state: &AppState,
    auth: Auth,
    origin: (f64, f64),
    offers: Vec<OfferId>,
    query: &SearchQuery,
    page: PageRequest,
) -> Result<Response, ApiError> {
    // Store tags are not modelled yet, so no store carries any tag.
    if query.by_tag_ids.as_deref().is_some_and(|t| !t.trim().is_empty()) {
        return Ok(paged("stores", "store", &Paged::<Store> { items: Vec::new(), total_entries: 0, page }));
    }
    let order = match query.sort_by.as_deref() {
        Some("name") => StoreOrder::Name,
        _ => StoreOrder::Nearest(origin),
    };
    let mut found = eligibility::stores_for_offers(&state.db, auth.account, &offers, order, page).await?;
    for store in &mut found.items {
        // Stores without coordinates show no distance.
        store.nearby = match (store.location.lat, store.location.lng) {
            (Some(lat), Some(lng)) => Some(Nearby {
                lat: origin.0.to_string(),
                lng: origin.1.to_string(),
                distance: distance_meters(origin, (lat, lng)),
            }),
            _ => None,
        };
    }
    Ok(paged("stores", "store", &found))
}

async fn active(state: &AppState, auth: Auth, only: Option<OfferId>) -> Result<Vec<OfferId>, ApiError> {
    Ok(eligibility::active_offers(&state.db, auth.account, Timestamp::now(), only).await?)
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
    let offers = active(&state, auth, None).await?;
    nearby(&state, auth, origin, offers, &query, page).await
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
    let offers = active(&state, auth, None).await?;
    nearby(&state, auth, origin, offers, &query, page).await
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
    let offers = active(&state, auth, Some(offer)).await?;
    nearby(&state, auth, origin, offers, &query, page).await
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
    let found = eligibility::store_with_lists(&state.db, auth.account, store).await?;
    let (store, lists) =
        found.filter(|(s, _)| s.merchant_id == merchant).ok_or_else(|| ApiError::not_found("store"))?;
    let rules = active_rules(&state, auth, None).await?;
    let ids: Vec<OfferId> =
        rules.iter().filter(|(_, rule)| rule.allows(store.merchant_id.0, &lists)).map(|(id, _)| *id).collect();
    Ok(json(StatusCode::OK, &json!({ "offer_ids": ids })))
}
