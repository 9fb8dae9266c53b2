//! Creating and changing an offer: validation of an offer body (the domain's field table,
//! the window, status transitions, formatting, owners, item sets and the POS rule) and the
//! write itself. The one write path of `POST/PUT /v1.0/offers`, their `/actions/...` and
//! the portal's offer forms.

use super::offer::{self as table, Offers};
use crate::crud::{self, Assignments, RowId};
use crate::{pos_offer_codes, Db, StoreError, Tx, Value};
use kindling_domain::fields::{self, FieldValue};
use kindling_domain::offers::formatting;
use kindling_domain::offers::offer::{Offer, FIELDS};
use kindling_domain::offers::rule_check::{self, RuleRefusal};
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::{AccountId, FieldErrors, ItemSetId, ManufacturerId, MerchantId, OfferId};
use serde_json::{Map, Value as Json};

/// Why an offer write was refused.
#[derive(Debug)]
pub enum OfferWriteError {
    /// Field errors (`{"name": "can't be blank"}`): the API's 422 with `errors`.
    Invalid(FieldErrors),
    /// The POS rule the offer would have cannot run (the API's 422 with its message).
    Rule(RuleRefusal),
    /// No such offer in the account.
    NotFound,
    Store(StoreError),
}

impl crate::MaybeBusy for OfferWriteError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_busy())
    }
}

impl From<StoreError> for OfferWriteError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<FieldErrors> for OfferWriteError {
    fn from(e: FieldErrors) -> Self {
        Self::Invalid(e)
    }
}

/// What a validated body writes: columns, and the rows they name (checked in the write's
/// transaction, so an offer never points at another account's merchant or item set).
pub struct OfferWrite {
    pub values: Assignments,
    pub references: Vec<(&'static str, RowId)>,
}

/// The row an owner id names.
type OwnerRow = fn(i64) -> RowId;

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

/// Validates an offer body against the stored offer (`None` on create): field errors first,
/// then the POS rule.
pub fn validate(body: &Map<String, Json>, current: Option<&Offer>) -> Result<OfferWrite, OfferWriteError> {
    let write = fields_of(body, current)?;
    rule_check::check(body, current).map_err(OfferWriteError::Rule)?;
    Ok(write)
}

fn fields_of(body: &Map<String, Json>, current: Option<&Offer>) -> Result<OfferWrite, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut parsed = fields::parse(body, FIELDS, &mut errors);
    let mut write = OfferWrite { values: Assignments::new(), references: Vec::new() };

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

    let owners: [(&'static str, OwnerRow); 2] = [
        ("merchant_id", |id| RowId::Merchant(MerchantId(id))),
        ("manufacturer_id", |id| RowId::Manufacturer(ManufacturerId(id))),
    ];
    for (field, row) in owners {
        if let Some(id) = owner_id(&mut errors, body, field) {
            write.values.push((field, Value::Int(id)));
            if let Some(id) = id {
                write.references.push((field, row(id)));
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
    write.values.extend(table::field_values(parsed));
    errors.into_result(write)
}

/// Writes inside `tx`: references first, then the row (inserted when `id` is `None`), then
/// its `pos_offer_code` into the account's list.
async fn apply(
    tx: &mut Tx,
    account: AccountId,
    id: Option<OfferId>,
    write: OfferWrite,
) -> Result<OfferId, OfferWriteError> {
    for &(field, referenced) in &write.references {
        if !crud::exists(tx, account, referenced).await? {
            return Err(FieldErrors::single(field, &format!("does not exist: {referenced}")).into());
        }
    }
    let code = pos_offer_codes::assigned(&write.values);
    let id = match id {
        Some(id) => {
            let setting_limit = write.values.iter().any(|(column, _)| *column == "max_redemptions");
            let unlimited = setting_limit && table::unlimited(tx, account, id).await?;
            if !crud::update::<Offers>(tx, account, &[], id, write.values).await? {
                return Err(OfferWriteError::NotFound);
            }
            if unlimited {
                table::recount_redemptions(tx, account, id).await?;
            }
            id
        }
        None => crud::insert::<Offers>(tx, account, write.values).await?,
    };
    // The account's list of POS offer codes learns the offer's code in the same transaction.
    pos_offer_codes::register(tx, account, code.as_deref(), id).await?;
    Ok(id)
}

/// `POST /v1.0/offers`: validates `body` and inserts the offer.
pub async fn create(db: &Db, account: AccountId, body: Map<String, Json>) -> Result<OfferId, OfferWriteError> {
    let write = validate(&body, None)?;
    db.transaction(move |tx| Box::pin(async move { apply(tx, account, None, write).await })).await
}

/// Read-modify-write of one offer in one transaction: `change` decides from the row as the
/// write finds it (locked on PostgreSQL, under the write lock on SQLite), so a status
/// transition or a `formatting` merge never acts on a state another request has replaced.
pub async fn modify(
    db: &Db,
    account: AccountId,
    id: OfferId,
    change: impl Fn(&Offer) -> Result<OfferWrite, OfferWriteError> + Clone + Send + Sync + 'static,
) -> Result<(), OfferWriteError> {
    db.transaction_retrying(move |tx| {
        let change = change.clone();
        Box::pin(async move {
            let current = crud::lock::<Offers>(tx, account, &[], id).await?.ok_or(OfferWriteError::NotFound)?;
            apply(tx, account, Some(id), change(&current)?).await.map(drop)
        })
    })
    .await
}

/// `PUT /v1.0/offers/{id}`: a partial update; `formatting` merges key by key.
pub async fn update(db: &Db, account: AccountId, id: OfferId, body: Map<String, Json>) -> Result<(), OfferWriteError> {
    modify(db, account, id, move |current| validate(&body, Some(current))).await
}

/// `PUT /v1.0/offers/{id}/actions/{approve|suspend|archive}`: only the transitions
/// `OfferStatus::can_become` allows.
pub async fn transition(db: &Db, account: AccountId, id: OfferId, next: OfferStatus) -> Result<(), OfferWriteError> {
    modify(db, account, id, move |current| {
        if !current.status.can_become(next) {
            return Err(FieldErrors::single("status", &current.status.transition_error(next)).into());
        }
        Ok(OfferWrite { values: vec![("status", next.as_str().into())], references: Vec::new() })
    })
    .await
}
