//! `POST /v1.0/members/offer_states/issue` (issue-offer, from the core-ops spec): high-throughput
//! issuance of an offer state by campaign xid. The state is the wallet's (its own credential,
//! the same rules and refusals), answered with the short record the operation defines.
//! Concurrent requests are issued in batches (`issuance::Issuer`), each answered on its own.

use super::offer_states::refused;
use crate::auth::Auth;
use crate::extract::wrapped_object;
use crate::response::single;
use crate::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::member::Identifier;
use kindling_domain::offer_state::Changes;
use kindling_domain::MemberId;
use kindling_store::issuance::{Issue, Issued, Recipient};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};

const KEY: &str = "offer_state";

/// The `offer_state` object, read strictly: the operation takes its fields in the body only.
fn parse(input: &Map<String, Value>) -> Result<Issue, ApiError> {
    let field = |key: &str| input.get(key).filter(|v| !v.is_null());
    let campaign_xid = match field("campaign_id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) | None => return Err(ApiError::BadRequest("campaign_id is required".into())),
        Some(_) => return Err(ApiError::BadRequest("campaign_id must be a string (the campaign's xid)".into())),
    };
    let recipient = match (field("member_id"), field("member_identifier")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest("give member_id or member_identifier, not both".into()));
        }
        (None, None) => return Err(ApiError::BadRequest("member_id or member_identifier is required".into())),
        (Some(id), None) => match kindling_domain::input::int_value(id) {
            Some(id) if id > 0 => Recipient::Id(MemberId(id)),
            _ => return Err(ApiError::BadRequest("member_id must be a positive integer".into())),
        },
        (None, Some(Value::String(identifier))) => Recipient::Identifier(
            Identifier::parse(identifier.clone())
                .map_err(|m| ApiError::BadRequest(format!("member_identifier {m}")))?,
        ),
        (None, Some(_)) => return Err(ApiError::BadRequest("member_identifier must be a string".into())),
    };
    let changes = Changes::parse(input)?;
    Ok(Issue {
        campaign_xid,
        recipient,
        activates_at: changes.activates_at.flatten(),
        expires_at: changes.expires_at.flatten(),
        external_ref_id: changes.external_ref_id.flatten(),
    })
}

/// The operation's `offer_state`: the state's own dates (`null` when the request gave none).
struct Shown<'a>(&'a Issued);

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let issued = self.0;
        let time = |t: Option<kindling_domain::Timestamp>| t.map(|t| t.to_string());
        let mut map = s.serialize_map(Some(7))?;
        map.serialize_entry("id", &issued.id)?;
        map.serialize_entry("member_id", &issued.member_id)?;
        map.serialize_entry("offer_id", &issued.offer_id)?;
        map.serialize_entry("campaign_id", &issued.campaign_xid)?;
        map.serialize_entry("activates_at", &time(issued.activates_at))?;
        map.serialize_entry("expires_at", &time(issued.expires_at))?;
        map.serialize_entry("credential_identifier", &issued.credential_identifier)?;
        map.end()
    }
}

/// `POST /v1.0/members/offer_states/issue` (issue_offer): 201 with the issued state.
pub async fn issue_offer(State(state): State<AppState>, auth: Auth, req: Request) -> Result<Response, ApiError> {
    let Value::Object(input) = wrapped_object(req, KEY).await? else {
        return Err(ApiError::BadRequest(format!("{KEY} must be an object")));
    };
    let issued = state.issuer.write(auth.account, parse(&input)?).await.map_err(refused)?;
    Ok(single(StatusCode::CREATED, KEY, &Shown(&issued)))
}
