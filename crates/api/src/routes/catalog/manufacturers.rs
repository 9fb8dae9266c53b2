use crate::crud::{CrudResource, Scope, Write};
use crate::extract::Enveloped;
use crate::links::LinkResource;
use axum::http::StatusCode;
use kindling_domain::catalog::manufacturer::ManufacturerInput;
use kindling_domain::FieldErrors;
use kindling_store::catalog::manufacturers::{self, Manufacturers};
use kindling_store::catalog::merchants::Merchants;
use kindling_store::link_set::LinkSet;

impl Enveloped for ManufacturerInput {
    const KEY: &'static str = "manufacturer";
}

impl CrudResource for Manufacturers {
    const SINGULAR: &'static str = "manufacturer";
    const PLURAL: &'static str = "manufacturers";
    const ID_PARAM: &'static str = "manufacturer_id";
    const IN_USE: &'static str = "still has items, item sets or offers; delete those first";
    type Input = ManufacturerInput;

    fn create(input: ManufacturerInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_new().map(|c| manufacturers::values(c).into())
    }

    fn update(input: ManufacturerInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_changes().map(|c| manufacturers::values(c).into())
    }
}

/// Eligible merchants: `/v1.0/manufacturers/{manufacturer_id}/merchants`; all three writes 201.
pub struct ManufacturerMerchants;

impl LinkResource for ManufacturerMerchants {
    type Owner = Manufacturers;
    type Target = Merchants;
    const SET: &'static LinkSet<Manufacturers, Merchants> = &manufacturers::MERCHANTS;
    const OWNER_PARAM: &'static str = "manufacturer_id";
    const OWNER_NAME: &'static str = "manufacturer";
    const KEY: &'static str = "manufacturer";
    const FIELD: &'static str = "merchant_ids";
    const CODES: [StatusCode; 3] = [StatusCode::CREATED, StatusCode::CREATED, StatusCode::CREATED];
}
