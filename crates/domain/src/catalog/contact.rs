//! Contacts: flat `primary`/`secondary` on input, nested under `contacts` on output.

use crate::input::{text, MAX_TEXT};
use crate::FieldErrors;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl Contact {
    pub fn validate(self, errors: &mut FieldErrors, field: &str) -> Option<Self> {
        let before = errors.clone();
        let contact = Self {
            name: text(errors, &format!("{field}.name"), self.name, MAX_TEXT),
            phone: text(errors, &format!("{field}.phone"), self.phone, 64),
            email: text(errors, &format!("{field}.email"), self.email, MAX_TEXT),
        };
        (before == *errors).then_some(contact)
    }

    /// Stored as a small JSON document in one column.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    pub fn from_json(raw: Option<&str>) -> Option<Self> {
        raw.and_then(|r| serde_json::from_str(r).ok())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Contacts {
    pub primary: Option<Contact>,
    pub secondary: Option<Contact>,
}
