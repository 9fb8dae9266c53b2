//! Merchants: the businesses whose stores redeem offers.

use super::{Contact, Contacts};
use crate::input::{int_in, name, require, text, MAX_LONG_TEXT, MAX_TEXT};
use crate::{AccountId, FieldErrors, MerchantId, Timestamp};
use serde::{Deserialize, Serialize, Serializer};

/// How the merchant's point of sale takes redemption codes; selects the code format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedemptionIdentifierType {
    /// Short digits a cashier can key in (the default).
    #[default]
    ShortNumeric = 0,
    /// Long alphanumeric codes for barcode scanners.
    LongAlphanumeric = 1,
}

impl RedemptionIdentifierType {
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::ShortNumeric),
            1 => Some(Self::LongAlphanumeric),
            _ => None,
        }
    }

    pub fn code(self) -> i64 {
        self as i64
    }
}

impl Serialize for RedemptionIdentifierType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

/// The spec types merchant coordinates and zip as integers; Kindling does not store a
/// merchant address yet, so every field is null.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MerchantLocation {
    pub address: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<i64>,
    pub country: Option<String>,
    pub lat: Option<i64>,
    pub long: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merchant {
    pub id: MerchantId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub name: String,
    pub logo: Option<String>,
    pub is_active: bool,
    pub account_id: AccountId,
    pub billing_arrangement: Option<String>,
    pub supports_barcode: bool,
    pub redemption_identifier_type: RedemptionIdentifierType,
    pub location: MerchantLocation,
    /// Channels enabled for the merchant (filled once channels exist).
    pub channels: Vec<serde_json::Value>,
    pub contacts: Contacts,
    pub linked_by_channel: bool,
}

/// `{"merchant": {...}, "errors": {}}`, as embedded in a manufacturer's `merchants`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MerchantResponse {
    pub merchant: Merchant,
    pub errors: crate::FieldErrors,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MerchantInput {
    pub name: Option<String>,
    pub logo: Option<String>,
    pub is_active: Option<bool>,
    pub billing_arrangement: Option<String>,
    pub supports_barcode: Option<bool>,
    #[serde(default, deserialize_with = "crate::serde_helpers::int_or_string")]
    pub redemption_identifier_type: Option<i64>,
    pub primary: Option<Contact>,
    pub secondary: Option<Contact>,
}

/// Validated fields; `None` leaves a stored value alone. On create, defaults are filled in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MerchantChanges {
    pub name: Option<String>,
    pub logo: Option<String>,
    pub is_active: Option<bool>,
    pub billing_arrangement: Option<String>,
    pub supports_barcode: Option<bool>,
    pub redemption_identifier_type: Option<RedemptionIdentifierType>,
    pub primary: Option<Contact>,
    pub secondary: Option<Contact>,
}

impl MerchantInput {
    pub fn into_changes(self) -> Result<MerchantChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let changes = self.validate(&mut errors);
        errors.into_result(changes)
    }

    pub fn into_new(self) -> Result<MerchantChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut changes = self.validate(&mut errors);
        require(&mut errors, "name", &changes.name);
        changes.is_active.get_or_insert(true);
        changes.supports_barcode.get_or_insert(false);
        changes.redemption_identifier_type.get_or_insert_default();
        errors.into_result(changes)
    }

    fn validate(self, errors: &mut FieldErrors) -> MerchantChanges {
        let code = int_in(errors, "redemption_identifier_type", self.redemption_identifier_type, 0..=1);
        MerchantChanges {
            name: name(errors, "name", self.name),
            logo: text(errors, "logo", self.logo, MAX_LONG_TEXT),
            is_active: self.is_active,
            billing_arrangement: text(errors, "billing_arrangement", self.billing_arrangement, MAX_TEXT),
            supports_barcode: self.supports_barcode,
            redemption_identifier_type: code.and_then(RedemptionIdentifierType::from_code),
            primary: self.primary.and_then(|c| c.validate(errors, "primary")),
            secondary: self.secondary.and_then(|c| c.validate(errors, "secondary")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_needs_a_name_and_fills_defaults() {
        let new = MerchantInput { name: Some("Q Burger".into()), ..Default::default() }.into_new().unwrap();
        assert_eq!(new.is_active, Some(true));
        assert_eq!(new.supports_barcode, Some(false));
        assert_eq!(new.redemption_identifier_type, Some(RedemptionIdentifierType::ShortNumeric));
        let errors = MerchantInput::default().into_new().unwrap_err();
        assert_eq!(errors.get("name"), Some("can't be blank"));
    }

    #[test]
    fn rejects_unknown_identifier_types_and_long_contacts() {
        let input = MerchantInput {
            redemption_identifier_type: Some(7),
            primary: Some(Contact { name: Some("x".repeat(300)), ..Default::default() }),
            ..Default::default()
        };
        let errors = input.into_changes().unwrap_err();
        assert!(errors.get("redemption_identifier_type").is_some());
        assert!(errors.get("primary.name").is_some());
    }
}
