//! Member Offers (Offer Wallet): offers saved to members, each with its own credential.
//! Issuing goes through the credential rules and answers their refusals as
//! `POST /v1.0/credentials` does; `channel_id`, `offer_id` and `token` come in the query
//! string or the body (top level or inside `offer_state`), the body first.

use crate::auth::Auth;
use crate::extract::{wrapped_object, ApiPath, ApiQuery, PageQuery};
use crate::response::{empty_ok, paged, single};
use crate::{ApiError, AppState};
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::offer_state::Changes;
use kindling_domain::{ChannelId, MemberId, OfferId, OfferStateId};
use kindling_store::credentials::write::WriteError;
use kindling_store::crud;
use kindling_store::members::Members;
use kindling_store::offer_states::{self, Holder, Listing, NewState, StateError, Transfer};
use serde_json::{Map, Value};

const KEY: &str = "offer_state";

pub(crate) fn refused(e: StateError) -> ApiError {
    match e {
        StateError::NotFound(message) => ApiError::NotFound(message.into()),
        StateError::Credential(WriteError::Refused(refusal)) => ApiError::BadRequest(refusal.message()),
        StateError::Credential(WriteError::Invalid(message)) => ApiError::BadRequest(message),
        StateError::Credential(WriteError::Conflict(message)) => ApiError::Conflict(message),
        StateError::Credential(WriteError::NotFound) => ApiError::not_found("credential"),
        StateError::Credential(WriteError::Store(e)) | StateError::Store(e) => e.into(),
        StateError::Window(errors) => ApiError::Invalid(errors),
        StateError::Unprocessable(message) => ApiError::Unprocessable(message.into()),
    }
}

/// The last non-empty value of `key` in the query string.
fn query_value<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query.iter().rev().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str())
}

fn int(key: &str, value: Option<&Value>, query: &[(String, String)]) -> Result<Option<i64>, ApiError> {
    let bad = || ApiError::BadRequest(format!("{key} must be an integer"));
    match value {
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
        Some(Value::Null) | None => {
            query_value(query, key).map(|raw| raw.trim().parse().map_err(|_| bad())).transpose()
        }
        Some(_) => Err(bad()),
    }
}

/// `POST /members/{member_id}/offer_states` parameters: the `offer_state` object and the
/// query string.
pub struct Params {
    top: Map<String, Value>,
    state: Map<String, Value>,
    query: Vec<(String, String)>,
}

impl FromRequest<AppState> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &AppState) -> Result<Self, ApiError> {
        let parts = crate::params::Params::read(req, Some(KEY)).await?.into_parts();
        Ok(Self { top: parts.top, state: parts.inner, query: parts.query })
    }
}

impl Params {
    fn get(&self, key: &str) -> Option<&Value> {
        self.state.get(key).filter(|v| !v.is_null()).or_else(|| self.top.get(key))
    }

    fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        int(key, self.get(key), &self.query)
    }

    fn token(&self) -> Result<Option<String>, ApiError> {
        match self.get("token") {
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(Value::String(_) | Value::Null) | None => Ok(query_value(&self.query, "token").map(str::to_owned)),
            Some(_) => Err(ApiError::BadRequest("token must be a string".into())),
        }
    }
}

async fn answer(state: &AppState, auth: &Auth, member: MemberId, id: OfferStateId) -> Result<Response, ApiError> {
    let found = offer_states::get(&state.db, auth.account, member, id).await?;
    let found = found.ok_or_else(|| ApiError::NotFound(offer_states::NOT_FOUND.into()))?;
    Ok(single(StatusCode::OK, KEY, &found))
}

/// `GET /v1.0/members/offer_states?token=&credential_identifier=` (get_members_with_offer_states):
/// the account's states holding that token and/or code; one of the two is required.
pub async fn get_members_with_offer_states(
    State(state): State<AppState>,
    auth: Auth,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let token = query_value(&query, "token").map(str::to_owned);
    let credential_identifier = query_value(&query, "credential_identifier").map(str::to_owned);
    if token.is_none() && credential_identifier.is_none() {
        return Err(ApiError::BadRequest("token or credential_identifier is required".into()));
    }
    let listing = Listing::Search { token, credential_identifier };
    let page = offer_states::list(&state.db, auth.account, listing, page).await?;
    Ok(paged("offer_states", KEY, &page))
}

/// `GET /v1.0/members/{member_id}/offer_states?channel_id=` (get_member_offer_states).
pub async fn get_member_offer_states(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(member): ApiPath<MemberId>,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    if !crud::contains_now::<Members>(&state.db, auth.account, member).await? {
        return Err(ApiError::NotFound(offer_states::MEMBER_NOT_FOUND.into()));
    }
    let channel =
        int("channel_id", None, &query)?.ok_or_else(|| ApiError::BadRequest("channel_id is required".into()))?;
    let listing = Listing::Member(member, ChannelId(channel));
    let page = offer_states::list(&state.db, auth.account, listing, page).await?;
    Ok(paged("offer_states", KEY, &page))
}

/// `POST /v1.0/members/{member_id}/offer_states` (create_member_offer_state): 200. With a
/// `token`, transfers the state holding it to this member; otherwise issues a new one.
pub async fn create_member_offer_state(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(member): ApiPath<MemberId>,
    params: Params,
) -> Result<Response, ApiError> {
    let channel_id = params.int("channel_id")?.map(ChannelId);
    let offer_id = params.int("offer_id")?.map(OfferId);
    let id = match params.token()? {
        Some(token) => {
            let transfer = Transfer { token, channel_id, offer_id };
            offer_states::transfer(&state.db, auth.account, member, transfer).await.map_err(refused)?
        }
        None => {
            let changes = Changes::parse(&params.state)?;
            let offer_id = offer_id.ok_or_else(|| ApiError::BadRequest("offer_id is required".into()))?;
            let new = NewState { channel_id, offer_id, changes };
            offer_states::issue(&state.db, auth.account, member, new).await.map_err(refused)?
        }
    };
    answer(&state, &auth, member, id).await
}

/// `GET /v1.0/members/{member_id}/offer_states/{offer_state_id}` (get_member_offer_state).
pub async fn get_member_offer_state(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((member, id)): ApiPath<(MemberId, OfferStateId)>,
) -> Result<Response, ApiError> {
    answer(&state, &auth, member, id).await
}

/// `PUT /v1.0/members/{member_id}/offer_states/{offer_state_id}` (update_member_offer_state):
/// `{"offer_state": {...}}` is required, its fields optional; `null` clears a date (the
/// offer's applies again).
pub async fn update_member_offer_state(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((member, id)): ApiPath<(MemberId, OfferStateId)>,
    req: Request,
) -> Result<Response, ApiError> {
    let Value::Object(input) = wrapped_object(req, KEY).await? else {
        return Err(ApiError::BadRequest(format!("{KEY} must be an object")));
    };
    let changes = Changes::parse(&input)?;
    offer_states::update(&state.db, auth.account, member, id, changes).await.map_err(refused)?;
    answer(&state, &auth, member, id).await
}

/// `POST /v1.0/members/{member_id}/offer_states/{offer_state_id}/void` (void_member_offer_state):
/// 200 with `{}` (the spec lists no body), 422 when already voided.
pub async fn void_member_offer_state(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((member, id)): ApiPath<(MemberId, OfferStateId)>,
) -> Result<Response, ApiError> {
    offer_states::void(&state.db, auth.account, Holder::Id(member), id).await.map_err(refused)?;
    Ok(empty_ok())
}

/// `POST /v1.0/members/offer_states/{offer_state_id}/void?member_identifier=`
/// (void_offer_state_by_member_identifier).
pub async fn void_offer_state_by_member_identifier(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<OfferStateId>,
    ApiQuery(query): ApiQuery<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let identifier = query_value(&query, "member_identifier")
        .ok_or_else(|| ApiError::BadRequest("member_identifier is required".into()))?;
    offer_states::void(&state.db, auth.account, Holder::Identifier(identifier.to_owned()), id)
        .await
        .map_err(refused)?;
    Ok(empty_ok())
}
