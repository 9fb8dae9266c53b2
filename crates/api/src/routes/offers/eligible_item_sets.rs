//! `/v1.0/offers/{offer_id}/eligible_item_sets`: item sets attached to an offer.

use crate::crud::{CrudResource, Parent, Scope, Write, OFFER};
use crate::extract::Enveloped;
use axum::http::StatusCode;
use kindling_domain::fields;
use kindling_domain::offers::campaign::ITEM_SET_FIELDS;
use kindling_domain::{EligibleItemSetId, FieldErrors, ItemSetId};
use kindling_store::crud::RowId;
use kindling_store::offers::eligible_item_sets::EligibleItemSets;
use kindling_store::offers::offer::field_values;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Deserialize)]
#[serde(transparent)]
pub struct EligibleItemSetBody(Map<String, Value>);

impl Enveloped for EligibleItemSetBody {
    const KEY: &'static str = "eligible_item_set";
}

fn write(body: &Map<String, Value>, create: bool) -> Result<Write<EligibleItemSetId>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut parsed = fields::parse(body, ITEM_SET_FIELDS, &mut errors);
    if create {
        if !body.contains_key("item_set_id") {
            errors.add("item_set_id", "can't be blank");
        }
        for (name, default) in [("list_type", 0), ("req_qty", 1)] {
            if !parsed.iter().any(|(n, _)| *n == name) {
                parsed.push((name, fields::FieldValue::Int(Some(default))));
            }
        }
    }
    let item_set = parsed.iter().find_map(|(n, v)| match (n, v) {
        (&"item_set_id", fields::FieldValue::Int(Some(id))) => Some(*id),
        _ => None,
    });
    let mut write = Write::from(field_values(parsed));
    if let Some(id) = item_set {
        write.references.push(("item_set_id", RowId::ItemSet(ItemSetId(id))));
    }
    errors.into_result(write)
}

impl CrudResource for EligibleItemSets {
    const SINGULAR: &'static str = "eligible_item_set";
    const PLURAL: &'static str = "eligible_item_sets";
    const ID_PARAM: &'static str = "eligible_item_set_id";
    const PARENTS: &'static [Parent] = &[OFFER];
    // The spec answers 201 to GET and PUT of one eligible item set.
    const SHOW_STATUS: StatusCode = StatusCode::CREATED;
    const UPDATE_STATUS: StatusCode = StatusCode::CREATED;
    type Input = EligibleItemSetBody;

    fn create(input: EligibleItemSetBody, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        write(&input.0, true)
    }

    fn update(input: EligibleItemSetBody, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        write(&input.0, false)
    }
}
