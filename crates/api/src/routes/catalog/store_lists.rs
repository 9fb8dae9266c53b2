use crate::crud::{CrudResource, Scope, Write, MERCHANT};
use crate::extract::Enveloped;
use crate::links::LinkResource;
use axum::http::StatusCode;
use kindling_domain::catalog::store_list::StoreListInput;
use kindling_domain::FieldErrors;
use kindling_store::catalog::store_lists::{self, StoreLists};
use kindling_store::catalog::stores::Stores;
use kindling_store::link_set::LinkSet;

impl Enveloped for StoreListInput {
    const KEY: &'static str = "store_list";
}

/// A merchant's store lists: `/v1.0/merchants/{merchant_id}/store_lists`.
impl CrudResource for StoreLists {
    const SINGULAR: &'static str = "store_list";
    const PLURAL: &'static str = "store_lists";
    const ID_PARAM: &'static str = "store_list_id";
    const PARENTS: &'static [crate::crud::Parent] = &[MERCHANT];
    const IN_USE: &'static str = "still restricts offers; remove it from them first";
    type Input = StoreListInput;

    fn create(input: StoreListInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_new().map(|name| store_lists::values(name).into())
    }

    fn update(input: StoreListInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_changes().map(|name| store_lists::values(name).into())
    }
}

/// Membership: `/v1.0/merchants/store_lists/{store_list_id}/stores`, answered unwrapped.
pub struct StoreListStores;

impl LinkResource for StoreListStores {
    type Owner = StoreLists;
    type Target = Stores;
    const SET: &'static LinkSet<StoreLists, Stores> = &store_lists::STORES;
    const OWNER_PARAM: &'static str = "store_list_id";
    const OWNER_NAME: &'static str = "store_list";
    const KEY: &'static str = "store_list";
    const FIELD: &'static str = "store_ids";
    const WRAP_OUTPUT: bool = false;
    const CODES: [StatusCode; 3] = [StatusCode::CREATED, StatusCode::CREATED, StatusCode::OK];
}
