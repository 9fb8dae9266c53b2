//! Events: named records an account keeps ("Change the name of an event" is their update).

use crate::{EventId, FieldErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: EventId,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventInput {
    pub name: Option<String>,
}

impl EventInput {
    /// `name` required, not blank, at most 255 characters.
    pub fn into_new(self) -> Result<Option<String>, FieldErrors> {
        crate::input::name_only(self.name, true)
    }

    pub fn into_changes(self) -> Result<Option<String>, FieldErrors> {
        crate::input::name_only(self.name, false)
    }
}
