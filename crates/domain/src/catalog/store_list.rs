//! Store lists: named groups of one merchant's stores, used to restrict where offers apply.

use crate::{FieldErrors, MerchantId, StoreListId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreList {
    pub id: StoreListId,
    pub name: String,
    pub merchant_id: MerchantId,
    pub store_ids: Vec<crate::StoreId>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoreListInput {
    pub name: Option<String>,
}

impl StoreListInput {
    pub fn into_changes(self) -> Result<Option<String>, FieldErrors> {
        crate::input::name_only(self.name, false)
    }

    pub fn into_new(self) -> Result<Option<String>, FieldErrors> {
        crate::input::name_only(self.name, true)
    }
}
