//! What an offer is linked to: channels (each link draws an `xid`), member lists, merchants
//! and store lists; plus the offer's settings on one channel.

use crate::auth::Auth;
use crate::extract::{ApiPath, Envelope, Enveloped};
use crate::links::LinkResource;
use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::offers::channel::EligibleChannelInput;
use kindling_domain::{ChannelId, OfferId};
use kindling_store::catalog::{merchants::Merchants, store_lists::StoreLists};
use kindling_store::crud;
use kindling_store::link_set::LinkSet;
use kindling_store::offers::channels::Channels;
use kindling_store::offers::member_lists::MemberLists;
use kindling_store::offers::{eligible_channels, offer as offers};
use serde_json::json;

macro_rules! offer_link {
    ($name:ident, $target:ty, $set:expr, $field:literal, $codes:expr) => {
        pub struct $name;

        impl LinkResource for $name {
            type Owner = offers::Offers;
            type Target = $target;
            const SET: &'static LinkSet<offers::Offers, $target> = &$set;
            const OWNER_PARAM: &'static str = "offer_id";
            const OWNER_NAME: &'static str = "offer";
            const KEY: &'static str = "offer";
            const FIELD: &'static str = $field;
            const CODES: [StatusCode; 3] = $codes;
        }
    };
}

const C: StatusCode = StatusCode::CREATED;
const OK: StatusCode = StatusCode::OK;

offer_link!(OfferChannels, Channels, offers::CHANNELS, "channel_ids", [C, C, C]);
offer_link!(OfferMemberLists, MemberLists, offers::MEMBER_LISTS, "member_list_ids", [C, C, C]);
offer_link!(OfferMerchants, Merchants, offers::MERCHANTS, "merchant_ids", [C, C, OK]);
offer_link!(OfferStoreLists, StoreLists, offers::STORE_LISTS, "store_list_ids", [C, C, OK]);

impl Enveloped for EligibleChannelInput {
    const KEY: &'static str = "eligible_channel";
}

async fn find(
    state: &AppState,
    auth: Auth,
    offer: OfferId,
    channel: ChannelId,
) -> Result<eligible_channels::EligibleChannel, ApiError> {
    eligible_channels::find(&state.db, auth.account, offer, channel).await?.ok_or_else(|| not_linked(offer, channel))
}

fn not_linked(offer: OfferId, channel: ChannelId) -> ApiError {
    ApiError::NotFound(format!("channel {channel} is not linked to offer {offer}"))
}

fn answer(status: StatusCode, eligible: &eligible_channels::EligibleChannel) -> Response {
    json(status, &json!({ "eligible_channel": eligible.view(), "errors": {} }))
}

/// `GET /v1.0/offers/{offer_id}/channels/{channel_id}`.
pub async fn get_offer_channel(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((offer, channel)): ApiPath<(OfferId, ChannelId)>,
) -> Result<Response, ApiError> {
    Ok(answer(StatusCode::OK, &find(&state, auth, offer, channel).await?))
}

/// `PUT /v1.0/offers/{offer_id}/channels/{channel_id}` (201): security, SMS keyword and
/// return-later. Turning security on draws a random `security_key`; turning it off clears it.
pub async fn update_offer_channel(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((offer, channel)): ApiPath<(OfferId, ChannelId)>,
    Envelope(input): Envelope<EligibleChannelInput>,
) -> Result<Response, ApiError> {
    // Answers "not linked" before judging the input; the write re-reads the row.
    find(&state, auth, offer, channel).await?;
    let channel_record = crud::get::<Channels>(&state.db, auth.account, &[], channel)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))?;
    let input = input.validate(&channel_record)?;
    let settings = eligible_channels::Settings {
        security: input.security.map(|s| Some(s).filter(|s| !s.trim().is_empty())),
        sms_keyword: input.sms_keyword,
        allow_return_later: input.allow_return_later,
        max_redemptions: input.max_redemptions,
    };
    if !eligible_channels::update_settings(&state.db, auth.account, offer, channel, settings).await? {
        return Err(not_linked(offer, channel));
    }
    Ok(answer(StatusCode::CREATED, &find(&state, auth, offer, channel).await?))
}
