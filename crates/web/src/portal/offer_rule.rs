//! The offer's point-of-sale rule in the offer forms and on its page (docs/PORTAL.md, "The
//! POS rule"): the offer type, the `criteria` keys that type reads (docs/POS.md, "Criteria
//! keys") as typed inputs, the required and redemption item sets with their counts, and a
//! stored value's balance.
//!
//! The form only turns text into the API's body; the rules are the API's
//! (`offers::write::validate` and its `rule_check`). `criteria` is one JSON object that the
//! API replaces whole, so an edit merges the form's keys into the stored object (`merged`)
//! inside the write's read-modify-write: keys the form does not show are kept.

use kindling_domain::offers::offer::Offer;
use kindling_domain::pos::rule::OfferType;
use minijinja::{context, Value};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// How a criteria input's text becomes its JSON value. Text that does not fit is sent as a
/// string, for the rule check to refuse with its own words.
#[derive(Clone, Copy)]
enum Input {
    /// A percentage: a JSON number (`12.5`), read by the engine from its decimal text.
    Percent,
    /// Whole cents, counts, priorities: an integer.
    Integer,
    /// A positive integer or `unlimited`.
    Repeat,
    /// A word from a select (`cheapest`).
    Word,
    /// `true` or `false` from a select.
    Switch,
}

/// A criteria key the form shows, as the form field `criteria_<key>`.
struct CriteriaField {
    key: &'static str,
    input: Input,
    /// The offer types that read it; for the others the form removes it.
    types: &'static [i64],
}

const ITEM_TYPES: &[i64] = &[0, 1, 2, 3];
const EVERY_TYPE: &[i64] = &[0, 1, 2, 3, 4, 5, 6];

const CRITERIA: [CriteriaField; 8] = [
    CriteriaField { key: "percent", input: Input::Percent, types: &[2, 5] },
    CriteriaField { key: "amount_off", input: Input::Integer, types: &[1, 4] },
    CriteriaField { key: "price", input: Input::Integer, types: &[3] },
    CriteriaField { key: "count", input: Input::Integer, types: ITEM_TYPES },
    CriteriaField { key: "select", input: Input::Word, types: ITEM_TYPES },
    CriteriaField { key: "repeat", input: Input::Repeat, types: EVERY_TYPE },
    CriteriaField { key: "priority", input: Input::Integer, types: EVERY_TYPE },
    CriteriaField { key: "exclusive", input: Input::Switch, types: EVERY_TYPE },
];

/// The offer columns of the rule the form shows: the item sets and their counts, for every
/// type (docs/POS.md, "Targets").
const SET_FIELDS: [&str; 4] =
    ["required_item_set_id", "required_item_count", "redemption_item_set_id", "redemption_item_count"];
/// A stored value's balance (type 6), with the switch `redeem_until_depleted`; sent only
/// for that type, so another type's save leaves them as they are.
const BALANCE: &str = "initial_remaining_value";
pub(super) const DEPLETED: &str = "redeem_until_depleted";
const STORED_VALUE: i64 = 6;

/// Every text field of the rule part of the form (its errors show next to it).
pub(super) const FIELDS: [&str; 13] = [
    "required_item_set_id",
    "required_item_count",
    "redemption_item_set_id",
    "redemption_item_count",
    "initial_remaining_value",
    "criteria_percent",
    "criteria_amount_off",
    "criteria_price",
    "criteria_count",
    "criteria_select",
    "criteria_repeat",
    "criteria_priority",
    "criteria_exclusive",
];

fn form_field(key: &str) -> String {
    format!("criteria_{key}")
}

/// What each type does, in the marketer's words (docs/POS.md, "Types").
pub(super) fn explanation(offer_type: OfferType) -> &'static str {
    match offer_type {
        OfferType::ItemReward => {
            "Buy the required items, get the rewarded items free (each capped at the reward value when one is \
             set). Without rewarded items the register prices the POS offer code itself."
        }
        OfferType::ItemAmountOff => "An amount off each rewarded item (any item when no rewarded items are set).",
        OfferType::ItemPercentOff => "A percentage off each rewarded item (any item when no rewarded items are set).",
        OfferType::ItemFixedPrice => "Rewarded items sold at a fixed price (any item when none are set).",
        OfferType::BasketAmountOff => "An amount off the basket: the rewarded items' lines, or the whole ticket.",
        OfferType::BasketPercentOff => "A percentage off the basket: the rewarded items' lines, or the whole ticket.",
        OfferType::StoredValue => "Stored value: pays up to the remaining balance of what is left of the ticket.",
    }
}

/// The form's values of the rule from the stored offer, as text.
pub(super) fn stored_values(offer: &Offer, values: &mut Map<String, Json>) {
    for field in SET_FIELDS.into_iter().chain([BALANCE]) {
        values.insert(field.to_owned(), text_of(offer.columns.get(field)).into());
    }
    values.insert(DEPLETED.to_owned(), Json::Bool(offer.columns.get(DEPLETED) == Some(&Json::Bool(true))));
    for c in &CRITERIA {
        values.insert(form_field(c.key), text_of(offer.criteria.get(c.key)).into());
    }
}

fn text_of(value: Option<&Json>) -> String {
    match value {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The JSON value an input's text becomes.
fn criteria_value(input: Input, text: &str) -> Json {
    let number = |t: &str| t.parse::<i64>().ok().map(Json::from);
    let parsed = match input {
        Input::Percent => text.parse::<serde_json::Number>().ok().map(Json::Number),
        Input::Integer => number(text),
        Input::Repeat if text == "unlimited" => None,
        Input::Repeat => number(text),
        Input::Word => None,
        Input::Switch => match text {
            "true" => Some(Json::Bool(true)),
            "false" => Some(Json::Bool(false)),
            _ => None,
        },
    };
    parsed.unwrap_or_else(|| Json::from(text))
}

/// Adds the rule's part of the API body for the form's `values` (text as posted). On create
/// blanks are left out; on edit a blank column is cleared (`null`) and a blank criteria key,
/// or one the chosen type does not read, is removed (`null` in `criteria`, a patch that
/// `merged` applies). The balance goes only with the stored-value type.
pub(super) fn add_to_body(values: &Map<String, Json>, create: bool, body: &mut Map<String, Json>) {
    let text = |field: &str| values.get(field).and_then(Json::as_str).unwrap_or_default().trim().to_owned();
    // An offer type that is no number is refused by the API; meanwhile keep every key.
    let offer_type = text("offer_type").parse::<i64>().ok();
    let reads = |types: &[i64]| offer_type.is_none_or(|t| types.contains(&t));
    let mut criteria = Map::new();
    for c in &CRITERIA {
        let value = text(&form_field(c.key));
        if !value.is_empty() && reads(c.types) {
            criteria.insert(c.key.to_owned(), criteria_value(c.input, &value));
        } else if !create {
            criteria.insert(c.key.to_owned(), Json::Null);
        }
    }
    body.insert("criteria".into(), Json::Object(criteria));
    let mut columns: Vec<&str> = SET_FIELDS.to_vec();
    if offer_type == Some(STORED_VALUE) {
        columns.push(BALANCE);
        body.insert(DEPLETED.into(), values.get(DEPLETED).cloned().unwrap_or(Json::Bool(false)));
    }
    for field in columns {
        match text(field) {
            blank if blank.is_empty() && create => {}
            blank if blank.is_empty() => drop(body.insert(field.to_owned(), Json::Null)),
            value => drop(body.insert(field.to_owned(), Json::from(value))),
        }
    }
}

/// The stored `criteria` with the form's patch applied: `null` removes a key, any other
/// value sets it, and the keys the form does not show are kept as they are.
pub(super) fn merged(current: &Map<String, Json>, patch: &Map<String, Json>) -> Map<String, Json> {
    let mut criteria = current.clone();
    for (key, value) in patch {
        if value.is_null() {
            criteria.remove(key);
        } else {
            criteria.insert(key.clone(), value.clone());
        }
    }
    criteria
}

/// The form field a refused rule's body field is shown next to (`criteria.percent` →
/// `criteria_percent`), when the form has it.
pub(super) fn field_of(api_field: &str) -> Option<String> {
    if api_field == "offer_type" {
        return Some(api_field.to_owned());
    }
    let key = api_field.strip_prefix("criteria.")?;
    let field = form_field(key);
    FIELDS.contains(&field.as_str()).then_some(field)
}

/// Cents as money (`350` → `3.50`).
fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

/// One criteria key in words.
fn in_words(key: &str, value: &Json) -> String {
    let text = text_of(Some(value));
    let cents = || value.as_i64().map_or_else(|| text.clone(), money);
    match (key, value) {
        ("percent", _) => format!("{text}% off"),
        ("amount_off", _) => format!("{} off", cents()),
        ("price", _) => format!("Sold at {}", cents()),
        ("count", _) => format!("{text} rewarded per use"),
        ("repeat", Json::String(s)) if s == "unlimited" => "As many uses per ticket as the basket allows".into(),
        ("repeat", _) => format!("At most {text} use(s) per ticket"),
        ("select", Json::String(s)) if s == "most_expensive" => "Rewards the most expensive items first".into(),
        ("select", _) => "Rewards the cheapest items first".into(),
        ("priority", _) => format!("Priority {text} (higher runs first)"),
        ("exclusive", Json::Bool(true)) => "Exclusive: not combined with the other offers of its level".into(),
        ("exclusive", _) => "Combined with other offers".into(),
        (key, _) => format!("{key}: {text}"),
    }
}

/// The rule as the offer's page shows it: type and what it does, the criteria in words, the
/// item sets (`set_names`: their names by id, one read for the page) and a balance.
pub(super) fn summary(offer: &Offer, set_names: &HashMap<i64, String>) -> Value {
    let code = offer.columns.get("offer_type").and_then(Json::as_i64);
    let kind = code.and_then(OfferType::from_code);
    let known: Vec<&str> = CRITERIA.iter().map(|c| c.key).collect();
    // The form's keys first, in its order; then the others, as stored.
    let mut criteria: Vec<String> =
        CRITERIA.iter().filter_map(|c| offer.criteria.get(c.key).map(|v| in_words(c.key, v))).collect();
    criteria.extend(offer.criteria.iter().filter(|(k, _)| !known.contains(&k.as_str())).map(|(k, v)| in_words(k, v)));
    let set = |id_field: &str, count_field: &str| {
        let id = offer.columns.get(id_field).and_then(Json::as_i64)?;
        let count = offer.columns.get(count_field).and_then(Json::as_i64).unwrap_or(1);
        Some(context! { id => id, name => set_names.get(&id).cloned(), count => count })
    };
    let balance = (kind == Some(OfferType::StoredValue))
        .then(|| offer.columns.get(BALANCE).and_then(Json::as_i64).map(money))
        .flatten();
    context! {
        type_name => kind.map_or_else(|| code.map_or_else(String::new, |c| format!("type {c}")), |k| k.name().replace('_', " ")),
        explanation => kind.map(explanation),
        criteria => criteria,
        required => set("required_item_set_id", "required_item_count"),
        redemption => set("redemption_item_set_id", "redemption_item_count"),
        balance => balance,
        depleted => offer.columns.get(DEPLETED) == Some(&Json::Bool(true)),
    }
}

/// The item set ids the offer names (for one read of their names).
pub(super) fn set_ids(offer: &Offer) -> Vec<i64> {
    ["required_item_set_id", "redemption_item_set_id"]
        .iter()
        .filter_map(|f| offer.columns.get(*f).and_then(Json::as_i64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(pairs: &[(&str, &str)]) -> Map<String, Json> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), Json::from(*v))).collect()
    }

    #[test]
    fn criteria_text_becomes_typed_json_and_the_type_decides_which_keys_go() {
        let values = form(&[
            ("offer_type", "2"),
            ("criteria_percent", "12.5"),
            ("criteria_amount_off", "300"),
            ("criteria_repeat", "unlimited"),
            ("criteria_exclusive", "true"),
            ("criteria_count", "x"),
            ("required_item_set_id", "7"),
            ("required_item_count", ""),
        ]);
        let mut create = Map::new();
        add_to_body(&values, true, &mut create);
        assert_eq!(
            create["criteria"],
            json!({"percent": 12.5, "repeat": "unlimited", "exclusive": true, "count": "x"}),
            "amount_off is not read by type 2; a bad count goes as text for the API to refuse"
        );
        assert_eq!(create["required_item_set_id"], "7");
        assert!(!create.contains_key("required_item_count") && !create.contains_key(BALANCE));
        let mut edit = Map::new();
        add_to_body(&values, false, &mut edit);
        assert_eq!(edit["criteria"]["amount_off"], Json::Null, "removed on edit");
        assert_eq!(edit["required_item_count"], Json::Null);
        assert!(!edit.contains_key(DEPLETED), "only with the stored-value type");
    }

    #[test]
    fn the_patch_keeps_keys_the_form_does_not_show() {
        let current = json!({"percent": 10, "visits": 10, "group": "lunch"});
        let patch = json!({"percent": 20, "count": null});
        let merged = merged(current.as_object().unwrap(), patch.as_object().unwrap());
        assert_eq!(Json::Object(merged), json!({"percent": 20, "visits": 10, "group": "lunch"}));
    }

    #[test]
    fn refusals_map_to_the_form_fields() {
        assert_eq!(field_of("criteria.percent").as_deref(), Some("criteria_percent"));
        assert_eq!(field_of("offer_type").as_deref(), Some("offer_type"));
        assert_eq!(field_of("criteria.group"), None, "not on the form: shown at the top");
        assert_eq!(money(350), "3.50");
        assert_eq!(in_words("percent", &json!(12.5)), "12.5% off");
    }
}
