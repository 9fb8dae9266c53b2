//! The `criteria` keys the engine reads (docs/POS.md, "Criteria keys"), parsed and checked.
//! Other keys are free-form and ignored.

use super::rule::{GroupMode, Level, RuleError, Select, UnitValue};
use super::Cents;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The largest `priority`, `repeat` or `count` accepted (keeps every product in range).
const MAX_COUNT: i64 = 1_000_000;

pub(super) fn missing(field: &str, message: &str) -> RuleError {
    RuleError::Criteria(field.to_owned(), message.to_owned())
}

/// A formatting flag: a boolean, or the strings "true"/"false".
pub(super) fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The criteria keys the engine reads, parsed; `None` where absent.
#[derive(Default)]
pub(super) struct Criteria {
    pub percent: Option<u32>,
    pub amount_off: Option<Cents>,
    pub price: Option<Cents>,
    pub value: Option<UnitValue>,
    /// `Some(None)` is "unlimited".
    pub repeat: Option<Option<u32>>,
    pub count: Option<u32>,
    pub select: Option<Select>,
    pub level: Option<Level>,
    pub group: Option<String>,
    pub group_mode: Option<GroupMode>,
    pub exclusive: Option<bool>,
    pub priority: Option<i32>,
    pub item_codes: BTreeSet<String>,
}

impl Criteria {
    pub fn parse(criteria: Option<&Map<String, Value>>) -> Result<Self, RuleError> {
        let mut c = Criteria::default();
        let Some(map) = criteria else { return Ok(c) };
        let get = |k: &str| map.get(k).filter(|v| !v.is_null());
        if let Some(v) = get("percent") {
            c.percent = Some(percent("percent", v)?);
        }
        if let Some(v) = get("amount_off") {
            c.amount_off = Some(cents("amount_off", v)?);
        }
        if let Some(v) = get("price") {
            c.price = Some(cents("price", v)?);
        }
        if let Some(v) = get("value") {
            c.value = Some(unit_value(v)?);
        }
        if let Some(v) = get("repeat") {
            c.repeat = Some(match v {
                Value::String(s) if s == "unlimited" => None,
                v => Some(count("repeat", v, "a positive integer or \"unlimited\"")?),
            });
        }
        if let Some(v) = get("count") {
            c.count = Some(count("count", v, "a positive integer")?);
        }
        if let Some(v) = get("select") {
            c.select = Some(match v.as_str() {
                Some("cheapest") => Select::Cheapest,
                Some("most_expensive") => Select::MostExpensive,
                _ => return Err(missing("select", "must be \"cheapest\" or \"most_expensive\"")),
            });
        }
        if let Some(v) = get("level") {
            c.level = Some(match v.as_str() {
                Some("item") => Level::Item,
                Some("basket") => Level::Basket,
                Some("tender") => Level::Tender,
                _ => return Err(missing("level", "must be \"item\", \"basket\" or \"tender\"")),
            });
        }
        if let Some(v) = get("group") {
            match v.as_str().map(str::trim) {
                Some(g) if !g.is_empty() && g.chars().count() <= 64 => c.group = Some(g.to_owned()),
                _ => return Err(missing("group", "must be a non-blank string of at most 64 characters")),
            }
        }
        if let Some(v) = get("group_mode") {
            c.group_mode = Some(match v.as_str() {
                Some("stack") => GroupMode::Stack,
                Some("best_deal") => GroupMode::BestDeal,
                _ => return Err(missing("group_mode", "must be \"stack\" or \"best_deal\"")),
            });
        }
        if let Some(v) = get("exclusive") {
            c.exclusive = Some(v.as_bool().ok_or_else(|| missing("exclusive", "must be true or false"))?);
        }
        if let Some(v) = get("priority") {
            match v.as_i64() {
                // A range test, not `abs`: `i64::MIN.abs()` overflows.
                Some(p) if (-MAX_COUNT..=MAX_COUNT).contains(&p) => c.priority = Some(p as i32),
                _ => return Err(missing("priority", "must be an integer from -1000000 to 1000000")),
            }
        }
        if let Some(v) = get("item_codes") {
            let bad = || missing("item_codes", "must be an array of non-blank strings");
            for code in v.as_array().ok_or_else(bad)? {
                match code.as_str().map(str::trim) {
                    Some(code) if !code.is_empty() => c.item_codes.insert(code.to_owned()),
                    _ => return Err(bad()),
                };
            }
        }
        Ok(c)
    }
}

fn unit_value(v: &Value) -> Result<UnitValue, RuleError> {
    let bad = || missing("value", "must be \"free\" or an object with one of percent, amount_off, price");
    match v {
        Value::String(s) if s == "free" => Ok(UnitValue::Free),
        Value::Object(o) if o.len() == 1 => {
            let (k, v) = o.iter().next().ok_or_else(bad)?;
            match k.as_str() {
                "percent" => Ok(UnitValue::Percent(percent("value.percent", v)?)),
                "amount_off" => Ok(UnitValue::AmountOff(cents("value.amount_off", v)?)),
                "price" => Ok(UnitValue::FixedPrice(cents("value.price", v)?)),
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

/// An amount in cents: a non-negative integer.
fn cents(field: &str, v: &Value) -> Result<Cents, RuleError> {
    v.as_i64()
        .filter(|n| (0..=i64::from(i32::MAX)).contains(n))
        .ok_or_else(|| missing(field, "must be a whole number of cents from 0 to 2147483647"))
}

fn count(field: &str, v: &Value, what: &str) -> Result<u32, RuleError> {
    v.as_i64()
        .filter(|n| (1..=MAX_COUNT).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| missing(field, &format!("must be {what} (at most {MAX_COUNT})")))
}

/// A percentage from 0 to 100 with at most two decimals, as basis points. Read from the
/// number's decimal text so no float rounding is involved.
fn percent(field: &str, v: &Value) -> Result<u32, RuleError> {
    let bad = || missing(field, "must be a number from 0 to 100 with at most two decimals");
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return Err(bad()),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    let digits = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: u32 = whole.parse().map_err(|_| bad())?;
    let frac: u32 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let bp = whole * 100 + frac;
    if bp > 10_000 {
        return Err(bad());
    }
    Ok(bp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn priority_out_of_range_is_refused_at_both_ends() {
        for p in [i64::MIN, -1_000_001, 1_000_001, i64::MAX] {
            let criteria = json!({ "priority": p });
            assert!(Criteria::parse(criteria.as_object()).is_err(), "{p}");
        }
        let criteria = json!({"priority": -1_000_000});
        assert_eq!(Criteria::parse(criteria.as_object()).unwrap().priority, Some(-1_000_000));
    }
}
