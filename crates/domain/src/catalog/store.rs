//! Stores: a merchant's physical locations, where codes are redeemed.

use super::{Contact, Contacts};
use crate::input::{name, require, text, MAX_LONG_TEXT, MAX_TEXT};
use crate::serde_helpers::{float_or_string, opt_f64_as_string, string_or_number};
use crate::{FieldErrors, MerchantId, StoreId};
use serde::{Deserialize, Serialize};

/// A store's address; the spec types `zip`, `lat` and `lng` as strings here.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreLocation {
    pub address: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    #[serde(serialize_with = "opt_f64_as_string")]
    pub lat: Option<f64>,
    #[serde(serialize_with = "opt_f64_as_string")]
    pub lng: Option<f64>,
}

/// Filled by "nearby" searches: the searched point and the distance in whole meters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nearby {
    pub lat: String,
    pub lng: String,
    pub distance: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Store {
    pub id: StoreId,
    pub name: String,
    /// The id the point of sale knows the store by (CTM `site_id`); unique per account.
    pub site_id: Option<String>,
    /// The merchant's own store number; unique per merchant.
    pub number: Option<String>,
    pub description: Option<String>,
    pub is_active: bool,
    pub phone: Option<String>,
    pub location: StoreLocation,
    pub contacts: Contacts,
    pub merchant_id: MerchantId,
    pub nearby: Option<Nearby>,
    pub icon_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LocationInput {
    pub address: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub zip: Option<String>,
    pub country: Option<String>,
    #[serde(default, deserialize_with = "float_or_string")]
    pub lat: Option<f64>,
    #[serde(default, deserialize_with = "float_or_string")]
    pub lng: Option<f64>,
}

/// The spec's `store_input` plus `site_id`, `icon_url` and `location`, which stores need for
/// point-of-sale lookups and nearby searches.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoreInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub number: Option<String>,
    pub phone: Option<String>,
    pub primary: Option<Contact>,
    pub secondary: Option<Contact>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub site_id: Option<String>,
    pub icon_url: Option<String>,
    pub location: Option<LocationInput>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_active: Option<bool>,
    pub number: Option<String>,
    pub phone: Option<String>,
    pub primary: Option<Contact>,
    pub secondary: Option<Contact>,
    pub site_id: Option<String>,
    pub icon_url: Option<String>,
    pub address: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

fn coordinate(errors: &mut FieldErrors, field: &str, raw: Option<f64>, limit: f64) -> Option<f64> {
    let raw = raw?;
    if raw.is_finite() && (-limit..=limit).contains(&raw) {
        Some(raw)
    } else {
        errors.add(field, &format!("must be between -{limit} and {limit}"));
        None
    }
}

impl StoreInput {
    pub fn into_changes(self) -> Result<StoreChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let changes = self.validate(&mut errors);
        errors.into_result(changes)
    }

    pub fn into_new(self) -> Result<StoreChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut changes = self.validate(&mut errors);
        require(&mut errors, "name", &changes.name);
        changes.is_active.get_or_insert(true);
        errors.into_result(changes)
    }

    fn validate(self, errors: &mut FieldErrors) -> StoreChanges {
        let location = self.location.unwrap_or_default();
        let short = |errors: &mut FieldErrors, field: &str, raw| text(errors, field, raw, MAX_TEXT);
        StoreChanges {
            name: name(errors, "name", self.name),
            description: text(errors, "description", self.description, MAX_LONG_TEXT),
            is_active: self.is_active,
            number: short(errors, "number", self.number),
            phone: text(errors, "phone", self.phone, 64),
            primary: self.primary.and_then(|c| c.validate(errors, "primary")),
            secondary: self.secondary.and_then(|c| c.validate(errors, "secondary")),
            site_id: short(errors, "site_id", self.site_id),
            icon_url: text(errors, "icon_url", self.icon_url, MAX_LONG_TEXT),
            address: short(errors, "location.address", location.address),
            address2: short(errors, "location.address2", location.address2),
            city: short(errors, "location.city", location.city),
            state: short(errors, "location.state", location.state),
            zip: short(errors, "location.zip", location.zip),
            country: short(errors, "location.country", location.country),
            lat: coordinate(errors, "location.lat", location.lat, 90.0),
            lng: coordinate(errors, "location.lng", location.lng, 180.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn create_requires_a_name_and_defaults_to_active() {
        let new = StoreInput { name: Some("Downtown".into()), ..Default::default() }.into_new().unwrap();
        assert_eq!(new.is_active, Some(true));
        assert!(StoreInput::default().into_new().unwrap_err().get("name").is_some());
    }

    #[test]
    fn location_serializes_coordinates_as_strings() {
        let loc = StoreLocation { lat: Some(40.7128), lng: Some(-74.006), ..Default::default() };
        let json = serde_json::to_value(&loc).unwrap();
        assert_eq!(json["lat"], "40.7128");
        assert_eq!(json["lng"], "-74.006");
        assert_eq!(json["zip"], serde_json::Value::Null);
    }

    proptest! {
        #[test]
        fn coordinates_outside_the_globe_are_refused(lat in 90.0001f64..1e6, lng in 180.0001f64..1e6) {
            let input = StoreInput {
                location: Some(LocationInput { lat: Some(lat), lng: Some(-lng), ..Default::default() }),
                ..Default::default()
            };
            let errors = input.into_changes().unwrap_err();
            prop_assert!(errors.get("location.lat").is_some());
            prop_assert!(errors.get("location.lng").is_some());
        }
    }
}
