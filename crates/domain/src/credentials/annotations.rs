//! Credential annotations: free-form data stored with a credential. Clients send an object,
//! a JSON string, or (the generated client cannot nest) flat `conv_ids.<key>` entries; all
//! become one JSON object. The spec types the field as a string, so it is shown JSON-encoded.

use serde_json::{Map, Value};

/// Normalizes input annotations into an object; `Err` with a message when unusable.
pub fn parse(input: &Value) -> Result<Map<String, Value>, &'static str> {
    let object = match input {
        Value::Null => return Ok(Map::new()),
        Value::Object(o) => o.clone(),
        Value::String(s) if s.trim().is_empty() => return Ok(Map::new()),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o,
            _ => return Err("must be an object or a JSON object string"),
        },
        _ => return Err("must be an object or a JSON object string"),
    };
    let mut out = Map::new();
    for (key, value) in object {
        match key.strip_prefix("conv_ids.") {
            Some(conv_key) if !conv_key.is_empty() => {
                let conv = out.entry("conv_ids").or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(conv) = conv {
                    conv.insert(conv_key.to_owned(), value);
                }
            }
            _ => {
                if key == "conv_ids" && !value.is_object() {
                    return Err("conv_ids must be an object");
                }
                if let (Some(Value::Object(existing)), Value::Object(new)) = (out.get_mut(&key), &value) {
                    existing.extend(new.clone());
                } else {
                    out.insert(key, value);
                }
            }
        }
    }
    if serde_json::to_string(&out).map_or(0, |s| s.len()) > 10_000 {
        return Err("is too large (maximum is 10000 bytes)");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_objects_strings_and_flat_conv_ids() {
        let expected = json!({"conv_ids": {"click": "abc"}, "src": "email"});
        assert_eq!(Value::Object(parse(&json!({"conv_ids": {"click": "abc"}, "src": "email"})).unwrap()), expected);
        assert_eq!(
            Value::Object(parse(&json!("{\"conv_ids\":{\"click\":\"abc\"},\"src\":\"email\"}")).unwrap()),
            expected
        );
        assert_eq!(Value::Object(parse(&json!({"conv_ids.click": "abc", "src": "email"})).unwrap()), expected);
        assert!(parse(&json!([1])).is_err());
        assert!(parse(&json!("not json")).is_err());
        assert!(parse(&json!({"conv_ids": 5})).is_err());
        assert_eq!(parse(&json!(null)).unwrap(), Map::new());
    }
}
