//! Offer formatting: display options for landing pages and wallets. A partial update merges
//! key by key; `null` removes a key.

use crate::FieldErrors;
use serde_json::{Map, Value};

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Flag,
    Color,
    Url,
}

const KEYS: &[(&str, Kind)] = &[
    ("bg_color", Kind::Color),
    ("bg_image", Kind::Url),
    ("custom_credential_content", Kind::Text),
    ("in_store_only", Kind::Flag),
    ("extra_content", Kind::Text),
    ("highest_value_to_customer", Kind::Flag),
    ("instructions", Kind::Text),
    ("mobile_thumb_url", Kind::Url),
    ("mobile_url", Kind::Url),
    ("multiple_offers_can_be_combined_on_an_order", Kind::Flag),
    ("no_printable", Kind::Flag),
    ("online_offer_code", Kind::Text),
    ("reduces_taxable_amount", Kind::Flag),
    ("short_name", Kind::Text),
    ("text_message", Kind::Text),
    ("web_thumb_url", Kind::Url),
    ("web_url", Kind::Url),
];

/// The most characters of a text option (instructions, messages, custom content).
const MAX_TEXT: usize = crate::input::MAX_LONG_TEXT;

pub fn is_color(s: &str) -> bool {
    let hex = s.strip_prefix('#').unwrap_or("");
    matches!(hex.len(), 3 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Every URL option is an image shown on the landing page, which is served over TLS; the
/// guide asks for https images, so a plain-http one is refused when saved.
pub fn is_https_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| u.scheme() == "https" && u.host().is_some())
}

/// Merges `patch` into `current` after checking every key; returns the new formatting.
pub fn merge(current: &Map<String, Value>, patch: &Value, errors: &mut FieldErrors) -> Map<String, Value> {
    let mut merged = current.clone();
    let Some(patch) = patch.as_object() else {
        errors.add("formatting", "must be an object");
        return merged;
    };
    for (key, value) in patch {
        let field = format!("formatting.{key}");
        let Some((_, kind)) = KEYS.iter().find(|(k, _)| k == key) else {
            errors.add(&field, "is not a formatting option");
            continue;
        };
        if value.is_null() {
            merged.remove(key);
            continue;
        }
        // A refusal names what is wrong: the type, or (for a string) the value's rule.
        let refusal = match (kind, value) {
            (Kind::Flag, Value::Bool(_)) => None,
            (Kind::Flag, _) => Some("must be true or false"),
            (_, Value::String(s)) => match kind {
                Kind::Text if s.chars().count() > MAX_TEXT => Some("is too long (maximum is 10000 characters)"),
                Kind::Color if !is_color(s) => Some("must be a hex color like #FF00AA"),
                Kind::Url if !is_https_url(s) => Some("must be an https URL"),
                _ => None,
            },
            _ => Some("must be a string"),
        };
        match refusal {
            None => {
                merged.insert(key.clone(), value.clone());
            }
            Some(message) => errors.add(&field, message),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_key_by_key_and_null_removes() {
        let mut errors = FieldErrors::new();
        let first = merge(&Map::new(), &json!({"bg_image": "https://cdn.example.com/b.png"}), &mut errors);
        let second = merge(&first, &json!({"bg_color": "#FF00AA", "no_printable": true}), &mut errors);
        assert!(errors.is_empty());
        assert_eq!(
            Value::Object(second.clone()),
            json!({"bg_image": "https://cdn.example.com/b.png", "bg_color": "#FF00AA", "no_printable": true})
        );
        let third = merge(&second, &json!({"bg_image": null}), &mut errors);
        assert!(!third.contains_key("bg_image") && third.contains_key("bg_color"));
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        let mut errors = FieldErrors::new();
        merge(
            &Map::new(),
            &json!({"colour": "red", "bg_color": "red", "bg_image": "ftp://x", "no_printable": "yes"}),
            &mut errors,
        );
        for key in ["formatting.colour", "formatting.bg_color", "formatting.bg_image", "formatting.no_printable"] {
            assert!(errors.get(key).is_some(), "{key}");
        }
        let mut errors = FieldErrors::new();
        merge(&Map::new(), &json!("bg"), &mut errors);
        assert!(errors.get("formatting").is_some());
    }

    /// Landing pages are served over TLS, so their images must be too (the guide's rule).
    #[test]
    fn image_urls_must_be_https() {
        for (url, ok) in [
            ("https://cdn.example.com/b.png", true),
            ("http://cdn.example.com/b.png", false),
            ("HTTPS://cdn.example.com/b.png", true),
            ("https:/b.png", true),
            ("data:image/png;base64,AAAA", false),
            ("javascript:alert(1)", false),
            ("//cdn.example.com/b.png", false),
        ] {
            let mut errors = FieldErrors::new();
            let kept =
                merge(&Map::new(), &json!({"bg_image": url, "mobile_url": url, "web_thumb_url": url}), &mut errors);
            assert_eq!(errors.is_empty(), ok, "{url}");
            assert_eq!(kept.len(), if ok { 3 } else { 0 }, "{url}");
            if !ok {
                assert_eq!(errors.get("formatting.bg_image"), Some("must be an https URL"));
            }
        }
    }

    /// A string over the cap is refused for its length, never as if it were not a string.
    #[test]
    fn long_text_is_refused_for_its_length() {
        let mut errors = FieldErrors::new();
        let long = "ü".repeat(MAX_TEXT + 1);
        let kept = merge(&Map::new(), &json!({"instructions": long, "short_name": 5}), &mut errors);
        assert!(kept.is_empty());
        assert_eq!(errors.get("formatting.instructions"), Some("is too long (maximum is 10000 characters)"));
        assert_eq!(errors.get("formatting.short_name"), Some("must be a string"));
        let fits = merge(&Map::new(), &json!({"instructions": "ü".repeat(MAX_TEXT)}), &mut FieldErrors::new());
        assert_eq!(fits["instructions"].as_str().unwrap().chars().count(), MAX_TEXT);
    }
}
