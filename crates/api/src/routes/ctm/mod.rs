//! The point of sale (CTM, from the core-ops spec): show a ticket its discounts, hold and
//! release codes for it, settle it, and read or void it afterwards. Served under `/v1.0`
//! and at the root, as POS integrations are configured either way. docs/POS.md has every
//! decision the spec leaves open.

mod request;
mod response;

use crate::auth::Auth;
use crate::extract::{read_body, ApiPath, ApiQuery};
use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::pos::Reason;
use kindling_domain::OfferId;
use kindling_store::pos::{self, PosError, Settlement};
use request::{basket, body_object, closing, codes, selected, ticket_key};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

impl From<PosError> for ApiError {
    fn from(e: PosError) -> Self {
        match e {
            PosError::Refused(_, words) | PosError::Invalid(words) => ApiError::Unprocessable(words),
            PosError::Closed => {
                ApiError::Unprocessable("Transaction has already been closed with a different request".into())
            }
            PosError::NotFound => ApiError::not_found("transaction"),
            PosError::UnknownSite(site) => ApiError::NotFound(format!("Store not found, with site_id: {site}")),
            PosError::Store(e) => e.into(),
        }
    }
}

/// A refusal the POS can act on: the guide's words and the stable reason code.
fn refused(reason: Reason, words: String) -> Response {
    json(StatusCode::UNPROCESSABLE_ENTITY, &json!({"error": words, "code": reason.code()}))
}

/// The optional query parameters of the CTM operations.
#[derive(Debug, Deserialize, Default)]
pub struct CtmQuery {
    offer_id: Option<String>,
    credential_identifier: Option<String>,
}

fn offer_param(raw: Option<&str>) -> Result<Option<OfferId>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|i| *i > 0)
            .map(|i| Some(OfferId(i)))
            .ok_or_else(|| ApiError::Unprocessable("offer_id must be an offer id".into())),
    }
}

/// What show and update read from a request: the ticket, the codes, the cashier's offers, the
/// basket and the ticket's own facts, and the body as sent (a retry is recognised by it).
struct Ticket {
    key: kindling_store::pos::TicketKey,
    bytes: bytes::Bytes,
    codes: Vec<String>,
    only: Option<Vec<OfferId>>,
    basket: request::Basket,
    facts: kindling_store::pos::TicketFacts,
}

async fn read(site_id: &str, credential: Option<&str>, req: Request) -> Result<Ticket, ApiError> {
    let key = ticket_key(site_id, req.headers())?;
    let bytes = read_body(req.into_body()).await?;
    let body = body_object(&bytes)?;
    Ok(Ticket {
        key,
        codes: codes(credential, &body)?,
        only: selected(&body)?,
        basket: basket(&body)?,
        // Read on show too, only to refuse wrong types: the totals are the update's business.
        facts: closing(&body)?,
        bytes,
    })
}

/// Show (`GET /ctm/members/{site_id}/{credential}` with a body, and v2 `PUT`): what the
/// codes give this basket now. No side effects.
pub async fn show_member(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((site_id, credential)): ApiPath<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let t = read(&site_id, Some(&credential), req).await?;
    let shown = pos::show(&state.db, auth.account, &t.key, &t.codes, t.only.as_deref(), &t.basket.lines).await?;
    Ok(json(StatusCode::OK, &response::show(auth.account, &shown, &t.basket)))
}

/// Update (`PUT /ctm/members/{site_id}[/{credential}]`, v2 `POST`): settles the ticket.
async fn update(
    state: AppState,
    auth: Auth,
    site_id: String,
    credential: Option<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let t = read(&site_id, credential.as_deref(), req).await?;
    // A retry sends the same request: its path code and body bytes.
    let mut digest = Sha256::new();
    digest.update(credential.as_deref().unwrap_or_default().as_bytes());
    digest.update([0]);
    digest.update(&t.bytes);
    let basket = t.basket;
    let settlement = Settlement {
        codes: t.codes,
        only: t.only,
        lines: basket.lines.clone(),
        items: basket.items.clone(),
        facts: t.facts,
        hash: hex::encode(digest.finalize()),
    };
    let account = auth.account;
    let render =
        move |shown: &pos::Shown| serde_json::to_string(&response::show(account, shown, &basket)).unwrap_or_default();
    let settled = pos::settle(&state.db, account, t.key, settlement, render).await?;
    let mut response = Response::new(axum::body::Body::from(settled.response));
    response
        .headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static(crate::response::JSON_UTF8));
    Ok(response)
}

pub async fn update_member(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((site_id, credential)): ApiPath<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    update(state, auth, site_id, Some(credential), req).await
}

pub async fn update_site(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(site_id): ApiPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    update(state, auth, site_id, None, req).await
}

/// `POST /ctm/allocate/{site_id}/{credential}?offer_id`: holds the code (and the offer, or
/// all its offers) for this ticket until it settles, is released, or the hold expires.
pub async fn allocate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((site_id, credential)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<CtmQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let key = ticket_key(&site_id, req.headers())?;
    let offer = offer_param(q.offer_id.as_deref())?;
    match pos::allocate(&state.db, auth.account, key, credential.clone(), offer).await {
        Ok(held) => Ok(json(
            StatusCode::OK,
            &json!({
                "allocated": true,
                "transaction_id": held.transaction_id,
                "credential_identifier": credential,
                "offer_ids": held.offer_ids,
                "expires_at": held.expires_at,
            }),
        )),
        Err(PosError::Refused(reason, words)) => Ok(refused(reason, words)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /ctm/deallocate/{site_id}?credential_identifier`: releases the ticket's hold on the
/// code (without one: all the ticket's holds). Releasing nothing is not an error.
pub async fn deallocate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(site_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<CtmQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let key = ticket_key(&site_id, req.headers())?;
    offer_param(q.offer_id.as_deref())?;
    let code = q.credential_identifier.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    let released = pos::deallocate(&state.db, auth.account, key, code).await?;
    Ok(json(StatusCode::OK, &json!({"released": released})))
}

/// `POST /ctm/qitems/{site_id}/{credential}`: the POS reports which lines carried a reward.
/// Kept with the ticket for reporting; no effect on prices.
pub async fn qitems(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((site_id, credential)): ApiPath<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let key = ticket_key(&site_id, req.headers())?;
    let body = body_object(&read_body(req.into_body()).await?)?;
    for key in [
        "RewardId",
        "RemoteId",
        "Instant",
        "LineNumber",
        "Method",
        "DescShort",
        "DescLong",
        "SparkflyIdentifier",
        "Identifier",
        "Auth",
        "CampaignID",
        "ExternalRefID",
    ] {
        if body.get(key).is_some_and(|v| !v.is_string() && !v.is_null()) {
            return Err(ApiError::Unprocessable(format!("{key} must be a string")));
        }
    }
    for key in ["Value", "Tip", "Quantity"] {
        if body.get(key).is_some_and(|v| !v.is_i64() && !v.is_null()) {
            return Err(ApiError::Unprocessable(format!("{key} must be an integer")));
        }
    }
    if body.get("Items").is_some_and(|v| !v.is_array() && !v.is_null()) {
        return Err(ApiError::Unprocessable("Items must be an array".into()));
    }
    if body.get("Voided").is_some_and(|v| !v.is_boolean() && !v.is_null()) {
        return Err(ApiError::Unprocessable("Voided must be a boolean".into()));
    }
    let id = pos::record_qitems(&state.db, auth.account, key, credential, serde_json::Value::Object(body).to_string())
        .await?;
    Ok(json(StatusCode::OK, &json!({"transaction_id": id})))
}

/// `GET /v2/ctm/customposmessages`: the reason codes a refusal carries, with their words.
pub async fn custom_messages(_auth: Auth) -> Response {
    let messages: serde_json::Map<String, serde_json::Value> =
        Reason::ALL.iter().map(|r| (r.code().to_owned(), json!(r.message()))).collect();
    json(StatusCode::OK, &json!({"messages": messages}))
}

/// `GET /v2/ctm/stores`: the account's stores a POS can name by `site_id`.
pub async fn stores(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let sites = pos::sites(&state.db, auth.account).await?;
    let stores: Vec<_> = sites
        .into_iter()
        .map(|s| json!({"store_id": s.store_id, "site_id": s.site_id, "number": s.number, "name": s.name}))
        .collect();
    Ok(json(StatusCode::OK, &json!({"stores": stores})))
}

/// `GET /transactions/{transaction_id}`: a settled ticket with its lines, totals,
/// redemptions and codes.
pub async fn get_transaction(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let view =
        pos::transaction(&state.db, auth.account, id).await?.ok_or_else(|| ApiError::not_found("transaction"))?;
    Ok(json(StatusCode::OK, &json!({"transaction": transaction_json(&view)})))
}

/// `POST /v1.0/transactions/{transaction_id}/void` (Kindling): voids a settled ticket and
/// gives every redemption back.
pub async fn void_transaction(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let view = pos::void(&state.db, auth.account, id).await?;
    Ok(json(StatusCode::OK, &json!({"transaction": transaction_json(&view)})))
}

fn transaction_json(view: &pos::TransactionView) -> serde_json::Value {
    json!({
        "id": view.id,
        "status": view.status,
        "transaction_identifier": view.transaction_identifier,
        "receipt_id": view.receipt_id.clone().unwrap_or_default(),
        "totals": {
            "paid": view.paid, "discount": view.discount, "subtotal": view.subtotal,
            "service_charge": view.service_charge, "tax": view.tax, "total": view.total,
        },
        "external_id": "",
        "store_number": view.store_number.clone().unwrap_or_default(),
        "store_id": view.store_id,
        "occurred_at": view.occurred_at,
        "transaction_items": view.items.iter().map(|i| json!({
            "id": i.id, "name": i.name, "item_code": i.item_code, "quantity": i.quantity,
            "ext_price": i.ext_price, "amount": i.amount,
        })).collect::<Vec<_>>(),
        "redemptions": view.redemptions.iter().map(|r| json!({
            "id": r.id,
            "offer_state_id": r.offer_state_id,
            "amount": r.amount,
            "voided": r.voided,
            "campaign": {
                "id": r.campaign_id,
                "external_id": r.campaign_external_id.clone().unwrap_or_default(),
                "xid": r.campaign_xid.clone().unwrap_or_default(),
                "name": r.campaign_name.clone().unwrap_or_default(),
                "offer": {"id": r.offer_id, "name": r.offer_name, "description": r.offer_description.clone().unwrap_or_default()},
            },
        })).collect::<Vec<_>>(),
        "applied_credentials": view.credentials.iter().map(|c| json!({
            "id": c.id, "identifier": c.identifier.clone().unwrap_or_default(),
            "type": if c.offer_state { 1 } else { 0 }, "member_id": c.member_id,
        })).collect::<Vec<_>>(),
    })
}
