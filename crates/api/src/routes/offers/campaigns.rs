//! Campaigns: the offer×channel row with campaign fields. `POST /v1.0/campaigns` (200) names
//! the channel by `channel_name`, found or created in the account.

use crate::auth::Auth;
use crate::extract::{ApiPath, ApiQuery, Envelope, Enveloped, PageQuery};
use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::fields;
use kindling_domain::offers::campaign::{numbers, FIELDS};
use kindling_domain::offers::offer::is_active;
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::{ChannelId, EligibleChannelId, FieldErrors, OfferId, Timestamp};
use kindling_store::crud::{self, Assignments};
use kindling_store::offers::campaigns::{self, Campaign, Created, Lookup};
use kindling_store::offers::channels::Channels;
use kindling_store::offers::offer::field_values;
use kindling_store::{StoreError, Value};
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;

#[derive(Deserialize)]
#[serde(transparent)]
pub struct CampaignBody(Map<String, Json>);

impl Enveloped for CampaignBody {
    const KEY: &'static str = "campaign";
}

fn campaign_values(body: &Map<String, Json>, errors: &mut FieldErrors) -> Assignments {
    let mut values = field_values(fields::parse(body, FIELDS, errors));
    for key in ["eligible_store_numbers", "eligible_storelist_numbers"] {
        match body.get(key) {
            None => {}
            Some(Json::Null) => values.push((key, Value::Text(None))),
            Some(list) => match numbers(list) {
                Some(list) => values.push((key, Json::from(list).to_string().into())),
                None => errors.add(key, "must be an array of store numbers"),
            },
        }
    }
    values
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
    let mut errors = FieldErrors::new();
    let offer = match body.get("offer_id") {
        Some(Json::Number(n)) if n.as_i64().is_some() => n.as_i64().map(OfferId),
        Some(_) => {
            errors.add("offer_id", "must be an integer");
            None
        }
        None => {
            errors.add("offer_id", "can't be blank");
            None
        }
    };
    // The cap counts characters (as every text field's does), not UTF-8 bytes.
    let channel_name = match body.get("channel_name") {
        Some(Json::String(s)) if s.trim().is_empty() => {
            errors.add("channel_name", "can't be blank");
            None
        }
        Some(Json::String(s)) if s.chars().count() > kindling_domain::input::MAX_TEXT => {
            errors.add("channel_name", "is too long (maximum is 255 characters)");
            None
        }
        Some(Json::String(s)) => Some(s.trim().to_owned()),
        Some(_) => {
            errors.add("channel_name", "must be a string");
            None
        }
        None => {
            errors.add("channel_name", "can't be blank");
            None
        }
    };
    let values = campaign_values(&body, &mut errors);
    let (Some(offer), Some(channel_name)) = (offer, channel_name) else {
        return Err(errors.into());
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
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
    let mut errors = FieldErrors::new();
    same_row(&current, &body, &mut errors);
    let values = campaign_values(&body, &mut errors);
    if !errors.is_empty() {
        return Err(errors.into());
    }
    if !campaigns::update(&state.db, auth.account, id, current.offer_id, values).await.map_err(unique)? {
        return Err(ApiError::not_found("campaign"));
    }
    Ok(answer(StatusCode::OK, &one(&state, auth, id).await?))
}

/// A campaign is its offer's link to one channel, so `offer_id` and `channel_name` name the
/// row: a PUT may repeat them (a client's round trip) but not change them, which was
/// silently ignored before.
fn same_row(current: &Campaign, body: &Map<String, Json>, errors: &mut FieldErrors) {
    const MOVED: &str = "cannot change: a campaign is one offer's link to one channel (create another campaign)";
    match body.get("offer_id") {
        None | Some(Json::Null) => {}
        Some(offer) if offer.as_i64() == Some(current.offer_id.0) => {}
        Some(_) => errors.add("offer_id", MOVED),
    }
    match body.get("channel_name") {
        None | Some(Json::Null) => {}
        Some(Json::String(name)) if name.trim() == current.channel_name => {}
        Some(_) => errors.add("channel_name", MOVED),
    }
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
