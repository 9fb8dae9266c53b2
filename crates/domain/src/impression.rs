//! Impressions: one view of an offer's landing page, or one posted through the API.

use crate::input::{name, require, text, MAX_LONG_TEXT, MAX_TEXT};
use crate::{AccountId, ChannelId, FieldErrors, ImpressionId, MemberId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// As the spec's `impression` object shows it. `annotations` is a JSON text (the spec types
/// it as a string).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impression {
    pub id: ImpressionId,
    pub account_id: AccountId,
    pub annotations: String,
    pub cookie_id: String,
    pub offer_xid: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub member_id: Option<MemberId>,
    pub channel_id: Option<ChannelId>,
    pub channel_name: Option<String>,
    pub creative_name: Option<String>,
}

/// The body of `POST /v1.0/impressions`: the spec's `impression_input` plus two fields a
/// landing page knows (`member_id`, `creative_name`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImpressionInput {
    pub cookie_id: Option<String>,
    pub offer_xid: Option<String>,
    /// An object (the generated client sends string → string) or a string.
    pub annotations: Option<Value>,
    #[serde(default, deserialize_with = "crate::serde_helpers::int_or_string")]
    pub member_id: Option<i64>,
    pub creative_name: Option<String>,
}

/// A validated impression, before its `offer_xid` is resolved to a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidImpression {
    pub cookie_id: String,
    pub offer_xid: String,
    /// As stored and shown: an object as compact JSON text, a string as given.
    pub annotations: String,
    pub member_id: Option<MemberId>,
    pub creative_name: Option<String>,
}

impl ImpressionInput {
    /// Checks every field at once; `cookie_id` and `offer_xid` are required and not blank.
    pub fn into_new(self) -> Result<ValidImpression, FieldErrors> {
        let mut errors = FieldErrors::new();
        let cookie_id = name(&mut errors, "cookie_id", self.cookie_id);
        require(&mut errors, "cookie_id", &cookie_id);
        let offer_xid = name(&mut errors, "offer_xid", self.offer_xid);
        require(&mut errors, "offer_xid", &offer_xid);
        let annotations = annotations_text(&mut errors, self.annotations);
        let creative_name = text(&mut errors, "creative_name", self.creative_name, MAX_TEXT).filter(|c| !c.is_empty());
        match (cookie_id, offer_xid, annotations) {
            (Some(cookie_id), Some(offer_xid), Some(annotations)) if errors.is_empty() => Ok(ValidImpression {
                cookie_id,
                offer_xid,
                annotations,
                member_id: self.member_id.map(MemberId),
                creative_name,
            }),
            _ => Err(errors),
        }
    }
}

/// The text `annotations` is stored as: an object compacted, a string as given, none as
/// `{}`; at most `MAX_LONG_TEXT` characters either way.
fn annotations_text(errors: &mut FieldErrors, raw: Option<Value>) -> Option<String> {
    let text = match raw {
        None | Some(Value::Null) => return Some("{}".to_owned()),
        Some(Value::String(s)) => s,
        Some(object @ Value::Object(_)) => object.to_string(),
        Some(_) => {
            errors.add("annotations", "must be an object or a string");
            return None;
        }
    };
    if text.chars().count() > MAX_LONG_TEXT {
        errors.add("annotations", &format!("is too long (maximum is {MAX_LONG_TEXT} characters)"));
        return None;
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(body: Value) -> ImpressionInput {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn annotations_are_kept_as_text() {
        let valid = input(json!({"cookie_id": "c", "offer_xid": "x", "annotations": {"b": "2", "a": "1"}}));
        let valid = valid.into_new().unwrap();
        assert_eq!(valid.annotations, r#"{"a":"1","b":"2"}"#);
        let given = input(json!({"cookie_id": "c", "offer_xid": "x", "annotations": "sf_ac=spring"}));
        assert_eq!(given.into_new().unwrap().annotations, "sf_ac=spring");
        let none = input(json!({"cookie_id": "c", "offer_xid": "x", "creative_name": ""})).into_new().unwrap();
        assert_eq!((none.annotations.as_str(), none.creative_name), ("{}", None));
    }

    #[test]
    fn refuses_missing_blank_and_oversized_fields() {
        let errors = input(json!({"offer_xid": " ", "annotations": 5})).into_new().unwrap_err();
        assert_eq!(errors.get("cookie_id"), Some("can't be blank"));
        assert_eq!(errors.get("offer_xid"), Some("can't be blank"));
        assert_eq!(errors.get("annotations"), Some("must be an object or a string"));
        let long = input(json!({"cookie_id": "c", "offer_xid": "x", "annotations": "ü".repeat(MAX_LONG_TEXT + 1)}));
        assert!(long.into_new().unwrap_err().get("annotations").unwrap().starts_with("is too long"));
        let fits = input(json!({"cookie_id": "c", "offer_xid": "x", "annotations": "ü".repeat(MAX_LONG_TEXT)}));
        assert!(fits.into_new().is_ok());
    }
}
