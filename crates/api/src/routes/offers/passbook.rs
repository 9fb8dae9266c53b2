//! An offer's passbook (Apple Wallet) settings: one per offer; secrets are write-only.

use crate::auth::Auth;
use crate::extract::{ApiPath, Envelope, Enveloped};
use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::{FieldErrors, OfferId};
use kindling_store::offers::offer::Offers;
use kindling_store::offers::passbook::{self, SETTINGS};
use kindling_store::{crud, StoreError};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
#[serde(transparent)]
pub struct PassbookBody(Map<String, Value>);

impl Enveloped for PassbookBody {
    const KEY: &'static str = "passbook_configuration";
}

fn settings(body: &Map<String, Value>) -> Result<Vec<(&'static str, Option<String>)>, ApiError> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for name in SETTINGS {
        match body.get(name) {
            None => {}
            Some(Value::Null) => out.push((name, None)),
            Some(Value::String(s)) if s.len() <= 1_000_000 => out.push((name, Some(s.clone()))),
            Some(_) => errors.add(name, "must be a string"),
        }
    }
    errors.into_result(out).map_err(Into::into)
}

async fn offer_exists(state: &AppState, auth: Auth, offer: OfferId) -> Result<(), ApiError> {
    if crud::contains_now::<Offers>(&state.db, auth.account, offer).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("offer"))
    }
}

async fn answer(state: &AppState, auth: Auth, offer: OfferId, status: StatusCode) -> Result<Response, ApiError> {
    let config = passbook::get(&state.db, auth.account, offer)
        .await?
        .ok_or_else(|| ApiError::not_found("passbook_configuration"))?;
    Ok(json(status, &json!({ "passbook_configuration": config.view(), "errors": {} })))
}

pub async fn get_passbook(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(offer): ApiPath<OfferId>,
) -> Result<Response, ApiError> {
    offer_exists(&state, auth, offer).await?;
    answer(&state, auth, offer, StatusCode::OK).await
}

/// `POST` creates (201); a second `POST` is a 400.
pub async fn create_passbook(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(offer): ApiPath<OfferId>,
    Envelope(PassbookBody(body)): Envelope<PassbookBody>,
) -> Result<Response, ApiError> {
    offer_exists(&state, auth, offer).await?;
    let settings = settings(&body)?;
    match passbook::create(&state.db, auth.account, offer, &settings).await {
        Ok(()) => answer(&state, auth, offer, StatusCode::CREATED).await,
        Err(StoreError::Unique(_)) => {
            Err(ApiError::BadRequest("passbook_configuration already exists for this offer; use PUT".into()))
        }
        // The offer deleted meanwhile.
        Err(StoreError::ForeignKey) => Err(ApiError::not_found("offer")),
        Err(e) => Err(e.into()),
    }
}

/// `PUT` updates the settings given, creating the configuration if there is none (201).
pub async fn update_passbook(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(offer): ApiPath<OfferId>,
    Envelope(PassbookBody(body)): Envelope<PassbookBody>,
) -> Result<Response, ApiError> {
    offer_exists(&state, auth, offer).await?;
    let settings = settings(&body)?;
    passbook::upsert(&state.db, auth.account, offer, &settings).await.map_err(|e| match e {
        StoreError::ForeignKey => ApiError::not_found("offer"),
        other => other.into(),
    })?;
    answer(&state, auth, offer, StatusCode::CREATED).await
}

/// `DELETE` answers 201 with no body, as the spec lists it.
pub async fn delete_passbook(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(offer): ApiPath<OfferId>,
) -> Result<Response, ApiError> {
    offer_exists(&state, auth, offer).await?;
    if passbook::delete(&state.db, auth.account, offer).await? {
        Ok(json(StatusCode::CREATED, &json!({})))
    } else {
        Err(ApiError::not_found("passbook_configuration"))
    }
}
