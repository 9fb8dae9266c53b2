//! Accounts: the tenants. Each brand or agency using Kindling has one.

use crate::{AccountId, FieldErrors, Timestamp};
use serde::{Deserialize, Serialize};
use url::Url;

/// A stored account, serialized exactly as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub enable_callbacks: bool,
    pub credential_callback_url: Option<String>,
    pub supports_barcode: bool,
    /// IANA zone that per-day limits count in (UTC when unset).
    pub time_zone: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The `account` object of `PUT /v1.0/account`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountInput {
    pub callbacks: Option<CallbacksInput>,
    /// Beyond the spec: the IANA time zone for per-day limits (`""` resets to UTC).
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbacksInput {
    pub credential_url: Option<String>,
}

/// What an account update changes. `Some(None)` clears the callback URL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountChanges {
    pub credential_callback_url: Option<Option<CallbackUrl>>,
    pub time_zone: Option<Option<String>>,
}

/// An absolute http(s) URL that Kindling may call back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrl(String);

impl CallbackUrl {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        match Url::parse(raw) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(Self(raw.to_owned())),
            _ => Err("must be an absolute http or https URL"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AccountInput {
    pub fn into_changes(self) -> Result<AccountChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let credential_callback_url = self.callbacks.and_then(|c| c.credential_url).and_then(|raw| {
            if raw.trim().is_empty() {
                return Some(None);
            }
            CallbackUrl::parse(raw.trim()).map(Some).map_err(|m| errors.add("credential_url", m)).ok()
        });
        let time_zone = self.time_zone.and_then(|tz| {
            if tz.trim().is_empty() {
                Some(None)
            } else if crate::time::is_time_zone(tz.trim()) {
                Some(Some(tz.trim().to_owned()))
            } else {
                errors.add("time_zone", "is not a known IANA time zone (like America/Denver)");
                None
            }
        });
        errors.into_result(AccountChanges { credential_callback_url, time_zone })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> AccountInput {
        AccountInput { callbacks: Some(CallbacksInput { credential_url: Some(url.into()) }), time_zone: None }
    }

    #[test]
    fn callback_url_must_be_http() {
        assert!(with_url("https://example.com/cb?x=1").into_changes().is_ok());
        assert!(with_url("ftp://example.com").into_changes().is_err());
        assert!(with_url("not a url").into_changes().is_err());
    }

    #[test]
    fn blank_url_clears_and_absent_url_keeps() {
        assert_eq!(with_url("").into_changes().unwrap().credential_callback_url, Some(None));
        assert_eq!(AccountInput::default().into_changes().unwrap(), AccountChanges::default());
    }
}
