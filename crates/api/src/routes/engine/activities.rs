//! A member's activity feeds: offer activities (issue, redeem, void of their credentials)
//! and their redeemed credentials, as the credentials API shows them.

use crate::auth::Auth;
use crate::extract::{ApiPath, PageQuery};
use crate::response::paged;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use kindling_domain::paging::PageRequest;
use kindling_domain::{MemberId, StoreId};
use kindling_store::catalog::stores::Stores;
use kindling_store::credentials::Credentials;
use kindling_store::crud;
use kindling_store::engine::activities::{self, OfferActivities};
use kindling_store::members::Members;

use crate::params::Params;

async fn member_in_account(state: &AppState, auth: &Auth, member: MemberId) -> Result<(), ApiError> {
    match crud::contains_now::<Members>(&state.db, auth.account, member).await? {
        true => Ok(()),
        false => Err(ApiError::not_found("member")),
    }
}

/// `GET /v1.0/activities/offers?member_id=` (get_member_offer_activities): the member's
/// offer activities, oldest first, in `collection`. `member_id` is required and must be
/// the account's member (404 otherwise).
pub async fn get_member_offer_activities(
    State(state): State<AppState>,
    auth: Auth,
    PageQuery(page): PageQuery,
    uri: Uri,
) -> Result<Response, ApiError> {
    let member: MemberId = Params::from_query(uri.query())?.id("member_id")?;
    member_in_account(&state, &auth, member).await?;
    let filters = [activities::of_member(member)];
    let page = crud::list::<OfferActivities>(&state.db, auth.account, &[], &filters, page).await?;
    Ok(paged("collection", "offer_activity", &page))
}

async fn redemptions(
    state: &AppState,
    auth: Auth,
    member: MemberId,
    store: Option<StoreId>,
    page: PageRequest,
) -> Result<Response, ApiError> {
    member_in_account(state, &auth, member).await?;
    if let Some(store) = store {
        if !crud::contains_now::<Stores>(&state.db, auth.account, store).await? {
            return Err(ApiError::not_found("store"));
        }
    }
    let filters = [activities::redeemed_by(member, store)];
    let page = crud::list::<Credentials>(&state.db, auth.account, &[], &filters, page).await?;
    Ok(paged("credentials", "credential", &page))
}

/// `GET /v1.0/members/{member_id}/activities/redemptions` (get_member_redemptions): the
/// member's credentials with a redemption that was not voided, in `credentials`.
pub async fn get_member_redemptions(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(member): ApiPath<MemberId>,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    redemptions(&state, auth, member, None, page).await
}

/// `GET /v1.0/members/{member_id}/stores/{store_id}/activities/redemptions`
/// (get_member_store_redemptions): the same, redeemed at that store.
pub async fn get_member_store_redemptions(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((member, store)): ApiPath<(MemberId, StoreId)>,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    redemptions(&state, auth, member, Some(store), page).await
}
