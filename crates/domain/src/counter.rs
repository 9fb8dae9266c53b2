//! Counters: records an account keeps under a number. The spec types a counter's `name` as
//! an integer (and the generated client enforces it), so it is one here too.

use crate::input::require;
use crate::{CounterId, FieldErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counter {
    pub id: CounterId,
    pub name: i64,
}

/// `{"counter": {"name": 5}}`. Strictly an integer: `"5"` or `5.5` is refused by the
/// decoder as a wrong type, before any rule runs.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CounterInput {
    pub name: Option<i64>,
}

impl CounterInput {
    /// Any integer is a name; only its absence on create is refused.
    pub fn into_new(self) -> Result<Option<i64>, FieldErrors> {
        let mut errors = FieldErrors::new();
        require(&mut errors, "name", &self.name);
        errors.into_result(self.name)
    }

    /// A partial update: an absent (or null) name keeps the stored one.
    pub fn into_changes(self) -> Result<Option<i64>, FieldErrors> {
        Ok(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_required_on_create_only() {
        assert_eq!(CounterInput { name: None }.into_new().unwrap_err().get("name"), Some("can't be blank"));
        assert_eq!(CounterInput { name: Some(-3) }.into_new().unwrap(), Some(-3));
        assert_eq!(CounterInput { name: None }.into_changes().unwrap(), None);
    }

    #[test]
    fn only_integers_decode() {
        for bad in [r#"{"name": "5"}"#, r#"{"name": 5.5}"#, r#"{"name": true}"#, r#"{"name": 1e20}"#] {
            assert!(serde_json::from_str::<CounterInput>(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::from_str::<CounterInput>(r#"{"name": 7}"#).unwrap().name, Some(7));
    }
}
