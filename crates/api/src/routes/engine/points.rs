//! Loyalty points: a member's card (by `identifier`) on a channel, its balance and
//! transfers. Parameters come in the query string or the JSON body. The semantics are in
//! `kindling_domain::engine::points` and docs/API-DESIGN.md.

use crate::auth::Auth;
use crate::params::Params;
use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use kindling_domain::engine::points::{self, CardStatus};
use kindling_domain::ChannelId;
use kindling_store::engine::points::{self as store, PointsError};
use serde_json::json;

/// The spec's `points_card_status` (`{message}`), with the balance as a number too.
fn answer(status: StatusCode, card: &CardStatus) -> Response {
    json(status, &json!({ "message": card.message, "balance": card.balance, "errors": {} }))
}

fn refused(e: PointsError) -> ApiError {
    match e {
        PointsError::MemberNotFound => ApiError::NotFound("member not found with that identifier".into()),
        PointsError::ChannelNotFound => ApiError::not_found("channel"),
        PointsError::Overdrawn { balance } => ApiError::Unprocessable(format!(
            "Insufficient points: the card has {balance} points and no transfer may leave it below zero"
        )),
        PointsError::TxidReused => {
            ApiError::Conflict("txid was already used for a transfer of other points, member or channel".into())
        }
        PointsError::Store(e) => e.into(),
    }
}

/// `GET /v1.0/points/card_status?identifier=&channel_id=` (get_points_card_status): 200
/// with the card's balance (0 before any transfer).
pub async fn get_points_card_status(
    State(state): State<AppState>,
    auth: Auth,
    req: Request,
) -> Result<Response, ApiError> {
    let params = Params::read(req, None).await?;
    let identifier = params.identifier("identifier")?;
    let channel: ChannelId = params.id("channel_id")?;
    let balance = store::card_status(&state.db, auth.account, &identifier, channel).await.map_err(refused)?;
    Ok(answer(StatusCode::OK, &CardStatus::balance(balance)))
}

/// `POST /v1.0/points/transfer?identifier=&points=&txid=&channel_id=`
/// (transfer_loyalty_points): 201 with the balance after the transfer. A replayed `txid`
/// answers the first transfer's result and changes nothing.
pub async fn transfer_loyalty_points(
    State(state): State<AppState>,
    auth: Auth,
    req: Request,
) -> Result<Response, ApiError> {
    let params = Params::read(req, None).await?;
    let identifier = params.identifier("identifier")?;
    let channel: ChannelId = params.id("channel_id")?;
    let transfer = points::transfer(params.int("points")?, &params.text("txid")?).map_err(ApiError::BadRequest)?;
    let location = format!(
        "/v1.0/points/card_status?{}",
        serde_urlencoded::to_string([("identifier", identifier.as_str()), ("channel_id", &channel.to_string())])
            .unwrap_or_default()
    );
    let done = store::transfer(&state.db, auth.account, identifier, channel, transfer).await.map_err(refused)?;
    let mut response = answer(StatusCode::CREATED, &CardStatus::transferred(done.points, done.balance));
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}
