//! POS offer codes, read-only: the spec has no call to create one. An offer's or campaign's
//! `pos_offer_code` registers it (`kindling_store::pos_offer_codes::register`).

use crate::auth::Auth;
use crate::extract::{ApiPath, PageQuery};
use crate::response::{paged, single};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::PosOfferCodeId;
use kindling_store::crud;
use kindling_store::pos_offer_codes::PosOfferCodes;

/// `GET /v1.0/pos_offer_codes` (get_pos_offer_codes): the account's codes in id order.
pub async fn get_pos_offer_codes(
    State(state): State<AppState>,
    auth: Auth,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    let page = crud::list::<PosOfferCodes>(&state.db, auth.account, &[], &[], page).await?;
    Ok(paged("pos_offer_codes", "pos_offer_code", &page))
}

/// `GET /v1.0/pos_offer_codes/{pos_offer_code_id}` (get_pos_offer_code).
pub async fn get_pos_offer_code(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<PosOfferCodeId>,
) -> Result<Response, ApiError> {
    let code = crud::get::<PosOfferCodes>(&state.db, auth.account, &[], id)
        .await?
        .ok_or_else(|| ApiError::not_found("pos_offer_code"))?;
    Ok(single(StatusCode::OK, "pos_offer_code", &code))
}
