//! Manufacturers: brands whose products are sold through (eligible) merchants.

use super::merchant::MerchantResponse;
use super::store::StoreLocation;
use super::{Contact, Contacts};
use crate::input::{name, require, text, MAX_LONG_TEXT, MAX_TEXT};
use crate::{FieldErrors, ManufacturerId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manufacturer {
    pub id: ManufacturerId,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    /// Free text as the client gave it (the spec types it as a nullable string); unlike a
    /// merchant's, it selects nothing.
    pub redemption_identifier_type: Option<String>,
    /// Same string-typed shape as a store's location; not writable yet, so null fields.
    pub location: StoreLocation,
    pub contacts: Contacts,
    /// Merchants eligible to sell this manufacturer's items.
    pub merchant_ids: Vec<crate::MerchantId>,
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
    /// A nullable string in the spec: any string (also `""`) is kept as given, `null`
    /// clears it, a number is kept as its decimal text.
    #[serde(default, deserialize_with = "crate::serde_helpers::nullable_string_or_number")]
    pub redemption_identifier_type: Option<Option<String>>,
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
    /// `Some(None)` stores null.
    pub redemption_identifier_type: Option<Option<String>>,
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
        errors.into_result(changes)
    }

    fn validate(self, errors: &mut FieldErrors) -> ManufacturerChanges {
        ManufacturerChanges {
            name: name(errors, "name", self.name),
            description: text(errors, "description", self.description, MAX_LONG_TEXT),
            logo: text(errors, "logo", self.logo, MAX_LONG_TEXT),
            is_active: self.is_active,
            billing_arrangement: text(errors, "billing_arrangement", self.billing_arrangement, MAX_TEXT),
            redemption_identifier_type: self
                .redemption_identifier_type
                .map(|v| v.and_then(|v| text(errors, "redemption_identifier_type", Some(v), MAX_TEXT))),
            primary: self.primary.and_then(|c| c.validate(errors, "primary")),
            secondary: self.secondary.and_then(|c| c.validate(errors, "secondary")),
        }
    }
}
