//! Reading CTM requests as the core-ops spec spells them, leniently where the spec is
//! inconsistent: `reciept_id` or `receipt_id`, `business_date` or `budiness_date`, numbers
//! as integers or numeric strings (`account_id` is a string in one schema and an integer in
//! another). Every problem is a 422 naming the field, as the CTM operations declare.

use crate::ApiError;
use axum::http::HeaderMap;
use kindling_domain::pos::Line;
use kindling_domain::OfferId;
use kindling_store::pos::{TicketFacts, TicketItem, TicketKey};
use serde_json::{Map, Value};

/// Lines per ticket; more is refused rather than evaluated.
pub const MAX_LINES: usize = 1_000;
/// Codes per ticket.
pub const MAX_CODES: usize = 20;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::Unprocessable(message.into())
}

/// The ticket key: `site_id` from the path, `term_id` and `tran_id` from their headers
/// (also accepted with hyphens, which proxies that drop underscored headers keep).
pub fn ticket_key(site_id: &str, headers: &HeaderMap) -> Result<TicketKey, ApiError> {
    let header = |name: &str| -> Result<String, ApiError> {
        let alt = name.replace('_', "-");
        let value = headers.get(name).or_else(|| headers.get(alt.as_str()));
        match value.map(|v| v.to_str().map(str::trim)) {
            Some(Ok(v)) if !v.is_empty() && v.len() <= 255 => Ok(v.to_owned()),
            Some(Ok(v)) if !v.is_empty() => Err(invalid(format!("{name} must be at most 255 characters"))),
            Some(Err(_)) => Err(invalid(format!("{name} must be visible ASCII"))),
            _ => Err(invalid(format!("{name} header is required"))),
        }
    };
    Ok(TicketKey { site_id: site_id.to_owned(), term_id: header("term_id")?, tran_id: header("tran_id")? })
}

/// The request body as a JSON object (an empty body is an empty object).
pub fn body_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let value = serde_json::from_slice::<Value>(bytes).map_err(|e| invalid(format!("malformed JSON: {e}")))?;
    // What the rest of the API refuses (NUL, which PostgreSQL cannot store; huge arrays),
    // refused here too, as this API's 422.
    crate::extract::storable(&value).map_err(|e| match e {
        ApiError::BadRequest(message) => invalid(message),
        other => other,
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(invalid("request body must be a JSON object")),
    }
}

/// An integer (or a string of digits), `None` when absent or null.
fn int(map: &Map<String, Value>, key: &str) -> Result<Option<i64>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| invalid(format!("{key} must be an integer"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid(format!("{key} must be an integer"))),
        Some(_) => Err(invalid(format!("{key} must be an integer"))),
    }
}

/// A string (numbers are taken as their digits), `None` when absent, null or blank.
fn text(map: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.trim().chars().count() <= 255 => Ok(Some(s.trim().to_owned())),
        Some(Value::String(_)) => Err(invalid(format!("{key} must be at most 255 characters"))),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(invalid(format!("{key} must be a string"))),
    }
}

fn boolean(map: &Map<String, Value>, key: &str) -> Result<bool, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        Some(_) => Err(invalid(format!("{key} must be a boolean"))),
    }
}

/// The codes a request presents: the path's, then the body's `credential` and `credentials`.
pub fn codes(path: Option<&str>, body: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let mut codes: Vec<String> = path.map(str::to_owned).into_iter().collect();
    codes.extend(text(body, "credential")?);
    match body.get("credentials") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) if !s.trim().is_empty() && s.trim().chars().count() <= 255 => {
                        codes.push(s.trim().to_owned())
                    }
                    Value::String(s) if s.trim().is_empty() => {}
                    _ => return Err(invalid("credentials must be an array of strings")),
                }
            }
        }
        Some(_) => return Err(invalid("credentials must be an array of strings")),
    }
    // A code presented twice, anywhere in the request, counts once (first place kept).
    let mut seen = std::collections::HashSet::new();
    codes.retain(|code| seen.insert(code.clone()));
    if codes.len() > MAX_CODES {
        return Err(invalid(format!("at most {MAX_CODES} credentials per transaction")));
    }
    Ok(codes)
}

/// The cashier's choice of offers: `offers` (integers) and `selected_offers[].offer_id`;
/// `None` when the request names none (every offer of the codes is considered).
pub fn selected(body: &Map<String, Value>) -> Result<Option<Vec<OfferId>>, ApiError> {
    let mut ids = Vec::new();
    let id = |v: &Value, key: &str| -> Result<OfferId, ApiError> {
        let parsed = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        parsed.filter(|i| *i > 0).map(OfferId).ok_or_else(|| invalid(format!("{key} must hold offer ids")))
    };
    match body.get("offers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for v in items {
                ids.push(id(v, "offers")?);
            }
        }
        Some(_) => return Err(invalid("offers must be an array of offer ids")),
    }
    match body.get("selected_offers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let Some(v) = item.as_object().and_then(|o| o.get("offer_id")) else {
                    return Err(invalid("selected_offers must be objects with an offer_id"));
                };
                ids.push(id(v, "selected_offers")?);
            }
        }
        Some(_) => return Err(invalid("selected_offers must be an array")),
    }
    ids.sort_unstable();
    ids.dedup();
    Ok((!ids.is_empty()).then_some(ids))
}

/// How a ticket line is known to the POS, to point back at it in `qualifying_items`.
#[derive(Debug, Clone)]
pub struct LineRef {
    pub key: String,
    pub line_number: String,
    pub entry_id: String,
    pub item_code: String,
}

/// The basket: engine lines, the lines as recorded, and how each is known to the POS.
#[derive(Debug, Clone, Default)]
pub struct Basket {
    pub lines: Vec<Line>,
    pub items: Vec<TicketItem>,
    pub refs: Vec<LineRef>,
}

impl Basket {
    pub fn line(&self, key: &str) -> Option<&LineRef> {
        self.refs.iter().find(|r| r.key == key)
    }
}

/// Reads `items[]`. Decisions (docs/POS.md): `price` is the line's extended price in cents
/// (quantity × unit), `qw` its quantity (missing or 0: 1), `disc_val` a discount the POS
/// already gave (taken off before Kindling's); voided lines are left out; a modifier line
/// (`lln`/`linked_entry_id`) is a line of its own. Lines are keyed by `ln`, else
/// `entry_id`, else their position; a repeated key gets `#position`.
pub fn basket(body: &Map<String, Value>) -> Result<Basket, ApiError> {
    let items = match body.get("items") {
        None | Some(Value::Null) => return Ok(Basket::default()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("items must be an array")),
    };
    if items.len() > MAX_LINES {
        return Err(invalid(format!("at most {MAX_LINES} items per transaction")));
    }
    let mut basket = Basket::default();
    let mut taken = std::collections::HashSet::new();
    for (position, item) in items.iter().enumerate() {
        let Value::Object(item) = item else { return Err(invalid(format!("items[{position}] must be an object"))) };
        let field = |e: ApiError| match e {
            ApiError::Unprocessable(m) => invalid(format!("items[{position}].{m}")),
            other => other,
        };
        if boolean(item, "voided").map_err(field)? {
            continue;
        }
        let line_number = text(item, "ln").map_err(field)?.unwrap_or_default();
        let entry_id = text(item, "entry_id").map_err(field)?.unwrap_or_default();
        let item_code = text(item, "ic").map_err(field)?.unwrap_or_default();
        let quantity = int(item, "qw").map_err(field)?.unwrap_or(1);
        let price = int(item, "price").map_err(field)?.unwrap_or(0);
        let given = int(item, "disc_val").map_err(field)?.unwrap_or(0);
        if !(0..=1_000_000_000).contains(&quantity) {
            return Err(invalid(format!("items[{position}].qw must be between 0 and 1000000000")));
        }
        if !(0..=100_000_000_000).contains(&price) || !(0..=100_000_000_000).contains(&given) {
            return Err(invalid(format!(
                "items[{position}].price and disc_val must be between 0 and 100000000000 cents"
            )));
        }
        // The line's own number (else its entry id, else its position), made unique among
        // the ticket's keys: each line's discount is found and recorded by its key.
        let mut key = [&line_number, &entry_id]
            .into_iter()
            .find(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| (position + 1).to_string());
        while !taken.insert(key.clone()) {
            key = format!("{key}#{}", position + 1);
        }
        let quantity = quantity.max(1);
        basket.lines.push(Line {
            key: key.clone(),
            item_code: item_code.clone(),
            category: text(item, "cat").map_err(field)?,
            quantity,
            amount: (price - given).max(0),
            discountable: true,
        });
        basket.items.push(TicketItem {
            line: key.clone(),
            name: text(item, "desc").map_err(field)?.unwrap_or_default(),
            item_code: item_code.clone(),
            quantity,
            ext_price: price,
        });
        basket.refs.push(LineRef { key, line_number, entry_id, item_code });
    }
    Ok(basket)
}

/// The update's ticket facts (`receipt_id` or `reciept_id`, `business_date` or `budiness_date`).
pub fn closing(body: &Map<String, Value>) -> Result<TicketFacts, ApiError> {
    let either = |a: &str, b: &str| -> Result<Option<String>, ApiError> { Ok(text(body, a)?.or(text(body, b)?)) };
    let money = |key: &str| -> Result<i64, ApiError> {
        let v = int(body, key)?.unwrap_or(0);
        if (0..=100_000_000_000).contains(&v) {
            Ok(v)
        } else {
            Err(invalid(format!("{key} must be between 0 and 100000000000 cents")))
        }
    };
    // Read so that a wrong type is refused, though the ticket's own figures come from items.
    money("purchase_amt")?;
    money("total_due")?;
    money("total_discount")?;
    int(body, "num_guests")?;
    text(body, "account_id")?;
    Ok(TicketFacts {
        receipt_id: either("receipt_id", "reciept_id")?,
        business_date: either("business_date", "budiness_date")?,
        operator_id: text(body, "operator_id")?,
        till_id: text(body, "till_id")?,
        service_charge: money("total_service")?,
        tax: money("total_tax")?,
        paid: money("total_paid")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_repeated_code_counts_once_wherever_it_is() {
        // 20 distinct codes, each sent twice, not next to each other: 41 entries with the path's.
        let listed: Vec<String> = (0..40).map(|i| format!("C{}", i % 20)).collect();
        let codes = codes(Some("C3"), &body(json!({"credential": "C0", "credentials": listed}))).unwrap();
        let expected: Vec<String> =
            std::iter::once("C3".to_owned()).chain((0..20).map(|i| format!("C{i}")).filter(|c| c != "C3")).collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn every_line_has_a_key_of_its_own() {
        let keys = |items: Value| -> Vec<String> {
            basket(&body(json!({ "items": items }))).unwrap().lines.into_iter().map(|l| l.key).collect()
        };
        // A line without a number takes its position, which another line may already name.
        assert_eq!(keys(json!([{"ln": "2", "ic": "SODA"}, {"ic": "BURGER"}])), ["2", "2#2"]);
        // A repeated number takes `#position`, which another line may already name too.
        assert_eq!(keys(json!([{"ln": "A#3"}, {"ln": "A"}, {"ln": "A"}])), ["A#3", "A", "A#3#3"]);
        assert_eq!(keys(json!([{"ln": "1"}, {"entry_id": "1"}, {}])), ["1", "1#2", "3"]);
    }

    #[test]
    fn more_than_twenty_distinct_codes_are_refused() {
        let listed: Vec<String> = (0..21).map(|i| format!("C{i}")).collect();
        assert!(codes(None, &body(json!({"credentials": listed}))).is_err());
        assert_eq!(codes(None, &body(json!({"credentials": listed[..20]}))).unwrap().len(), 20);
    }
}
