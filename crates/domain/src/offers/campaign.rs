//! Campaigns: an offer on a channel, created by naming the channel (found or created).

use crate::fields::{field, Field, Kind};

/// Plain campaign fields a create or update may set (stored on the offer×channel row).
pub const FIELDS: &[Field] = &[
    field("external_id", Kind::Text(255)),
    field("code_ref", Kind::Text(255)),
    field("code_count", Kind::Text(32)),
    field("pos_offer_code", Kind::Text(255)),
    field("funding_source", Kind::Text(255)),
    field("start_display_at", Kind::Time),
    field("stop_display_at", Kind::Text(64)),
    field("description_template_id", Kind::Text(64)),
    field("landing_page_image_template_id", Kind::Text(64)),
    field("terms_and_conditions_template_id", Kind::Text(64)),
    field("security", Kind::Text(64)),
    field("allow_return_later", Kind::Bool),
    field("generate_reusable_codes", Kind::Bool),
];

/// Lists of store or store-list numbers, given as integers (the spec) or strings.
pub fn numbers(value: &serde_json::Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| match v {
            serde_json::Value::Number(n) => n.as_i64().map(|n| n.to_string()),
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => None,
        })
        .collect()
}

/// Eligible item sets: which items qualify (0) or are discounted (1), and how many.
pub const ITEM_SET_FIELDS: &[Field] = &[
    crate::fields::required("item_set_id", Kind::Int(1, i64::MAX)),
    crate::fields::required("list_type", Kind::Int(0, 1)),
    crate::fields::required("req_qty", Kind::Int(1, 10_000)),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_accept_ints_and_strings() {
        assert_eq!(numbers(&json!([1, "0042"])), Some(vec!["1".into(), "0042".into()]));
        assert_eq!(numbers(&json!([true])), None);
        assert_eq!(numbers(&json!("1")), None);
    }
}
