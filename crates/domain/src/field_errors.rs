//! Field validation errors, shaped as the API's `errors` object: one string per field.

use serde::Serialize;
use std::collections::BTreeMap;

/// `{"identifier": "can't be blank"}`. Several messages for one field are joined with "; "
/// because clients type `errors` as a map of strings, never of arrays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: &str, message: &str) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: &str, message: &str) {
        self.0
            .entry(field.to_owned())
            .and_modify(|existing| {
                existing.push_str("; ");
                existing.push_str(message);
            })
            .or_insert_with(|| message.to_owned());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(f, m)| (f.as_str(), m.as_str()))
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// `Ok(value)` when nothing was recorded, so validators can end with `errors.into_result(v)`.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// One line for the `error` key: "identifier can't be blank; notification_mode ...".
    pub fn summary(&self) -> String {
        self.0.iter().map(|(field, message)| format!("{field} {message}")).collect::<Vec<_>>().join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_messages_for_one_field() {
        let mut errors = FieldErrors::new();
        errors.add("identifier", "can't be blank");
        errors.add("identifier", "is too long");
        assert_eq!(errors.get("identifier"), Some("can't be blank; is too long"));
        assert_eq!(errors.summary(), "identifier can't be blank; is too long");
        assert!(errors.into_result(()).is_err());
    }
}
