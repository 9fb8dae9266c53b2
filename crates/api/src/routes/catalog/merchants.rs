use crate::crud::{CrudResource, Scope, Write};
use crate::extract::Enveloped;
use kindling_domain::catalog::merchant::MerchantInput;
use kindling_domain::FieldErrors;
use kindling_store::catalog::merchants::{self, Merchants};

impl Enveloped for MerchantInput {
    const KEY: &'static str = "merchant";
}

impl CrudResource for Merchants {
    const SINGULAR: &'static str = "merchant";
    const PLURAL: &'static str = "merchants";
    const ID_PARAM: &'static str = "merchant_id";
    const IN_USE: &'static str =
        "still has stores, store lists, items, item sets or offers; delete or unlink those first";
    type Input = MerchantInput;

    fn create(input: MerchantInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_new().map(|c| merchants::values(c).into())
    }

    fn update(input: MerchantInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_changes().map(|c| merchants::values(c).into())
    }
}
