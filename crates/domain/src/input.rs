//! Small validators shared by every resource's input type. Each records a message in
//! `FieldErrors` and returns the accepted value, so a validator reports every bad field at once.

use crate::FieldErrors;

pub const MAX_TEXT: usize = 255;
pub const MAX_LONG_TEXT: usize = 10_000;
/// The most ids one request may name in a list (`store_ids`, `item_ids`, `offer_ids`, ...):
/// enough for any list a person builds, and far below the databases' bind-parameter limits.
pub const MAX_IDS: usize = 1_000;

/// An integer as JSON carries it: a number, or a string of its digits (the form encodings a
/// client may send; scalar fields and id lists alike accept both).
pub fn int_value(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Refuses an id list naming more than `MAX_IDS` distinct ids (a repeat counts once, as the
/// set it becomes holds it once).
pub fn id_count(field: &str, ids: &[i64]) -> Result<(), FieldErrors> {
    if ids.len() > MAX_IDS && ids.iter().collect::<std::collections::HashSet<_>>().len() > MAX_IDS {
        return Err(FieldErrors::single(field, &format!("may name at most {MAX_IDS} ids")));
    }
    Ok(())
}

/// The error of a linked id set naming ids that are not in the account or that the owner may
/// not link (the API's and the portal's words).
pub fn unknown_ids(field: &str, ids: &[impl std::fmt::Display]) -> FieldErrors {
    let list = ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    FieldErrors::single(field, &format!("contains ids that do not exist or are not eligible: {list}"))
}

/// An optional text field of at most `max` characters.
pub fn text(errors: &mut FieldErrors, field: &str, raw: Option<String>, max: usize) -> Option<String> {
    let raw = raw?;
    if raw.chars().count() > max {
        errors.add(field, &format!("is too long (maximum is {max} characters)"));
        return None;
    }
    Some(raw)
}

/// A text field that, when present, may not be blank.
pub fn name(errors: &mut FieldErrors, field: &str, raw: Option<String>) -> Option<String> {
    match text(errors, field, raw, MAX_TEXT) {
        Some(v) if v.trim().is_empty() => {
            errors.add(field, "can't be blank");
            None
        }
        other => other,
    }
}

/// The whole validation of inputs that carry only a `name` (store lists, member lists):
/// required on create, never blank.
pub fn name_only(raw: Option<String>, create: bool) -> Result<Option<String>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let value = name(&mut errors, "name", raw);
    if create {
        require(&mut errors, "name", &value);
    }
    errors.into_result(value)
}

/// Records "can't be blank" when a field required on create is absent.
pub fn require<T>(errors: &mut FieldErrors, field: &str, value: &Option<T>) {
    if value.is_none() && errors.get(field).is_none() {
        errors.add(field, "can't be blank");
    }
}

/// An optional integer within `range`.
pub fn int_in(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
) -> Option<i64> {
    let raw = raw?;
    if range.contains(&raw) {
        Some(raw)
    } else {
        errors.add(field, &format!("must be between {} and {}", range.start(), range.end()));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_count_counts_distinct_ids() {
        let twice: Vec<i64> = (0..MAX_IDS as i64).chain(0..MAX_IDS as i64).collect();
        assert!(id_count("ids", &twice).is_ok(), "1,000 ids named twice are 1,000 ids");
        let over: Vec<i64> = (0..=MAX_IDS as i64).collect();
        assert!(id_count("ids", &over).is_err());
    }

    #[test]
    fn validators_record_and_filter() {
        let mut errors = FieldErrors::new();
        assert_eq!(name(&mut errors, "name", Some("Q Burger".into())).as_deref(), Some("Q Burger"));
        assert_eq!(name(&mut errors, "blank", Some(" ".into())), None);
        assert_eq!(text(&mut errors, "long", Some("x".repeat(300)), MAX_TEXT), None);
        assert_eq!(int_in(&mut errors, "n", Some(5), 0..=1), None);
        require::<String>(&mut errors, "missing", &None);
        require::<String>(&mut errors, "blank", &None);
        assert_eq!(errors.get("blank"), Some("can't be blank"));
        assert!(errors.get("long").is_some() && errors.get("n").is_some() && errors.get("missing").is_some());
        assert!(errors.get("name").is_none());
    }
}
