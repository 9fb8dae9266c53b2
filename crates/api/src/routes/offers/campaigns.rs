//! Campaigns: the offer×channel row with campaign fields. `POST /v1.0/campaigns` (200) names
//! the channel by `channel_name`, found or created in the account.

use crate::auth::Auth;
use crate::extract::{ApiPath, ApiQuery, Envelope, Enveloped, PageQuery};
use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::offers::offer::is_active;
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::{ChannelId, EligibleChannelId, FieldErrors, Timestamp};
use kindling_store::crud;
use kindling_store::offers::campaign_input::{self, NewCampaign};
use kindling_store::offers::campaigns::{self, Campaign, Created, Lookup};
use kindling_store::offers::channels::Channels;
use kindling_store::StoreError;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;

#[derive(Deserialize)]
#[serde(transparent)]
pub struct CampaignBody(Map<String, Json>);

impl Enveloped for CampaignBody {
    const KEY: &'static str = "campaign";
}

async fn one(state: &AppState, auth: Auth, id: EligibleChannelId) -> Result<Campaign, ApiError> {
    campaigns::find(&state.db, auth.account, Lookup::Id(id)).await?.pop().ok_or_else(|| ApiError::not_found("campaign"))
}

fn answer(status: StatusCode, campaign: &Campaign) -> Response {
    json(status, &json!({ "campaign": campaign.view(), "errors": {} }))
}

/// The one unique index a campaign write can break is the account's `external_id`s (the
/// offer×channel pair is adopted, never inserted twice).
fn unique(e: StoreError) -> ApiError {
    match e {
        StoreError::Unique(_) => FieldErrors::single("external_id", "has already been taken").into(),
        other => other.into(),
    }
}

/// `GET /v1.0/campaigns?external_id=`: one campaign; without `external_id`, a paged list.
pub async fn get_campaigns(
    State(state): State<AppState>,
    auth: Auth,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if let Some(external) = query.get("external_id") {
        let found = campaigns::find(&state.db, auth.account, Lookup::ExternalId(external)).await?;
        return Ok(answer(StatusCode::OK, found.first().ok_or_else(|| ApiError::not_found("campaign"))?));
    }
    let total = campaigns::count(&state.db, auth.account).await?;
    let items = campaigns::page(&state.db, auth.account, page.limit(), page.offset()).await?;
    let wrapped: Vec<Json> = items.iter().map(|c| json!({ "campaign": c.view() })).collect();
    Ok(json(
        StatusCode::OK,
        &json!({"page": page.page, "per_page": page.per_page, "total_entries": total, "total_pages": page.total_pages(total), "campaigns": wrapped}),
    ))
}

/// `POST /v1.0/campaigns` (200, as the spec lists it).
pub async fn create_campaign(
    State(state): State<AppState>,
    auth: Auth,
    Envelope(CampaignBody(body)): Envelope<CampaignBody>,
) -> Result<Response, ApiError> {
    let NewCampaign { offer, channel_name, values } = campaign_input::new_campaign(&body)?;
    match campaigns::create(&state.db, auth.account, offer, &channel_name, values).await.map_err(unique)? {
        Created::Campaign(id) => Ok(answer(StatusCode::OK, &one(&state, auth, id).await?)),
        Created::OfferMissing => Err(FieldErrors::single("offer_id", &format!("does not exist: {offer}")).into()),
        Created::ExternalIdTaken { campaign, existing, given } => Err(ApiError::Conflict(format!(
            "offer {offer} already has campaign {campaign} on channel {channel_name:?} with external_id {existing:?}; \
             it cannot also take external_id {given:?}"
        ))),
    }
}

pub async fn get_campaign(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<EligibleChannelId>,
) -> Result<Response, ApiError> {
    Ok(answer(StatusCode::OK, &one(&state, auth, id).await?))
}

/// `PUT /v1.0/campaigns/{id}`: the campaign fields; the offer and channel stay.
pub async fn update_campaign(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<EligibleChannelId>,
    Envelope(CampaignBody(body)): Envelope<CampaignBody>,
) -> Result<Response, ApiError> {
    let current = one(&state, auth, id).await?;
    let values = campaign_input::campaign_changes(&current, &body)?;
    if !campaigns::update(&state.db, auth.account, id, current.offer_id, values).await.map_err(unique)? {
        return Err(ApiError::not_found("campaign"));
    }
    Ok(answer(StatusCode::OK, &one(&state, auth, id).await?))
}

/// Deleting a campaign unlinks the channel from the offer (its xid stops working).
pub async fn delete_campaign(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<EligibleChannelId>,
) -> Result<Response, ApiError> {
    if !campaigns::delete(&state.db, auth.account, id).await? {
        return Err(ApiError::not_found("campaign"));
    }
    Ok(crate::response::empty_ok())
}

#[derive(Deserialize)]
pub struct SearchQuery {
    channel_id: Option<String>,
}

/// `GET /v1.0/campaigns/search?channel_id=`: the active reward campaigns on a channel, as a
/// bare array `[{campaign_id (the xid), campaign_name, expires_at}]`.
pub async fn search_campaigns(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Response, ApiError> {
    let raw = query.channel_id.ok_or_else(|| ApiError::BadRequest("channel_id is required".into()))?;
    let channel = ChannelId(crate::extract::query_int("channel_id", &raw)?);
    if !crud::contains_now::<Channels>(&state.db, auth.account, channel).await? {
        return Err(ApiError::not_found("channel"));
    }
    let now = Timestamp::now();
    let found = campaigns::find(&state.db, auth.account, Lookup::Channel(channel)).await?;
    let results: Vec<Json> = found
        .iter()
        .filter(|c| c.is_reward)
        .filter(|c| {
            let status = OfferStatus::parse(&c.offer_status).unwrap_or(OfferStatus::Pending);
            let window = kindling_domain::offers::offer::Window { activates_at: c.activates_at, expires_at: c.expires_at, stop_offering_at: None };
            is_active(status, &window, now)
        })
        .map(|c| json!({"campaign_id": c.xid, "campaign_name": c.offer_name, "expires_at": c.expires_at.map(|t| t.to_string())}))
        .collect();
    Ok(json(StatusCode::OK, &results))
}
