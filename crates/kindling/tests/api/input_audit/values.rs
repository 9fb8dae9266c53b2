//! The spec-valid values of unusual kinds sent for each property of a request schema.

use crate::spec::Spec;
use serde_json::{json, Map, Value};

/// Characters in the long string that fits the documented cap (255, docs/API-DESIGN.md).
pub const LONG: usize = 255;
/// Characters in the string over every cap (the longest is 10 000, for long text).
const OVER: usize = 10_002;

/// Non-ASCII text of `chars` characters, with one outside the Basic Multilingual Plane.
pub fn unicode(chars: usize) -> String {
    "ü€😀".chars().cycle().take(chars).collect()
}

/// One value to send for one property: where it goes below the body's root, and whether
/// the spec declares it a date-time (the one string format the spec constrains).
pub struct Probe {
    pub path: Vec<String>,
    pub value: Value,
    pub date_time: bool,
}

/// Every probe for `schema`, walking nested objects (`contact`, `formatting`, ...).
pub fn probes(spec: &Spec, schema: &Value) -> Vec<Probe> {
    let mut out = Vec::new();
    walk(spec, schema, &mut Vec::new(), &mut out);
    out
}

fn walk(spec: &Spec, schema: &Value, at: &mut Vec<String>, out: &mut Vec<Probe>) {
    let schema = spec.resolve(schema);
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        if !at.is_empty() {
            out.push(Probe { path: at.clone(), value: json!({}), date_time: false });
        }
        for (name, property) in properties {
            at.push(name.clone());
            walk(spec, property, at, out);
            at.pop();
        }
        return;
    }
    let date_time = schema["format"] == "date-time";
    for value in values(spec, schema) {
        out.push(Probe { path: at.clone(), value, date_time });
    }
}

/// Values of the schema's own type: empty and long unicode strings, 0, negative and
/// largest integers, both booleans, empty arrays, null where the spec allows it.
pub fn values(spec: &Spec, schema: &Value) -> Vec<Value> {
    let schema = spec.resolve(schema);
    let format = schema["format"].as_str();
    let mut values = match schema["type"].as_str() {
        Some("string") if format == Some("date-time") => {
            vec![json!("1970-01-01T00:00:00Z"), json!("2099-12-31T23:59:59.999+14:00")]
        }
        Some("string") => vec![json!(""), json!(unicode(LONG)), json!(unicode(OVER))],
        Some("integer") => {
            let max = if format == Some("int32") { i64::from(i32::MAX) } else { i64::MAX };
            vec![json!(0), json!(-1), json!(max)]
        }
        Some("number") => vec![json!(0), json!(-1.5), json!(1e300)],
        Some("boolean") => vec![json!(true), json!(false)],
        Some("array") => {
            let items = values(spec, &schema["items"]);
            std::iter::once(json!([])).chain(items.into_iter().map(|v| json!([v]))).collect()
        }
        _ => match schema.get("additionalProperties") {
            Some(extra) if extra.is_object() => std::iter::once(json!({}))
                .chain(values(spec, extra).into_iter().map(|v| Value::Object(Map::from_iter([("k".into(), v)]))))
                .collect(),
            _ => Vec::new(),
        },
    };
    // The spec writes its nullable strings as `format: nullable`.
    if format == Some("nullable") || schema["nullable"] == true {
        values.push(Value::Null);
    }
    values
}

/// A value shortened for a failure message.
pub fn show(value: &Value) -> String {
    let text = value.to_string();
    match text.chars().count() {
        n if n > 40 => format!("{}…({n} chars)", text.chars().take(12).collect::<String>()),
        _ => text,
    }
}
