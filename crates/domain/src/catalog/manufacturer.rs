//! Manufacturers: brands whose products are sold through (eligible) merchants.

use super::merchant::{MerchantResponse, RedemptionIdentifierType};
use super::store::StoreLocation;
use super::{Contact, Contacts};
use crate::input::{int_in, name, require, text, MAX_LONG_TEXT, MAX_TEXT};
use crate::{FieldErrors, ManufacturerId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manufacturer {
    pub id: ManufacturerId,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    /// Same string-typed shape as a store's location; not writable yet, so null fields.
    pub location: StoreLocation,
    pub contacts: Contacts,
    /// Merchants eligible to sell this manufacturer's items.
    pub merchant_ids: Vec<i64>,
    pub merchants: Vec<MerchantResponse>,
}

/// The spec's `manufacturer_input` plus `description`, which the output shows.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ManufacturerInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub logo: Option<String>,
    pub is_active: Option<bool>,
    pub billing_arrangement: Option<String>,
    /// A string in the spec (`"0"`); integers are accepted too.
    #[serde(default, deserialize_with = "crate::serde_helpers::int_or_string")]
    pub redemption_identifier_type: Option<i64>,
    pub primary: Option<Contact>,
    pub secondary: Option<Contact>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManufacturerChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub logo: Option<String>,
    pub is_active: Option<bool>,
    pub billing_arrangement: Option<String>,
    pub redemption_identifier_type: Option<RedemptionIdentifierType>,
    pub primary: Option<Contact>,
    pub secondary: Option<Contact>,
}

impl ManufacturerInput {
    pub fn into_changes(self) -> Result<ManufacturerChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let changes = self.validate(&mut errors);
        errors.into_result(changes)
    }

    pub fn into_new(self) -> Result<ManufacturerChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut changes = self.validate(&mut errors);
        require(&mut errors, "name", &changes.name);
        changes.is_active.get_or_insert(true);
        changes.redemption_identifier_type.get_or_insert_default();
        errors.into_result(changes)
    }

    fn validate(self, errors: &mut FieldErrors) -> ManufacturerChanges {
        let code = int_in(errors, "redemption_identifier_type", self.redemption_identifier_type, 0..=1);
        ManufacturerChanges {
            name: name(errors, "name", self.name),
            description: text(errors, "description", self.description, MAX_LONG_TEXT),
            logo: text(errors, "logo", self.logo, MAX_LONG_TEXT),
            is_active: self.is_active,
            billing_arrangement: text(errors, "billing_arrangement", self.billing_arrangement, MAX_TEXT),
            redemption_identifier_type: code.and_then(RedemptionIdentifierType::from_code),
            primary: self.primary.and_then(|c| c.validate(errors, "primary")),
            secondary: self.secondary.and_then(|c| c.validate(errors, "secondary")),
        }
    }
}
