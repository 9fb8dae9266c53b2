//! Credentials: the redeemable codes members carry, the rules for issuing and redeeming
//! them, and the conversion callbacks a redemption triggers.

pub mod annotations;
pub mod callback;
pub mod code;
pub mod rules;

use serde::Serialize;
use std::fmt;

/// A credential's state. Reusable credentials stay `Open` after each redemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialStatus {
    Open,
    Redeemed,
    Voided,
}

impl CredentialStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Redeemed => "redeemed",
            Self::Voided => "voided",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Open, Self::Redeemed, Self::Voided].into_iter().find(|s| s.as_str() == raw)
    }
}

impl fmt::Display for CredentialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an offer activity records (`activity_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityType {
    Issue = 1,
    Redeem = 2,
    Void = 3,
}

impl ActivityType {
    pub fn code(self) -> i64 {
        self as i64
    }

    /// The type a stored `activity_type` code names.
    pub fn from_code(code: i64) -> Option<Self> {
        [Self::Issue, Self::Redeem, Self::Void].into_iter().find(|t| t.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Redeem => "redeem",
            Self::Void => "void",
        }
    }
}
