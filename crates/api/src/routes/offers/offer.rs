//! Offers: create with just a name, partial updates with merged formatting, validated status
//! transitions (also through `/actions/approve|suspend|archive`), and the paged lists.

use crate::auth::Auth;
use crate::crud::{Write, MANUFACTURER, MERCHANT};
use crate::extract::{ApiPath, ApiQuery, Envelope, Enveloped, PageQuery};
use crate::response::{created, json, single};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use kindling_domain::fields::{self, FieldValue};
use kindling_domain::offers::formatting;
use kindling_domain::offers::offer::{Offer, OfferView, SimplifiedView, FIELDS};
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::pos::rule;
use kindling_domain::{FieldErrors, ItemSetId, MerchantId, OfferId};
use kindling_store::catalog::merchants::Merchants;
use kindling_store::crud::{self, Filter, Order, Paged, RowId};
use kindling_store::offers::offer::{self as store, Offers};
use kindling_store::pos_offer_codes;
use kindling_store::{Tx, Value};
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

/// An owner id given as `5`, `"5"` or null (to clear).
fn owner_id(errors: &mut FieldErrors, body: &Map<String, Json>, field: &'static str) -> Option<Option<i64>> {
    match body.get(field)? {
        Json::Null => Some(None),
        Json::Number(n) if n.as_i64().is_some_and(|n| n > 0) => Some(n.as_i64()),
        Json::String(s) if s.parse::<i64>().is_ok_and(|n| n > 0) => Some(s.parse().ok()),
        _ => {
            errors.add(field, "must be an id");
            None
        }
    }
}

/// Validates an offer body against the stored offer (`None` on create) and returns what to
/// write, with references to check.
fn offer_write(body: Map<String, Json>, current: Option<&Offer>) -> Result<Write<OfferId>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut parsed = fields::parse(&body, FIELDS, &mut errors);
    let mut write = Write::default();

    if current.is_none() {
        if !body.contains_key("name") {
            errors.add("name", "can't be blank");
        }
        for (name, default) in [
            ("offer_type", FieldValue::Int(Some(0))),
            ("quest_only", FieldValue::Bool(Some(false))),
            ("is_reward", FieldValue::Bool(Some(false))),
        ] {
            if !parsed.iter().any(|(n, _)| *n == name) {
                parsed.push((name, default));
            }
        }
    }

    // The window as it will be after this write.
    let mut window = current.map(|o| o.window).unwrap_or_default();
    for (name, value) in &parsed {
        if let FieldValue::Time(t) = value {
            match *name {
                "activates_at" => window.activates_at = *t,
                "expires_at" => window.expires_at = *t,
                _ => window.stop_offering_at = *t,
            }
        }
    }
    for (field, message) in window.problems() {
        errors.add(field, message);
    }

    let status_from = current.map_or(OfferStatus::Pending, |o| o.status);
    let status = match body.get("status") {
        None => (current.is_none()).then_some(OfferStatus::Pending),
        Some(raw) => match raw.as_str().and_then(OfferStatus::parse) {
            Some(next) if status_from.can_become(next) => Some(next),
            Some(next) => {
                errors.add("status", &status_from.transition_error(next));
                None
            }
            None => {
                errors.add("status", "must be one of pending, approved, suspended, archived");
                None
            }
        },
    };
    if let Some(status) = status {
        write.values.push(("status", status.as_str().into()));
    }

    let empty = Map::new();
    let formatting = match body.get("formatting") {
        Some(patch) => Some(formatting::merge(current.map_or(&empty, |o| &o.formatting), patch, &mut errors)),
        None => current.is_none().then(Map::new),
    };
    if let Some(formatting) = formatting {
        write.values.push(("formatting", Json::Object(formatting).to_string().into()));
    }
    let criteria = match body.get("criteria") {
        Some(Json::Object(c)) => Some(c.clone()),
        Some(Json::Null) | None => current.is_none().then(Map::new),
        Some(_) => {
            errors.add("criteria", "must be an object");
            None
        }
    };
    if let Some(criteria) = criteria {
        write.values.push(("criteria", Json::Object(criteria).to_string().into()));
    }

    for owner in [MERCHANT, MANUFACTURER] {
        if let Some(id) = owner_id(&mut errors, &body, owner.param) {
            write.values.push((owner.param, Value::Int(id)));
            if let Some(id) = id {
                write.references.push((owner.param, (owner.id)(id)));
            }
        }
    }
    // Item set ids name the account's item sets: checked like the owners, so an offer can
    // never point at another account's set.
    for (name, value) in &parsed {
        if let (&("required_item_set_id" | "redemption_item_set_id"), FieldValue::Int(Some(id))) = (name, value) {
            write.references.push((name, RowId::ItemSet(ItemSetId(*id))));
        }
    }
    write.values.extend(store::field_values(parsed));
    errors.into_result(write)
}

/// The point-of-sale rule the offer will have after this write must be one the engine can
/// run: an unknown `offer_type` or a bad value of a criteria key the engine reads is a 422
/// (docs/POS.md, "Offer rules"). Body values win over the stored offer's.
fn check_rule(body: &Map<String, Json>, current: Option<&Offer>) -> Result<(), ApiError> {
    // An update that leaves the rule alone (a new name, say) is not held to it: an offer
    // saved before the engine knew its type can still be renamed, suspended or archived.
    const RULE_KEYS: &[&str] = &[
        "offer_type",
        "criteria",
        "formatting",
        "reward_item_value",
        "max_amount",
        "min_spend_amount",
        "trigger_amount",
        "required_item_set_id",
        "redemption_item_set_id",
        "required_item_count",
        "redemption_item_count",
        "initial_remaining_value",
    ];
    if current.is_some() && !RULE_KEYS.iter().any(|k| body.contains_key(*k)) {
        return Ok(());
    }
    let value = |key: &str| -> Option<&Json> {
        match body.get(key) {
            Some(v) => Some(v),
            None => current.and_then(|o| o.columns.get(key)),
        }
    };
    let int =
        |key: &str| value(key).and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
    let object = |key: &str, stored: Option<&Map<String, Json>>| -> Map<String, Json> {
        match body.get(key) {
            Some(Json::Object(m)) => {
                let mut merged = stored.cloned().unwrap_or_default();
                merged.extend(m.clone());
                merged
            }
            _ => stored.cloned().unwrap_or_default(),
        }
    };
    let criteria = match body.get("criteria") {
        Some(Json::Object(m)) => m.clone(),
        _ => current.map(|o| o.criteria.clone()).unwrap_or_default(),
    };
    let formatting = object("formatting", current.map(|o| &o.formatting));
    let set = |id: &str, count: &str| {
        int(id).map(|_| (std::collections::BTreeSet::new(), u32::try_from(int(count).unwrap_or(1).max(1)).unwrap_or(1)))
    };
    let input = rule::RuleInput {
        offer_type: int("offer_type").unwrap_or(0),
        criteria: Some(&criteria),
        formatting: Some(&formatting),
        reward_item_value: int("reward_item_value"),
        max_amount: int("max_amount"),
        min_spend_amount: int("min_spend_amount"),
        trigger_amount: int("trigger_amount"),
        required: set("required_item_set_id", "required_item_count"),
        redemption: set("redemption_item_set_id", "redemption_item_count"),
        remaining_value: int("initial_remaining_value"),
    };
    match rule::build(&input) {
        Ok(_) => Ok(()),
        Err(rule::RuleError::UnknownType(t)) => {
            let known: Vec<String> =
                rule::OfferType::ALL.iter().map(|k| format!("{} ({})", k.code(), k.name())).collect();
            Err(ApiError::Unprocessable(format!(
                "offer_type {t} is not supported; the supported types are {}",
                known.join(", ")
            )))
        }
        Err(rule::RuleError::Criteria(field, message)) => {
            Err(ApiError::Unprocessable(format!("criteria.{field} {message}")))
        }
    }
}

async fn load(state: &AppState, auth: Auth, id: OfferId) -> Result<Offer, ApiError> {
    crud::get::<Offers>(&state.db, auth.account, &[], id).await?.ok_or_else(|| ApiError::not_found("offer"))
}

fn offer_response(status: StatusCode, offer: &Offer) -> Response {
    single(status, "offer", &OfferView(offer))
}

/// Writes inside `tx`: references first, then the row (inserted when `id` is `None`), then
/// its `pos_offer_code` into the account's list.
async fn apply(tx: &mut Tx, auth: Auth, id: Option<OfferId>, write: Write<OfferId>) -> Result<OfferId, ApiError> {
    for &(field, referenced) in &write.references {
        if !crud::exists(tx, auth.account, referenced).await? {
            return Err(FieldErrors::single(field, &format!("does not exist: {referenced}")).into());
        }
    }
    let code = pos_offer_codes::assigned(&write.values);
    let id = match id {
        Some(id) => {
            let setting_limit = write.values.iter().any(|(column, _)| *column == "max_redemptions");
            let unlimited = setting_limit && kindling_store::offers::offer::unlimited(tx, auth.account, id).await?;
            if !crud::update::<Offers>(tx, auth.account, &[], id, write.values).await? {
                return Err(ApiError::not_found("offer"));
            }
            if unlimited {
                kindling_store::offers::offer::recount_redemptions(tx, auth.account, id).await?;
            }
            id
        }
        None => crud::insert::<Offers>(tx, auth.account, write.values).await?,
    };
    // The account's list of POS offer codes learns the offer's code in the same transaction.
    pos_offer_codes::register(tx, auth.account, code.as_deref(), id).await?;
    Ok(id)
}

/// Read-modify-write of one offer in one transaction: `change` decides from the row as the
/// write finds it (locked on PostgreSQL, under the write lock on SQLite), so a status
/// transition or a `formatting` merge never acts on a state another request has replaced.
async fn modify(
    state: &AppState,
    auth: Auth,
    id: OfferId,
    change: impl FnOnce(&Offer) -> Result<Write<OfferId>, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    state
        .db
        .transaction(move |tx| {
            Box::pin(async move {
                let current = crud::lock::<Offers>(tx, auth.account, &[], id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("offer"))?;
                apply(tx, auth, Some(id), change(&current)?).await
            })
        })
        .await?;
    Ok(offer_response(StatusCode::OK, &load(state, auth, id).await?))
}

/// `POST /v1.0/offers`: "All we need is a name."
pub async fn create_offer(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Envelope(OfferBody(body)): Envelope<OfferBody>,
) -> Result<Response, ApiError> {
    let write = offer_write(body.clone(), None)?;
    check_rule(&body, None)?;
    let id = state.db.transaction(move |tx| Box::pin(async move { apply(tx, auth, None, write).await })).await?;
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
    modify(&state, auth, id, move |current| {
        let write = offer_write(body.clone(), Some(current))?;
        check_rule(&body, Some(current))?;
        Ok(write)
    })
    .await
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
    modify(&state, auth, id, move |current| {
        if !current.status.can_become(next) {
            return Err(FieldErrors::single("status", &current.status.transition_error(next)).into());
        }
        Ok(Write::from(vec![("status", next.as_str().into())]))
    })
    .await
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
    let direction = match query.get("order").map(|o| o.to_ascii_lowercase()) {
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
