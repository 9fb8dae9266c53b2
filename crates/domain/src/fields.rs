//! Rules as data: a resource with many plain columns (an offer has forty) declares each
//! field's kind once, and one function validates a JSON input object against the table.

use crate::{FieldErrors, Timestamp};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Text of at most this many characters.
    Text(usize),
    /// An integer within the range (money in minor units, counts, enum codes).
    Int(i64, i64),
    Bool,
    /// RFC 3339 (or naive, taken as UTC).
    Time,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// Whether `null` may clear the stored value.
    pub nullable: bool,
}

pub const fn field(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, nullable: true }
}

pub const fn required(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, nullable: false }
}

/// A validated value; `None` inside means "clear it".
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Time(Option<Timestamp>),
}

fn parse_one(field: &Field, value: &Value) -> Result<FieldValue, String> {
    if value.is_null() {
        if !field.nullable {
            return Err("can't be blank".into());
        }
        return Ok(match field.kind {
            Kind::Text(_) => FieldValue::Text(None),
            Kind::Int(..) => FieldValue::Int(None),
            Kind::Bool => FieldValue::Bool(None),
            Kind::Time => FieldValue::Time(None),
        });
    }
    match field.kind {
        Kind::Text(max) => {
            let text = value.as_str().ok_or("must be a string")?;
            if text.chars().count() > max {
                return Err(format!("is too long (maximum is {max} characters)"));
            }
            if !field.nullable && text.trim().is_empty() {
                return Err("can't be blank".into());
            }
            Ok(FieldValue::Text(Some(text.to_owned())))
        }
        Kind::Int(min, max) => {
            let n = crate::input::int_value(value).ok_or("must be an integer")?;
            if !(min..=max).contains(&n) {
                return Err(format!("must be between {min} and {max}"));
            }
            Ok(FieldValue::Int(Some(n)))
        }
        Kind::Bool => match value {
            Value::Bool(b) => Ok(FieldValue::Bool(Some(*b))),
            Value::String(s) if s == "true" || s == "false" => Ok(FieldValue::Bool(Some(s == "true"))),
            _ => Err("must be true or false".into()),
        },
        Kind::Time => {
            let raw = value.as_str().ok_or("must be an ISO 8601 date-time string")?;
            // Some times are plain strings in the spec (a campaign's `start_display_at`), and
            // a string may be empty: an empty time clears it, as `null` does.
            if raw.trim().is_empty() && field.nullable {
                return Ok(FieldValue::Time(None));
            }
            Timestamp::parse(raw)
                .map(|t| FieldValue::Time(Some(t)))
                .ok_or_else(|| "must be an ISO 8601 date-time".into())
        }
    }
}

/// Validates the listed fields present in `input`; others are left to the caller.
pub fn parse(
    input: &Map<String, Value>,
    fields: &[Field],
    errors: &mut FieldErrors,
) -> Vec<(&'static str, FieldValue)> {
    let mut out = Vec::new();
    for field in fields {
        if let Some(value) = input.get(field.name) {
            match parse_one(field, value) {
                Ok(v) => out.push((field.name, v)),
                Err(message) => errors.add(field.name, &message),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[Field] = &[
        required("name", Kind::Text(10)),
        field("count", Kind::Int(0, 5)),
        field("flag", Kind::Bool),
        field("at", Kind::Time),
    ];

    #[test]
    fn validates_kinds_and_nulls() {
        let mut errors = FieldErrors::new();
        let input = json!({"name": "x", "count": "3", "flag": false, "at": "2030-01-01T00:00:00Z", "other": 1});
        let parsed = parse(input.as_object().unwrap(), FIELDS, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[1], ("count", FieldValue::Int(Some(3))));

        let bad = json!({"name": null, "count": 9, "flag": "yes", "at": "tomorrow"});
        let mut errors = FieldErrors::new();
        parse(bad.as_object().unwrap(), FIELDS, &mut errors);
        for f in ["name", "count", "flag", "at"] {
            assert!(errors.get(f).is_some(), "{f}");
        }
        let cleared = parse(json!({"count": null}).as_object().unwrap(), FIELDS, &mut FieldErrors::new());
        assert_eq!(cleared, vec![("count", FieldValue::Int(None))]);
        let cleared = parse(json!({"at": ""}).as_object().unwrap(), FIELDS, &mut FieldErrors::new());
        assert_eq!(cleared, vec![("at", FieldValue::Time(None))]);
    }
}
