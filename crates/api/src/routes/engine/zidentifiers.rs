//! Zidentifiers: a member's random number for one offer on one channel, made by the first
//! `GET` that asks for it (capability map §5 #39) and found again by that number.

use crate::auth::Auth;
use crate::extract::ApiPath;
use crate::params::Params;
use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use kindling_domain::engine::zid::looks_like_zid;
use kindling_domain::{ChannelId, MemberId, OfferId};
use kindling_store::engine::zidentifiers::{self, Missing, Zidentifier};
use serde_json::json;

/// The spec's `z_identifier_response` has the root key `manufacturer` (capability map §5
/// #10); `z_identifier` carries the same object under its own name.
fn answer(zid: &Zidentifier) -> Response {
    json(StatusCode::OK, &json!({ "manufacturer": zid, "z_identifier": zid, "errors": {} }))
}

/// `GET /v1.0/members/{member_id}/offers/{offer_id}/zidentifiers?x_channel_id=`
/// (create_z_identifier): 200 with the member's zid for the offer on the channel, the same
/// one on every call. The offer must be on the channel (an eligible channel); a member,
/// offer or channel the account lacks is a 404.
pub async fn create_z_identifier(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((member, offer)): ApiPath<(MemberId, OfferId)>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let channel: ChannelId = Params::from_query(uri.query())?.id("x_channel_id")?;
    match zidentifiers::get_or_create(&state.db, auth.account, member, offer, channel).await? {
        Ok(zid) => Ok(answer(&zid)),
        Err(Missing::Member) => Err(ApiError::not_found("member")),
        Err(Missing::Offer) => Err(ApiError::not_found("offer")),
        Err(Missing::Channel) => Err(ApiError::not_found("channel")),
        Err(Missing::OfferNotOnChannel) => {
            Err(ApiError::NotFound(format!("channel {channel} is not linked to offer {offer}")))
        }
    }
}

/// `GET /v1.0/members/zidentifiers/{zid}` (get_z_identifier): the zidentifier by its zid
/// (or, failing that, by its id; §5 #20). Anything but digits names none: 404.
pub async fn get_z_identifier(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(zid): ApiPath<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("zidentifier");
    if !looks_like_zid(&zid) {
        return Err(not_found());
    }
    let found = zidentifiers::find(&state.db, auth.account, &zid).await?.ok_or_else(not_found)?;
    Ok(answer(&found))
}
