//! The offer: what it gives, when it runs, how often it may be redeemed.

use super::status::OfferStatus;
use crate::fields::{field, required, Field, Kind};
use crate::{OfferId, Timestamp};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};

const TEXT: Kind = Kind::Text(255);
const LONG: Kind = Kind::Text(10_000);
/// Money and points are integers in minor units (cents).
const AMOUNT: Kind = Kind::Int(0, i32::MAX as i64);
const COUNT: Kind = Kind::Int(0, i32::MAX as i64);
const ID: Kind = Kind::Int(1, i64::MAX);

/// Every plain column an offer create or update may set, with its rule. Status, formatting,
/// criteria and the owner ids are handled separately.
pub const FIELDS: &[Field] = &[
    required("name", TEXT),
    field("description", LONG),
    field("description_template_id", ID),
    required("offer_type", Kind::Int(0, 100)),
    field("category", TEXT),
    field("offer_code", TEXT),
    field("pos_offer_code", TEXT),
    field("points_earning_value", AMOUNT),
    field("points_required_value", AMOUNT),
    field("reward_item_description", LONG),
    field("reward_item_value", AMOUNT),
    field("terms_and_conditions", LONG),
    field("terms_and_conditions_template_id", ID),
    required("quest_only", Kind::Bool),
    field("merchant_name", TEXT),
    field("external_reward", TEXT),
    required("is_reward", Kind::Bool),
    field("locked", Kind::Bool),
    field("activates_at", Kind::Time),
    field("expires_at", Kind::Time),
    field("stop_offering_at", Kind::Time),
    field("max_amount", AMOUNT),
    field("min_spend_amount", AMOUNT),
    field("trigger_amount", AMOUNT),
    field("max_redemptions", COUNT),
    field("max_redemptions_per_member", COUNT),
    field("max_redemptions_per_member_per_day", COUNT),
    field("initial_value_mode", TEXT),
    field("availability", TEXT),
    field("offer_value_text", LONG),
    field("offer_value_text_es", LONG),
    field("redeem_until_depleted", Kind::Bool),
    field("initial_remaining_value", AMOUNT),
    field("required_item_set_id", ID),
    field("redemption_item_set_id", ID),
    field("required_item_count", COUNT),
    field("redemption_item_count", COUNT),
];

/// When an offer runs. `None` bounds are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub activates_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub stop_offering_at: Option<Timestamp>,
}

impl Window {
    /// Inside `activates_at ≤ now < expires_at`.
    pub fn contains(&self, now: Timestamp) -> bool {
        self.activates_at.is_none_or(|a| a <= now) && self.expires_at.is_none_or(|e| now < e)
    }

    /// The bounds make sense: it can start before it ends, and stops offering before it ends.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        if let (Some(a), Some(e)) = (self.activates_at, self.expires_at) {
            if e <= a {
                out.push(("expires_at", "must be after activates_at"));
            }
        }
        if let (Some(s), Some(e)) = (self.stop_offering_at, self.expires_at) {
            if s > e {
                out.push(("stop_offering_at", "must not be after expires_at"));
            }
        }
        out
    }
}

/// "Active": approved and inside its window. The one rule every search and (later) every
/// credential check uses.
pub fn is_active(status: OfferStatus, window: &Window, now: Timestamp) -> bool {
    status == OfferStatus::Approved && window.contains(now)
}

/// Active, and not past `stop_offering_at`: new codes may still be issued.
pub fn is_offering(status: OfferStatus, window: &Window, now: Timestamp) -> bool {
    is_active(status, window, now) && window.stop_offering_at.is_none_or(|s| now < s)
}

/// A stored offer: its plain columns (by name, as validated by `FIELDS`) plus the parts
/// with their own shape. Serialized by `OfferView` / `SimplifiedView`.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub id: OfferId,
    pub account_id: i64,
    pub status: OfferStatus,
    pub merchant_id: Option<i64>,
    pub manufacturer_id: Option<i64>,
    pub window: Window,
    /// The other plain columns, keyed by field name, as JSON values (null when unset).
    pub columns: Map<String, Value>,
    pub criteria: Map<String, Value>,
    pub formatting: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub links: OfferLinks,
}

/// Everything an offer is linked to, filled from the link tables.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OfferLinks {
    pub merchant_ids: Vec<crate::MerchantId>,
    pub store_list_ids: Vec<crate::StoreListId>,
    pub member_list_ids: Vec<crate::MemberListId>,
    pub channels: Vec<Value>,
    pub item_sets: Vec<Value>,
    pub passbook_configuration: Option<Value>,
}

impl Offer {
    pub fn channel_ids(&self) -> Vec<i64> {
        self.links.channels.iter().filter_map(|c| c["channel"]["id"].as_i64()).collect()
    }

    fn column(&self, name: &str) -> &Value {
        self.columns.get(name).unwrap_or(&Value::Null)
    }

    fn time(t: Option<Timestamp>) -> Value {
        t.map_or(Value::Null, |t| Value::String(t.to_string()))
    }

    fn id_string(id: Option<i64>) -> Value {
        id.map_or(Value::Null, |id| Value::String(id.to_string()))
    }
}

/// The full `offer` object (`offer_response`): `merchant_id` is a string and `quest_only` a
/// string (`"false"`), as the spec types them.
pub struct OfferView<'a>(pub &'a Offer);

impl Serialize for OfferView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &o.id)?;
        map.serialize_entry("merchant_id", &Offer::id_string(o.merchant_id))?;
        map.serialize_entry("manufacturer_id", &Offer::id_string(o.manufacturer_id))?;
        for f in FIELDS {
            match f.name {
                "quest_only" => {
                    let quest = o.column("quest_only").as_bool().map(|b| b.to_string());
                    map.serialize_entry("quest_only", &quest)?
                }
                "activates_at" => map.serialize_entry(f.name, &Offer::time(o.window.activates_at))?,
                "expires_at" => map.serialize_entry(f.name, &Offer::time(o.window.expires_at))?,
                "stop_offering_at" => map.serialize_entry(f.name, &Offer::time(o.window.stop_offering_at))?,
                name => map.serialize_entry(name, o.column(name))?,
            }
        }
        map.serialize_entry("criteria", &o.criteria)?;
        map.serialize_entry("account_id", &o.account_id)?;
        map.serialize_entry("status", &o.status)?;
        map.serialize_entry("created_at", &o.created_at)?;
        map.serialize_entry("updated_at", &o.updated_at)?;
        map.serialize_entry("offers", &Vec::<Value>::new())?;
        map.serialize_entry("formatting", &o.formatting)?;
        map.serialize_entry("passbook_configuration", &o.links.passbook_configuration)?;
        map.serialize_entry("landing_page_urls", &Vec::<Value>::new())?;
        map.serialize_entry("channels", &o.links.channels)?;
        map.serialize_entry("item_sets", &o.links.item_sets)?;
        let eligibility = serde_json::json!({
            "merchant_item_set_ids": [],
            "manufacturer_item_set_ids": [],
            "merchant_ids": o.links.merchant_ids,
            "store_list_ids": o.links.store_list_ids,
            "member_list_ids": o.links.member_list_ids,
            "channel_ids": o.channel_ids(),
        });
        map.serialize_entry("eligibility", &eligibility)?;
        map.end()
    }
}

/// Keys of `offer_simplified`, the shape of offer lists.
const SIMPLIFIED: &[&str] = &[
    "name",
    "description",
    "offer_type",
    "category",
    "offer_code",
    "pos_offer_code",
    "points_earning_value",
    "points_required_value",
    "reward_item_description",
    "reward_item_value",
    "terms_and_conditions",
    "quest_only",
    "merchant_name",
    "external_reward",
    "is_reward",
    "locked",
    "max_amount",
    "min_spend_amount",
    "max_redemptions",
    "max_redemptions_per_member",
    "max_redemptions_per_member_per_day",
];

/// The list shape (`offer_simplified`): here `quest_only` is a boolean.
pub struct SimplifiedView<'a>(pub &'a Offer);

impl Serialize for SimplifiedView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &o.id)?;
        map.serialize_entry("merchant_id", &Offer::id_string(o.merchant_id))?;
        map.serialize_entry("manufacturer_id", &Offer::id_string(o.manufacturer_id))?;
        for name in SIMPLIFIED {
            map.serialize_entry(name, o.column(name))?;
        }
        map.serialize_entry("criteria", &o.criteria)?;
        map.serialize_entry("activates_at", &Offer::time(o.window.activates_at))?;
        map.serialize_entry("expires_at", &Offer::time(o.window.expires_at))?;
        map.serialize_entry("stop_offering_at", &Offer::time(o.window.stop_offering_at))?;
        map.serialize_entry("status", &o.status)?;
        map.serialize_entry("created_at", &o.created_at)?;
        map.serialize_entry("updated_at", &o.updated_at)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: i64) -> Option<Timestamp> {
        Some(Timestamp::from_unix(s))
    }

    #[test]
    fn active_means_approved_and_inside_the_window() {
        let now = Timestamp::from_unix(1_000);
        let open = Window::default();
        assert!(is_active(OfferStatus::Approved, &open, now), "null dates are unbounded");
        assert!(!is_active(OfferStatus::Pending, &open, now));
        assert!(!is_active(OfferStatus::Suspended, &open, now));
        let w = Window { activates_at: t(1_000), expires_at: t(2_000), stop_offering_at: t(1_500) };
        assert!(is_active(OfferStatus::Approved, &w, now), "activates_at is inclusive");
        assert!(!is_active(OfferStatus::Approved, &w, Timestamp::from_unix(2_000)), "expires_at is exclusive");
        assert!(is_offering(OfferStatus::Approved, &w, Timestamp::from_unix(1_499)));
        assert!(!is_offering(OfferStatus::Approved, &w, Timestamp::from_unix(1_500)));
        assert!(is_active(OfferStatus::Approved, &w, Timestamp::from_unix(1_500)), "codes stay redeemable");
    }

    #[test]
    fn window_problems() {
        let bad = Window { activates_at: t(10), expires_at: t(5), stop_offering_at: t(20) };
        let problems = bad.problems();
        assert!(problems.iter().any(|(f, _)| *f == "expires_at"));
        assert!(problems.iter().any(|(f, _)| *f == "stop_offering_at"));
        assert!(Window::default().problems().is_empty());
    }

    proptest! {
        #[test]
        fn offering_implies_active(a in 0i64..100, e in 0i64..100, s in 0i64..100, now in 0i64..100) {
            let w = Window { activates_at: t(a), expires_at: t(e), stop_offering_at: t(s) };
            let now = Timestamp::from_unix(now);
            for status in OfferStatus::ALL {
                prop_assert!(!is_offering(status, &w, now) || is_active(status, &w, now));
                prop_assert!(!is_active(status, &w, now) || status == OfferStatus::Approved);
            }
        }
    }
}
