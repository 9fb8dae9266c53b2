//! Offers: create with just a name, partial updates with merged formatting, validated status
//! transitions (also through `/actions/approve|suspend|archive`), and the paged lists. The
//! validation and the writes are `kindling_store::offers::write`'s, shared with the portal.

use crate::auth::Auth;
use crate::extract::{ApiPath, ApiQuery, Envelope, Enveloped, PageQuery};
use crate::response::{created, json, single};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use kindling_domain::offers::offer::{Offer, OfferView, SimplifiedView};
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::{MerchantId, OfferId};
use kindling_store::catalog::merchants::Merchants;
use kindling_store::crud::{self, Filter, Order, Paged};
use kindling_store::offers::offer::Offers;
use kindling_store::offers::write::{self, OfferWriteError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// The `offer` object of a request, kept as JSON: its forty fields are validated against the
/// domain's field table.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct OfferBody(Map<String, Json>);

impl Enveloped for OfferBody {
    const KEY: &'static str = "offer";
}

impl From<OfferWriteError> for ApiError {
    fn from(e: OfferWriteError) -> Self {
        match e {
            OfferWriteError::Invalid(errors) => errors.into(),
            OfferWriteError::Rule(refusal) => ApiError::Unprocessable(refusal.to_string()),
            OfferWriteError::NotFound => ApiError::not_found("offer"),
            OfferWriteError::Store(e) => e.into(),
        }
    }
}

async fn load(state: &AppState, auth: Auth, id: OfferId) -> Result<Offer, ApiError> {
    crud::get::<Offers>(&state.db, auth.account, &[], id).await?.ok_or_else(|| ApiError::not_found("offer"))
}

fn offer_response(status: StatusCode, offer: &Offer) -> Response {
    single(status, "offer", &OfferView(offer))
}

/// `POST /v1.0/offers`: "All we need is a name."
pub async fn create_offer(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Envelope(OfferBody(body)): Envelope<OfferBody>,
) -> Result<Response, ApiError> {
    let id = write::create(&state.db, auth.account, body).await?;
    let offer = load(&state, auth, id).await?;
    Ok(created("offer", &OfferView(&offer), format!("{}/{id}", uri.path())))
}

pub async fn get_offer(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<OfferId>,
) -> Result<Response, ApiError> {
    Ok(offer_response(StatusCode::OK, &load(&state, auth, id).await?))
}

/// `PUT /v1.0/offers/{id}`: partial; `formatting` merges key by key.
pub async fn update_offer(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<OfferId>,
    Envelope(OfferBody(body)): Envelope<OfferBody>,
) -> Result<Response, ApiError> {
    write::update(&state.db, auth.account, id, body).await?;
    Ok(offer_response(StatusCode::OK, &load(&state, auth, id).await?))
}

/// Deleting an offer removes its channel links (and xids), list links and settings.
pub async fn delete_offer(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<OfferId>,
) -> Result<Response, ApiError> {
    let deleted = crud::delete::<Offers>(&state.db, auth.account, &[], id).await.map_err(|e| match e {
        kindling_store::StoreError::ForeignKey => {
            ApiError::Conflict("offer has credentials; archive it instead".into())
        }
        other => other.into(),
    })?;
    if deleted {
        Ok(crate::response::empty_ok())
    } else {
        Err(ApiError::not_found("offer"))
    }
}

/// `PUT /v1.0/offers/{id}/actions/{approve|suspend|archive}` (the guide's approve URL).
pub async fn offer_action(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, action)): ApiPath<(OfferId, String)>,
) -> Result<Response, ApiError> {
    let next = match action.as_str() {
        "approve" => OfferStatus::Approved,
        "suspend" => OfferStatus::Suspended,
        "archive" => OfferStatus::Archived,
        _ => return Err(ApiError::NotFound(format!("unknown offer action {action:?}"))),
    };
    write::transition(&state.db, auth.account, id, next).await?;
    Ok(offer_response(StatusCode::OK, &load(&state, auth, id).await?))
}

/// Sorting as the spec lists it (`start_running_at` is the window start); unknown keys fall
/// back to id order.
fn order_by(query: &HashMap<String, String>) -> Result<[(&'static str, Order); 2], ApiError> {
    let column = match query.get("sort_by").map(String::as_str) {
        Some("name") => "name",
        Some("start_running_at" | "activates_at") => "activates_at",
        Some("status") => "status",
        Some("created_at") => "created_at",
        _ => "id",
    };
    // A blank `order=` is no order given, as a blank `sort_by=` is.
    let direction = match query.get("order").map(|o| o.trim().to_ascii_lowercase()).filter(|o| !o.is_empty()) {
        None => Order::Asc,
        Some(o) if o == "asc" => Order::Asc,
        Some(o) if o == "desc" => Order::Desc,
        Some(_) => return Err(ApiError::BadRequest("order must be asc or desc".into())),
    };
    Ok([(column, direction.clone()), ("id", direction)])
}

/// `[{"offer": <offer_simplified>}]` pages.
struct SimplifiedPage<'a>(&'a Paged<Offer>);

impl Serialize for SimplifiedPage<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let page = self.0.page;
        let offers: Vec<_> = self.0.items.iter().map(|o| serde_json::json!({ "offer": SimplifiedView(o) })).collect();
        let mut map = s.serialize_map(Some(5))?;
        map.serialize_entry("page", &page.page)?;
        map.serialize_entry("per_page", &page.per_page)?;
        map.serialize_entry("total_entries", &self.0.total_entries)?;
        map.serialize_entry("total_pages", &page.total_pages(self.0.total_entries))?;
        map.serialize_entry("offers", &offers)?;
        map.end()
    }
}

async fn list(
    state: &AppState,
    auth: Auth,
    page: kindling_domain::paging::PageRequest,
    query: &HashMap<String, String>,
    merchant: Option<MerchantId>,
) -> Result<Response, ApiError> {
    let mut filters = Vec::new();
    if let Some(name) = query.get("name").filter(|n| !n.is_empty()) {
        filters.push(Filter::Contains("name", name.clone()));
    }
    let merchant = match (merchant, query.get("merchant_id").filter(|m| !m.is_empty())) {
        (Some(m), _) => Some(m),
        (None, Some(raw)) => Some(MerchantId(crate::extract::query_int("merchant_id", raw)?)),
        (None, None) => None,
    };
    if let Some(m) = merchant {
        filters.push(kindling_store::offers::offer::at_merchant(m));
    }
    let page = crud::list_ordered::<Offers>(&state.db, auth.account, &[], &filters, &order_by(query)?, page).await?;
    Ok(json(StatusCode::OK, &SimplifiedPage(&page)))
}

/// `GET /v1.0/offers?merchant_id&name&sort_by&order`.
pub async fn get_offers(
    State(state): State<AppState>,
    auth: Auth,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    list(&state, auth, page, &query, None).await
}

/// `GET /v1.0/merchants/{merchant_id}/offers`.
pub async fn get_merchant_offers(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(merchant): ApiPath<MerchantId>,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if !crud::contains_now::<Merchants>(&state.db, auth.account, merchant).await? {
        return Err(ApiError::not_found("merchant"));
    }
    list(&state, auth, page, &query, Some(merchant)).await
}
