//! Item sets: groups of items an offer requires or discounts.

use crate::input::{int_in, name, require};
use crate::{FieldErrors, ItemSetId, ManufacturerId, MerchantId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemSet {
    pub id: ItemSetId,
    pub name: String,
    pub merchant_id: Option<MerchantId>,
    pub manufacturer_id: Option<ManufacturerId>,
    pub manufacturer_name: Option<String>,
    pub item_ids: Vec<crate::ItemId>,
    pub set_type: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemSetInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::serde_helpers::int_or_string")]
    pub merchant_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::serde_helpers::int_or_string")]
    pub manufacturer_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::serde_helpers::ids_or_strings")]
    pub item_ids: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "crate::serde_helpers::int_or_string")]
    pub set_type: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemSetChanges {
    pub name: Option<String>,
    pub merchant_id: Option<MerchantId>,
    pub manufacturer_id: Option<ManufacturerId>,
    /// The full desired membership when present (PUT replaces it).
    pub item_ids: Option<Vec<i64>>,
    pub set_type: Option<i64>,
}

impl ItemSetInput {
    pub fn into_changes(self) -> Result<ItemSetChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let changes = self.validate(&mut errors);
        errors.into_result(changes)
    }

    pub fn into_new(self) -> Result<ItemSetChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut changes = self.validate(&mut errors);
        require(&mut errors, "name", &changes.name);
        changes.set_type.get_or_insert(0);
        errors.into_result(changes)
    }

    fn validate(self, errors: &mut FieldErrors) -> ItemSetChanges {
        ItemSetChanges {
            name: name(errors, "name", self.name),
            merchant_id: self.merchant_id.map(MerchantId),
            manufacturer_id: self.manufacturer_id.map(ManufacturerId),
            item_ids: self.item_ids,
            set_type: int_in(errors, "set_type", self.set_type, 0..=i64::from(i32::MAX)),
        }
    }
}
