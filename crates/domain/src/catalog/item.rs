//! Items: products as the point of sale knows them, by name and item code.

use crate::input::{name, require, text, MAX_TEXT};
use crate::{FieldErrors, ItemId, ManufacturerId, MerchantId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub id: ItemId,
    pub name: String,
    /// The POS item code (CTM `ic`).
    pub code: String,
    pub merchant_id: Option<MerchantId>,
    pub manufacturer_id: Option<ManufacturerId>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::serde_helpers::string_or_number")]
    pub code: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemChanges {
    pub name: Option<String>,
    pub code: Option<String>,
}

impl ItemInput {
    pub fn into_changes(self) -> Result<ItemChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let changes = self.validate(&mut errors);
        errors.into_result(changes)
    }

    /// Both `name` and `code` are required (the spec marks them so).
    pub fn into_new(self) -> Result<ItemChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let changes = self.validate(&mut errors);
        require(&mut errors, "name", &changes.name);
        require(&mut errors, "code", &changes.code);
        errors.into_result(changes)
    }

    fn validate(self, errors: &mut FieldErrors) -> ItemChanges {
        let code = text(errors, "code", self.code, MAX_TEXT);
        let code = match code {
            Some(c) if c.trim().is_empty() => {
                errors.add("code", "can't be blank");
                None
            }
            other => other,
        };
        ItemChanges { name: name(errors, "name", self.name), code }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_code_are_required() {
        let errors = ItemInput::default().into_new().unwrap_err();
        assert_eq!((errors.get("name"), errors.get("code")), (Some("can't be blank"), Some("can't be blank")));
        let ok = ItemInput { name: Some("Fries".into()), code: Some("0042".into()) }.into_new().unwrap();
        assert_eq!(ok.code.as_deref(), Some("0042"));
        assert!(ItemInput { code: Some(" ".into()), ..Default::default() }.into_changes().is_err());
    }
}
