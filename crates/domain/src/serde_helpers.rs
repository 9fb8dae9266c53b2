//! Lenient input decoders and exact output encoders for the spec's odd field types.

use serde::{Deserialize, Deserializer, Serializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Int(i64),
    Float(f64),
    Text(String),
}

/// Accepts `5` or `"5"` (the spec types some integer inputs as strings); anything else is an
/// error that shows the value as JSON (`expected an integer, got true`).
pub fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None => Ok(None),
        Some(v) => crate::input::int_value(&v)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {v}"))),
    }
}

/// Accepts a list of ids as numbers or digit strings (`[5, "6"]`), as id lists read through
/// `input::int_value` do; anything else in it is an error naming it.
pub fn ids_or_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
    let Some(values) = Option::<Vec<serde_json::Value>>::deserialize(d)? else { return Ok(None) };
    values
        .iter()
        .map(|v| crate::input::int_value(v).ok_or_else(|| serde::de::Error::custom(format!("expected an id, got {v}"))))
        .collect::<Result<Vec<i64>, _>>()
        .map(Some)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrString {
    Bool(bool),
    Text(String),
}

/// Accepts `true` or `"true"` (and `false`, `"false"`), as the offers' field table does.
pub fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<BoolOrString>::deserialize(d)? {
        None => Ok(None),
        Some(BoolOrString::Bool(b)) => Ok(Some(b)),
        Some(BoolOrString::Text(s)) => match s.trim() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom(format!("expected a boolean, got {s:?}"))),
        },
    }
}

/// Accepts `40.7` or `"40.7"` (coordinates arrive both ways).
pub fn float_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<NumberOrString>::deserialize(d)? {
        None => Ok(None),
        Some(NumberOrString::Int(i)) => Ok(Some(i as f64)),
        Some(NumberOrString::Float(f)) => Ok(Some(f)),
        Some(NumberOrString::Text(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected a number, got {s:?}"))),
    }
}

/// Accepts `"80202"` or `80202` for text fields that clients sometimes send as numbers.
pub fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<NumberOrString>::deserialize(d)? {
        None => Ok(None),
        Some(NumberOrString::Int(i)) => Ok(Some(i.to_string())),
        Some(NumberOrString::Float(f)) => Ok(Some(f.to_string())),
        Some(NumberOrString::Text(s)) => Ok(Some(s)),
    }
}

/// A nullable text field that distinguishes absent (`None`, with `#[serde(default)]`) from
/// `null` (`Some(None)`, to clear); numbers are kept as their decimal text.
pub fn nullable_string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(match Option::<NumberOrString>::deserialize(d)? {
        None => None,
        Some(NumberOrString::Int(i)) => Some(i.to_string()),
        Some(NumberOrString::Float(f)) => Some(f.to_string()),
        Some(NumberOrString::Text(s)) => Some(s),
    }))
}

/// Emits a coordinate as the string the spec types it as (`"40.7128"`).
pub fn opt_f64_as_string<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "int_or_string")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "float_or_string")]
        f: Option<f64>,
        #[serde(default, deserialize_with = "string_or_number")]
        s: Option<String>,
        #[serde(default, deserialize_with = "nullable_string_or_number")]
        n: Option<Option<String>>,
        #[serde(default, deserialize_with = "ids_or_strings")]
        ids: Option<Vec<i64>>,
    }

    #[test]
    fn lenient_decoders() {
        let t: T = serde_json::from_str(r#"{"i":"7","f":"40.5","s":80202}"#).unwrap();
        assert_eq!((t.i, t.f, t.s.as_deref()), (Some(7), Some(40.5), Some("80202")));
        let t: T = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!((t.i, t.f, t.s), (None, None, None));
        assert!(serde_json::from_str::<T>(r#"{"i":"x"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"f":"north"}"#).is_err());
        for bad in [r#"{"i":true}"#, r#"{"i":7.5}"#, r#"{"i":{}}"#, r#"{"i":[1]}"#] {
            let message = serde_json::from_str::<T>(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.starts_with("expected an integer, got "), "{bad}: {message}");
        }
        let nullable = |raw: &str| serde_json::from_str::<T>(raw).unwrap().n;
        assert_eq!(nullable(r#"{}"#), None);
        assert_eq!(nullable(r#"{"n":null}"#), Some(None));
        assert_eq!(nullable(r#"{"n":""}"#), Some(Some(String::new())));
        assert_eq!(nullable(r#"{"n":"upc"}"#), Some(Some("upc".into())));
        assert_eq!(nullable(r#"{"n":1}"#), Some(Some("1".into())));
        let ids = |raw: &str| serde_json::from_str::<T>(raw).map(|t| t.ids);
        assert_eq!(ids(r#"{"ids":[5," 6 ",7]}"#).unwrap(), Some(vec![5, 6, 7]));
        assert_eq!(ids(r#"{"ids":null}"#).unwrap(), None);
        for bad in [r#"{"ids":["x"]}"#, r#"{"ids":[1.5]}"#, r#"{"ids":"1,2"}"#, r#"{"ids":[[1]]}"#] {
            assert!(ids(bad).is_err(), "{bad}");
        }
    }
}
