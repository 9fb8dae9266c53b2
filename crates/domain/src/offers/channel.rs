//! Channels (where members come from: an app, an email) and an offer's presence on one.

use crate::input::{name, require, text, MAX_TEXT};
use crate::{ChannelId, FieldErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Channel {
    pub id: ChannelId,
    pub name: String,
    pub allow_sms_keyword: bool,
    pub allow_hmac: bool,
    /// Called on every redemption, with `%{key}` placeholders filled in.
    pub conversion_callback_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChannelInput {
    pub name: Option<String>,
    pub allow_sms_keyword: Option<bool>,
    pub allow_hmac: Option<bool>,
    pub conversion_callback_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelChanges {
    pub name: Option<String>,
    pub allow_sms_keyword: Option<bool>,
    pub allow_hmac: Option<bool>,
    /// `Some(None)` clears the URL (sent as an empty string).
    pub conversion_callback_url: Option<Option<String>>,
}

/// A callback template must be an http(s) URL once its `%{key}` placeholders are filled.
pub fn valid_callback_template(template: &str) -> bool {
    let mut filled = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("%{") {
        filled.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                filled.push('x');
                rest = &rest[start + end + 1..];
            }
            None => return false,
        }
    }
    filled.push_str(rest);
    url::Url::parse(&filled).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

impl ChannelInput {
    pub fn into_changes(self) -> Result<ChannelChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let changes = self.validate(&mut errors);
        errors.into_result(changes)
    }

    /// "Again, only a name is required here."
    pub fn into_new(self) -> Result<ChannelChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut changes = self.validate(&mut errors);
        require(&mut errors, "name", &changes.name);
        changes.allow_sms_keyword.get_or_insert(false);
        changes.allow_hmac.get_or_insert(false);
        errors.into_result(changes)
    }

    fn validate(self, errors: &mut FieldErrors) -> ChannelChanges {
        let url = text(errors, "conversion_callback_url", self.conversion_callback_url, 2_000).map(|url| {
            if url.trim().is_empty() {
                None
            } else {
                if !valid_callback_template(url.trim()) {
                    errors.add(
                        "conversion_callback_url",
                        "must be an http or https URL (with optional %{key} placeholders)",
                    );
                }
                Some(url.trim().to_owned())
            }
        });
        ChannelChanges {
            name: name(errors, "name", self.name),
            allow_sms_keyword: self.allow_sms_keyword,
            allow_hmac: self.allow_hmac,
            conversion_callback_url: url,
        }
    }
}

/// `PUT /v1.0/offers/{offer_id}/channels/{channel_id}`: the offer's settings on one channel.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EligibleChannelInput {
    pub security: Option<String>,
    pub sms_keyword: Option<String>,
    #[serde(default, deserialize_with = "crate::serde_helpers::bool_or_string")]
    pub allow_return_later: Option<bool>,
    /// Beyond the spec: a redemption limit for this offer on this channel.
    pub max_redemptions: Option<i64>,
}

impl EligibleChannelInput {
    /// Checks the settings against what the channel allows.
    pub fn validate(self, channel: &Channel) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let security = text(&mut errors, "security", self.security, 64);
        let sms_keyword = text(&mut errors, "sms_keyword", self.sms_keyword, MAX_TEXT);
        if sms_keyword.as_deref().is_some_and(|k| !k.is_empty()) && !channel.allow_sms_keyword {
            errors.add("sms_keyword", "is not allowed on this channel (allow_sms_keyword is false)");
        }
        if security.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("hmac")) && !channel.allow_hmac {
            errors.add("security", "hmac is not allowed on this channel (allow_hmac is false)");
        }
        let max_redemptions =
            crate::input::int_in(&mut errors, "max_redemptions", self.max_redemptions, 0..=i64::from(i32::MAX));
        errors.into_result(Self { security, sms_keyword, allow_return_later: self.allow_return_later, max_redemptions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_templates() {
        assert!(valid_callback_template(
            "https://my_server.com/callback/%{credential_id}?time_of_redemption=%{redeemed_at}"
        ));
        assert!(!valid_callback_template("https://x.com/%{unterminated"));
        assert!(!valid_callback_template("mailto:%{sf_uid}"));
        let errors = ChannelInput {
            name: Some("Email".into()),
            conversion_callback_url: Some("nope".into()),
            ..Default::default()
        }
        .into_new()
        .unwrap_err();
        assert!(errors.get("conversion_callback_url").is_some());
    }

    #[test]
    fn channel_gates_keywords_and_hmac() {
        let channel = Channel {
            id: ChannelId(1),
            name: "App".into(),
            allow_sms_keyword: false,
            allow_hmac: false,
            conversion_callback_url: None,
        };
        let input = EligibleChannelInput {
            security: Some("hmac".into()),
            sms_keyword: Some("BURGER".into()),
            allow_return_later: None,
            max_redemptions: Some(-1),
        };
        let errors = input.validate(&channel).unwrap_err();
        assert!(errors.get("security").is_some() && errors.get("sms_keyword").is_some());
        assert!(errors.get("max_redemptions").is_some());
    }
}
