use crate::crud::{CrudResource, Scope, Search, Write, MERCHANT};
use crate::extract::Enveloped;
use crate::table_view;
use kindling_domain::catalog::store::StoreInput;
use kindling_domain::FieldErrors;
use kindling_store::catalog::stores::{self, Stores, UNIQUE_FIELDS as UNIQUE};

impl Enveloped for StoreInput {
    const KEY: &'static str = "store";
}

/// Stores through their merchant: `/v1.0/merchants/{merchant_id}/stores`.
impl CrudResource for Stores {
    const SINGULAR: &'static str = "store";
    const PLURAL: &'static str = "stores";
    const ID_PARAM: &'static str = "store_id";
    const PARENTS: &'static [crate::crud::Parent] = &[MERCHANT];
    const SEARCH: &'static [Search] = &[Search { param: "name", column: "name", exact: false }];
    const UNIQUE_FIELDS: &'static [&'static str] = UNIQUE;
    type Input = StoreInput;

    fn create(input: StoreInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_new().map(|c| stores::values(c).into())
    }

    fn update(input: StoreInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_changes().map(|c| stores::values(c).into())
    }
}

table_view!(
    /// Any store of the account by id: `GET /v1.0/merchants/stores/{store_id}`.
    AccountStores => Stores
);

impl CrudResource for AccountStores {
    const SINGULAR: &'static str = "store";
    const PLURAL: &'static str = "stores";
    const ID_PARAM: &'static str = "store_id";
    const UNIQUE_FIELDS: &'static [&'static str] = UNIQUE;
    type Input = StoreInput;

    fn create(input: StoreInput, scope: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        Stores::create(input, scope)
    }

    fn update(input: StoreInput, scope: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        Stores::update(input, scope)
    }
}
