//! Whether an offer write leaves the offer with a point-of-sale rule the engine can run
//! (docs/POS.md, "Offer rules"): shared by `POST/PUT /v1.0/offers` and the portal's offer
//! forms, through `kindling_store::offers::write`.

use super::offer::Offer;
use crate::pos::rule;
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;
use std::fmt;

/// A refused rule: the body field it is about (`offer_type`, `criteria.percent`, ...) and
/// what is wrong with it. Shown as `"{field} {problem}"`, the API's 422 message; the portal
/// puts the problem next to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRefusal {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for RuleRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

/// The body keys that take part in the rule.
const RULE_KEYS: &[&str] = &[
    "offer_type",
    "criteria",
    "formatting",
    "reward_item_value",
    "max_amount",
    "min_spend_amount",
    "trigger_amount",
    "required_item_set_id",
    "redemption_item_set_id",
    "required_item_count",
    "redemption_item_count",
    "initial_remaining_value",
];

/// The rule the offer will have after a write of `body` over `current` (`None` on create)
/// must build: an unknown `offer_type` or a bad value of a criteria key the engine reads is
/// refused, naming the field. Body values win over the stored offer's.
pub fn check(body: &Map<String, Json>, current: Option<&Offer>) -> Result<(), RuleRefusal> {
    // An update that leaves the rule alone (a new name, say) is not held to it: an offer
    // saved before the engine knew its type can still be renamed, suspended or archived.
    if current.is_some() && !RULE_KEYS.iter().any(|k| body.contains_key(*k)) {
        return Ok(());
    }
    let value = |key: &str| -> Option<&Json> {
        match body.get(key) {
            Some(v) => Some(v),
            None => current.and_then(|o| o.columns.get(key)),
        }
    };
    let int =
        |key: &str| value(key).and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
    let criteria = match body.get("criteria") {
        Some(Json::Object(m)) => m.clone(),
        _ => current.map(|o| o.criteria.clone()).unwrap_or_default(),
    };
    let mut formatting = current.map(|o| o.formatting.clone()).unwrap_or_default();
    if let Some(Json::Object(patch)) = body.get("formatting") {
        formatting.extend(patch.clone());
    }
    let set = |id: &str, count: &str| {
        int(id).map(|_| (BTreeSet::new(), u32::try_from(int(count).unwrap_or(1).max(1)).unwrap_or(1)))
    };
    let input = rule::RuleInput {
        offer_type: int("offer_type").unwrap_or(0),
        criteria: Some(&criteria),
        formatting: Some(&formatting),
        reward_item_value: int("reward_item_value"),
        max_amount: int("max_amount"),
        min_spend_amount: int("min_spend_amount"),
        trigger_amount: int("trigger_amount"),
        required: set("required_item_set_id", "required_item_count"),
        redemption: set("redemption_item_set_id", "redemption_item_count"),
        remaining_value: int("initial_remaining_value"),
    };
    match rule::build(&input) {
        Ok(_) => Ok(()),
        Err(rule::RuleError::UnknownType(t)) => {
            let known: Vec<String> =
                rule::OfferType::ALL.iter().map(|k| format!("{} ({})", k.code(), k.name())).collect();
            let problem = format!("{t} is not supported; the supported types are {}", known.join(", "));
            Err(RuleRefusal { field: "offer_type".into(), problem })
        }
        Err(rule::RuleError::Criteria(field, problem)) => {
            Err(RuleRefusal { field: format!("criteria.{field}"), problem })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Json) -> Map<String, Json> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn an_unknown_type_is_refused_naming_the_known_ones() {
        let refusal = check(&body(json!({"name": "x", "offer_type": 99})), None).unwrap_err();
        assert_eq!(refusal.field, "offer_type");
        assert!(refusal.to_string().starts_with("offer_type 99 is not supported"), "{refusal}");
        let bad = check(&body(json!({"name": "x", "offer_type": 2, "criteria": {"percent": 150}})), None);
        assert_eq!(bad.unwrap_err().field, "criteria.percent");
        assert!(check(&body(json!({"name": "x"})), None).is_ok(), "type 0 by default");
    }
}
