//! Members: the brand's users, known to us by the brand's own unique identifier.

use crate::{FieldErrors, MemberId, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The brand's own id for a member; unique per account, never blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier(String);

impl Identifier {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: String) -> Result<Self, &'static str> {
        if raw.trim().is_empty() {
            Err("can't be blank")
        } else if raw.chars().count() > Self::MAX_LEN {
            Err("is too long (maximum is 255 characters)")
        } else {
            Ok(Self(raw))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a member prefers to be told about new offers. The spec types it as an open string
/// (the guide shows `"app"`, the platform's default), so any string up to 255 characters is
/// stored and returned as given, `""` included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotificationMode(String);

impl Default for NotificationMode {
    fn default() -> Self {
        Self("app".to_owned())
    }
}

impl NotificationMode {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: String) -> Result<Self, &'static str> {
        if raw.chars().count() > Self::MAX_LEN {
            return Err("is too long (maximum is 255 characters)");
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NotificationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored member, serialized exactly as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub identifier: String,
    pub notification_mode: String,
    pub id: MemberId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The `member` object of a create or update request, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MemberInput {
    pub identifier: Option<String>,
    pub notification_mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMember {
    pub identifier: Identifier,
    pub notification_mode: NotificationMode,
}

/// A partial update: `None` leaves the stored value alone (clients send only what changes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberChanges {
    pub identifier: Option<Identifier>,
    pub notification_mode: Option<NotificationMode>,
}

impl MemberInput {
    pub fn into_new(self) -> Result<NewMember, FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.identifier.is_none() {
            errors.add("identifier", "can't be blank");
        }
        let changes = self.into_changes().unwrap_or_else(|e| {
            for (field, message) in e.iter() {
                errors.add(field, message);
            }
            MemberChanges::default()
        });
        match (errors.is_empty(), changes.identifier) {
            (true, Some(identifier)) => {
                Ok(NewMember { identifier, notification_mode: changes.notification_mode.unwrap_or_default() })
            }
            _ => Err(errors),
        }
    }

    pub fn into_changes(self) -> Result<MemberChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let identifier =
            self.identifier.and_then(|raw| Identifier::parse(raw).map_err(|m| errors.add("identifier", m)).ok());
        let notification_mode = self
            .notification_mode
            .and_then(|raw| NotificationMode::parse(raw).map_err(|m| errors.add("notification_mode", m)).ok());
        errors.into_result(MemberChanges { identifier, notification_mode })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input(identifier: Option<&str>, mode: Option<&str>) -> MemberInput {
        MemberInput { identifier: identifier.map(Into::into), notification_mode: mode.map(Into::into) }
    }

    #[test]
    fn create_needs_only_an_identifier_and_defaults_to_app() {
        let new = input(Some("unique-member-id"), None).into_new().unwrap();
        assert_eq!(new.identifier.as_str(), "unique-member-id");
        assert_eq!(new.notification_mode.as_str(), "app");
    }

    /// The spec leaves the mode an open string: any value within the cap is kept as given.
    #[test]
    fn notification_mode_is_an_open_string() {
        for mode in ["pigeon", "", "ü€😀", "APP"] {
            let new = input(Some("m"), Some(mode)).into_new().unwrap();
            assert_eq!(new.notification_mode.as_str(), mode);
        }
    }

    #[test]
    fn create_reports_every_bad_field() {
        let errors = input(Some("  "), Some(&"m".repeat(256))).into_new().unwrap_err();
        assert_eq!(errors.get("identifier"), Some("can't be blank"));
        assert!(errors.get("notification_mode").unwrap().starts_with("is too long"));
        let missing = input(None, None).into_new().unwrap_err();
        assert_eq!(missing.get("identifier"), Some("can't be blank"));
    }

    #[test]
    fn update_is_partial() {
        let changes = input(None, Some("email")).into_changes().unwrap();
        assert_eq!(
            changes,
            MemberChanges { identifier: None, notification_mode: Some(NotificationMode("email".into())) }
        );
    }

    proptest! {
        #[test]
        fn any_non_blank_identifier_within_limit_is_accepted(raw in "[a-zA-Z0-9@._-]{1,255}") {
            let parsed = Identifier::parse(raw.clone()).unwrap();
            prop_assert_eq!(parsed.as_str(), raw.as_str());
        }

        #[test]
        fn identifiers_over_the_limit_are_refused(raw in "[a-z]{256,300}") {
            prop_assert!(Identifier::parse(raw).is_err());
        }
    }
}
