//! Credentials: issue, look up, change, check eligibility, redeem and void. Parameters come
//! in the JSON body (`{"credential": {...}}`) or the query string (`?member_id=&offer_ids=1,2`,
//! repeated keys, `offer_ids[]`); the body wins.

use crate::auth::Auth;
use crate::extract::{ApiPath, ApiQuery, PageQuery};
use crate::response::{created, json, paged, single};
use crate::{ApiError, AppState};
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use kindling_domain::credentials::annotations;
use kindling_domain::{ChannelId, CredentialId, MemberId, OfferId, StoreId};
use kindling_store::credentials::redeem_many::Redemption;
use kindling_store::credentials::write::{self, CredentialInput, WriteError};
use kindling_store::credentials::{load_in, Credentials};
use kindling_store::crud::{self, Filter};
use kindling_store::Reader;
use serde_json::{json, Map, Value};

/// Query and body parameters merged, body first.
pub struct Params {
    body: Map<String, Value>,
    query: Vec<(String, String)>,
}

impl FromRequest<AppState> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &AppState) -> Result<Self, ApiError> {
        let parts = crate::params::Params::read(req, Some("credential")).await?.into_parts();
        // The parameters may also be at the body's top level (as offer states take them);
        // inside `credential` wins.
        let mut body = parts.top;
        body.extend(parts.inner);
        Ok(Self { body, query: parts.query })
    }
}

impl Params {
    fn query_values(&self, key: &str) -> Vec<&str> {
        let bracketed = format!("{key}[]");
        self.query.iter().filter(|(k, _)| k == key || *k == bracketed).map(|(_, v)| v.as_str()).collect()
    }

    fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        let bad = || ApiError::BadRequest(format!("{key} must be an integer"));
        match self.body.get(key) {
            Some(Value::Null) | None => {}
            Some(Value::Number(n)) => return n.as_i64().map(Some).ok_or_else(bad),
            Some(Value::String(s)) => return s.trim().parse().map(Some).map_err(|_| bad()),
            Some(_) => return Err(bad()),
        }
        match self.query_values(key).last() {
            Some(raw) if !raw.is_empty() => raw.trim().parse().map(Some).map_err(|_| bad()),
            _ => Ok(None),
        }
    }

    /// `int` as a typed id, so a member id cannot be passed where an offer id is expected.
    fn id<T: From<i64>>(&self, key: &str) -> Result<Option<T>, ApiError> {
        Ok(self.int(key)?.map(T::from))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        let bad = || ApiError::BadRequest(format!("{key} must be true or false"));
        match self.body.get(key) {
            Some(Value::Bool(b)) => return Ok(Some(*b)),
            Some(Value::String(s)) if s.trim() == "true" => return Ok(Some(true)),
            Some(Value::String(s)) if s.trim() == "false" => return Ok(Some(false)),
            Some(Value::Null) | None => {}
            Some(_) => return Err(bad()),
        }
        match self.query_values(key).last().copied() {
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some("") | None => Ok(None),
            Some(_) => Err(bad()),
        }
    }

    /// `offer_ids` (array, comma list, repeated or bracketed keys) plus `offer_id`.
    fn offer_ids(&self) -> Result<Option<Vec<OfferId>>, ApiError> {
        let bad = || ApiError::BadRequest("offer_ids must be integers".into());
        let mut ids = match self.body.get("offer_ids") {
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| kindling_domain::input::int_value(v).ok_or_else(bad))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(Value::String(s)) => Some(split(s).map_err(|_| bad())?),
            Some(Value::Null) | None => {
                let raw = self.query_values("offer_ids");
                if raw.is_empty() {
                    None
                } else {
                    let mut all = Vec::new();
                    for part in raw {
                        all.extend(split(part).map_err(|_| bad())?);
                    }
                    Some(all)
                }
            }
            Some(_) => return Err(bad()),
        };
        if let Some(one) = self.int("offer_id")? {
            ids.get_or_insert_with(Vec::new).push(one);
        }
        if let Some(ids) = &ids {
            kindling_domain::input::id_count("offer_ids", ids)?;
        }
        Ok(ids.map(|ids| ids.into_iter().map(OfferId).collect()))
    }

    fn input(&self) -> Result<CredentialInput, ApiError> {
        let annotations = match self.body.get("annotations") {
            Some(raw) => Some(raw.clone()),
            None => self.query_values("annotations").last().map(|s| Value::String((*s).to_owned())),
        }
        .map(|raw| annotations::parse(&raw).map_err(|m| ApiError::BadRequest(format!("annotations {m}"))))
        .transpose()?;
        let code_lifetime = self.int("code_lifetime")?;
        if code_lifetime.is_some_and(|l| l <= 0 || l > MAX_CODE_LIFETIME_SECONDS) {
            return Err(ApiError::BadRequest(format!(
                "code_lifetime must be a positive number of seconds, at most {MAX_CODE_LIFETIME_SECONDS} (ten years)"
            )));
        }
        Ok(CredentialInput {
            member_id: self.id::<MemberId>("member_id")?,
            channel_id: self.id::<ChannelId>("channel_id")?,
            store_id: self.id::<StoreId>("store_id")?,
            offer_ids: self.offer_ids()?,
            reusable: self.bool("reusable")?,
            annotations,
            code_lifetime,
            ..Default::default()
        })
    }
}

/// Ten years: long enough for any promotion, far from overflowing a timestamp.
const MAX_CODE_LIFETIME_SECONDS: i64 = 10 * 365 * 24 * 60 * 60;

fn split(raw: &str) -> Result<Vec<i64>, std::num::ParseIntError> {
    raw.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::parse).collect()
}

fn refused(e: WriteError) -> ApiError {
    match e {
        WriteError::Refused(r) => ApiError::BadRequest(r.message()),
        WriteError::Invalid(m) => ApiError::BadRequest(m),
        WriteError::Conflict(m) => ApiError::Conflict(m),
        WriteError::NotFound => ApiError::not_found("credential"),
        WriteError::Store(e) => e.into(),
    }
}

async fn answer(state: &AppState, auth: Auth, id: CredentialId, status: StatusCode) -> Result<Response, ApiError> {
    let credential =
        load_in(&mut Reader(&state.db), auth.account, id).await?.ok_or_else(|| ApiError::not_found("credential"))?;
    Ok(single(status, "credential", &credential))
}

/// `GET /v1.0/credentials?member_id&offer_id&store_id`.
pub async fn get_credentials(
    State(state): State<AppState>,
    auth: Auth,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let params = Params { body: Map::new(), query };
    let mut filters = Vec::new();
    if let Some(member) = params.id::<MemberId>("member_id")? {
        filters.push(Filter::Eq("member_id", member.into()));
    }
    if let Some(store) = params.id::<StoreId>("store_id")? {
        filters.push(Filter::Eq("store_id", store.into()));
    }
    if let Some(offer) = params.id::<OfferId>("offer_id")? {
        filters.push(kindling_store::credentials::for_offer(offer));
    }
    let page = crud::list::<Credentials>(&state.db, auth.account, &[], &filters, page).await?;
    Ok(paged("credentials", "credential", &page))
}

/// `POST /v1.0/credentials` (201). Concurrent creates are written in batches
/// (`many::Queue`), each answered on its own.
pub async fn create_credential(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    params: Params,
) -> Result<Response, ApiError> {
    let credential = state.credentials.write(auth.account, params.input()?).await.map_err(refused)?;
    Ok(created("credential", &credential, format!("{}/{}", uri.path(), credential.id)))
}

pub async fn get_credential(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<CredentialId>,
) -> Result<Response, ApiError> {
    answer(&state, auth, id, StatusCode::OK).await
}

/// `PUT /v1.0/credentials/{id}` (201): `channel_id` is required; `offer_ids` is the full set.
pub async fn update_credential(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<CredentialId>,
    params: Params,
) -> Result<Response, ApiError> {
    write::update(&state.db, auth.account, id, params.input()?).await.map_err(refused)?;
    answer(&state, auth, id, StatusCode::CREATED).await
}

/// `DELETE /v1.0/credentials/{id}` (200, with the deleted credential).
pub async fn delete_credential(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<CredentialId>,
) -> Result<Response, ApiError> {
    let credential = write::delete(&state.db, auth.account, id).await.map_err(|e| match e {
        WriteError::Invalid(m) => ApiError::Conflict(m),
        other => refused(other),
    })?;
    Ok(single(StatusCode::OK, "credential", &credential))
}

/// `PUT /v1.0/credentials/{id}/redeem` (201), optionally at `store_id`.
pub async fn redeem_credential(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<CredentialId>,
    params: Params,
) -> Result<Response, ApiError> {
    let store = params.id::<StoreId>("store_id")?;
    let credential = state.redemptions.write(auth.account, Redemption { id, store }).await.map_err(refused)?;
    Ok(single(StatusCode::CREATED, "credential", &credential))
}

/// `PUT /v1.0/credentials/{id}/void` (201).
pub async fn void_credential(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<CredentialId>,
) -> Result<Response, ApiError> {
    write::void(&state.db, auth.account, id).await.map_err(refused)?;
    answer(&state, auth, id, StatusCode::CREATED).await
}

/// `GET /v1.0/credentials/eligible?member_id&offer_id[&channel_id]`: `{is_eligible, status}`.
pub async fn credential_eligibility(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let params = Params { body: Map::new(), query };
    let member: MemberId =
        params.id("member_id")?.ok_or_else(|| ApiError::BadRequest("member_id is required".into()))?;
    let offer: OfferId = params.id("offer_id")?.ok_or_else(|| ApiError::BadRequest("offer_id is required".into()))?;
    let channel: Option<ChannelId> = params.id("channel_id")?;
    let verdict = write::eligibility(&state.db, auth.account, member, offer, channel).await.map_err(|e| match e {
        WriteError::NotFound => ApiError::not_found("member"),
        other => refused(other),
    })?;
    let body = match verdict {
        Ok(()) => json!({"is_eligible": true, "status": "eligible"}),
        Err(refusal) => json!({"is_eligible": false, "status": refusal.status(), "message": refusal.message()}),
    };
    Ok(json(StatusCode::OK, &body))
}
