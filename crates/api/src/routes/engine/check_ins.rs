//! Store check-ins and the store as a member sees it (its check-ins there). The policy
//! (distance, cooldown) is `kindling_domain::engine::check_in`'s; docs/API-DESIGN.md
//! describes it.

use crate::auth::Auth;
use crate::extract::ApiPath;
use crate::params::Params;
use crate::response::{empty_ok, single};
use crate::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use kindling_domain::{ChannelId, MemberId, StoreId, Timestamp};
use kindling_store::crud;
use kindling_store::engine::check_ins::{self, CheckInError};
use kindling_store::members::Members;
use kindling_store::offers::channels::Channels;
use serde_json::json;

/// `POST /v1.0/members/{member_id}/stores/{store_id}/check-in` (check_in_member_to_store):
/// 200 `{}` when counted; `check_in[lat]` and `check_in[lng]` (the member's position) are
/// required, in the query string or the body. A refused check-in is a 422 and records
/// nothing.
pub async fn check_in_member_to_store(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((member, store)): ApiPath<(MemberId, StoreId)>,
    req: Request,
) -> Result<Response, ApiError> {
    let params = Params::read(req, Some("check_in")).await?;
    let at = (params.number("lat")?, params.number("lng")?);
    if !(-90.0..=90.0).contains(&at.0) || !(-180.0..=180.0).contains(&at.1) {
        return Err(ApiError::BadRequest("check_in[lat] must be within ±90 and check_in[lng] within ±180".into()));
    }
    match check_ins::check_in(&state.db, auth.account, member, store, at).await {
        Ok(()) => Ok(empty_ok()),
        Err(CheckInError::MemberNotFound) => Err(ApiError::not_found("member")),
        Err(CheckInError::StoreNotFound) => Err(ApiError::not_found("store")),
        Err(CheckInError::Refused(refusal)) => Err(ApiError::Unprocessable(refusal.message())),
        Err(CheckInError::Store(e)) => Err(e.into()),
    }
}

/// `GET /v1.0/members/{member_id}/stores/{store_id}?x_channel_id=` (get_member_store):
/// `{"store": {id, name, total_check_ins, can_check_in}}`. The channel must be the
/// account's; check-ins are counted on every channel alike.
pub async fn get_member_store(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((member, store)): ApiPath<(MemberId, StoreId)>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let channel: ChannelId = Params::from_query(uri.query())?.id("x_channel_id")?;
    if !crud::contains_now::<Members>(&state.db, auth.account, member).await? {
        return Err(ApiError::not_found("member"));
    }
    let visit = check_ins::member_store_now(&state.db, auth.account, member, store)
        .await?
        .ok_or_else(|| ApiError::not_found("store"))?;
    if !crud::contains_now::<Channels>(&state.db, auth.account, channel).await? {
        return Err(ApiError::not_found("channel"));
    }
    let body = json!({
        "id": visit.id,
        "name": visit.name,
        "total_check_ins": visit.total_check_ins,
        "can_check_in": visit.can_check_in(Timestamp::now()),
    });
    Ok(single(StatusCode::OK, "store", &body))
}
