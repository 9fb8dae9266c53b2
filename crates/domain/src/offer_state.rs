//! The offer wallet: an offer saved to a member (an "offer state"), its status, its custom
//! window inside the offer's, and the transfer token.

use crate::fields::{self, field, Field, FieldValue, Kind};
use crate::{FieldErrors, Timestamp};
use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value};

/// What a member can do with a saved offer now, in order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The state (or its credential) was voided.
    Voided,
    /// Its credential was redeemed.
    Redeemed,
    /// Past its `expires_at`.
    Expired,
    /// Before its `activates_at`.
    Pending,
    /// Redeemable now.
    Active,
}

/// What decides a state's status.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub voided: bool,
    pub redeemed: bool,
    pub activates_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

impl Status {
    pub fn of(facts: Facts, now: Timestamp) -> Self {
        if facts.voided {
            Self::Voided
        } else if facts.redeemed {
            Self::Redeemed
        } else if facts.expires_at.is_some_and(|e| e <= now) {
            Self::Expired
        } else if facts.activates_at.is_some_and(|a| a > now) {
            Self::Pending
        } else {
            Self::Active
        }
    }
}

const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A transfer token: the time it was made, as 14 lowercase hex digits of microseconds since
/// 1970, then the URL-safe base64 of 24 random bytes (32 characters of `[A-Za-z0-9_-]`, 192
/// bits), so holding one is still the only way to name a state. The bytes come from the
/// thread's CSPRNG (`rand`'s `ThreadRng`, ChaCha seeded from the OS) rather than a system
/// call per token: on SQLite every issuance's token is drawn on the one writer thread. The
/// time comes first so that new tokens sort after older ones: each insert lands at the end
/// of the unique token index instead of on a random page of it, which on SQLite is a page
/// less written (twice, with the checkpoint) per issuance.
pub fn new_token() -> String {
    new_token_at(chrono::Utc::now().timestamp_micros())
}

fn new_token_at(micros: i64) -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut out = format!("{:014x}", micros.clamp(0, 0xff_ffff_ffff_ffff));
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            out.push(URL_SAFE[(n >> shift & 63) as usize] as char);
        }
    }
    out
}

const FIELDS: &[Field] =
    &[field("activates_at", Kind::Time), field("expires_at", Kind::Time), field("external_ref_id", Kind::Text(255))];

/// The fields an `offer_state` input sets: `None` keeps, `Some(None)` clears.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub activates_at: Option<Option<Timestamp>>,
    pub expires_at: Option<Option<Timestamp>>,
    pub external_ref_id: Option<Option<String>>,
}

impl Changes {
    /// Validates the `offer_state` object; unknown keys are ignored, as elsewhere.
    pub fn parse(input: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut changes = Self::default();
        for (name, value) in fields::parse(input, FIELDS, &mut errors) {
            match (name, value) {
                ("activates_at", FieldValue::Time(t)) => changes.activates_at = Some(t),
                ("expires_at", FieldValue::Time(t)) => changes.expires_at = Some(t),
                ("external_ref_id", FieldValue::Text(t)) => changes.external_ref_id = Some(t),
                _ => {}
            }
        }
        errors.into_result(changes)
    }
}

/// A state's own window (`None`: the offer's), checked against the offer's: it may start no
/// earlier and end no later than the offer, and must end after it starts.
pub fn check_window(
    own: (Option<Timestamp>, Option<Timestamp>),
    offer: (Option<Timestamp>, Option<Timestamp>),
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if let (Some(a), Some(limit)) = (own.0, offer.0) {
        if a < limit {
            errors.add("activates_at", &format!("must not be before the offer's activates_at ({limit})"));
        }
    }
    if let (Some(e), Some(limit)) = (own.1, offer.1) {
        if e > limit {
            errors.add("expires_at", &format!("must not be after the offer's expires_at ({limit})"));
        }
    }
    if let (Some(a), Some(e)) = (own.0.or(offer.0), own.1.or(offer.1)) {
        if errors.is_empty() && a >= e {
            errors.add("expires_at", "must be after activates_at");
        }
    }
    errors.into_result(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: i64) -> Option<Timestamp> {
        Some(Timestamp::from_unix(s))
    }

    #[test]
    fn status_precedence() {
        let now = Timestamp::from_unix(100);
        let base = Facts { voided: false, redeemed: false, activates_at: None, expires_at: None };
        assert_eq!(Status::of(base, now), Status::Active);
        assert_eq!(Status::of(Facts { activates_at: t(101), ..base }, now), Status::Pending);
        assert_eq!(Status::of(Facts { activates_at: t(100), ..base }, now), Status::Active, "inclusive");
        assert_eq!(Status::of(Facts { expires_at: t(100), ..base }, now), Status::Expired, "exclusive");
        assert_eq!(Status::of(Facts { redeemed: true, expires_at: t(1), ..base }, now), Status::Redeemed);
        assert_eq!(Status::of(Facts { voided: true, redeemed: true, ..base }, now), Status::Voided);
        assert_eq!(serde_json::to_value(Status::Pending).unwrap(), json!("pending"));
    }

    #[test]
    fn tokens_are_a_time_then_32_url_safe_chars() {
        let a = new_token();
        assert_eq!(a.len(), 46);
        assert!(a[..14].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{a}");
        assert!(a[14..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{a}");
        assert_ne!(a, new_token());
        // Later tokens sort after earlier ones, whatever their random parts.
        let (early, late) = (new_token_at(1_700_000_000_000_000), new_token_at(1_700_000_000_000_001));
        assert!(early < late, "{early} {late}");
        // Times are far below the limit of 14 digits (2^56 microseconds, in the year 4253).
        assert!(new_token_at(4_000_000_000_000_000) < new_token_at(4_000_000_000_000_001));
        assert!(new_token_at(0xf_ffff_ffff) < new_token_at(0x10_0000_0000));
    }

    #[test]
    fn windows_stay_inside_the_offer() {
        assert!(check_window((None, None), (None, None)).is_ok());
        assert!(check_window((t(10), t(20)), (t(10), t(20))).is_ok());
        let early = check_window((t(5), None), (t(10), t(20))).unwrap_err();
        assert!(early.get("activates_at").is_some());
        let late = check_window((None, t(25)), (t(10), t(20))).unwrap_err();
        assert!(late.get("expires_at").is_some());
        let inverted = check_window((t(15), t(12)), (None, None)).unwrap_err();
        assert_eq!(inverted.get("expires_at"), Some("must be after activates_at"));
        assert!(check_window((t(30), None), (None, t(20))).is_err(), "starts after the offer ends");
    }

    #[test]
    fn changes_parse_times_and_clears() {
        let input = json!({"activates_at": "2030-01-01T00:00:00Z", "expires_at": null, "external_ref_id": "r-1"});
        let changes = Changes::parse(input.as_object().unwrap()).unwrap();
        assert_eq!(changes.activates_at, Some(Timestamp::parse("2030-01-01T00:00:00Z")));
        assert_eq!(changes.expires_at, Some(None));
        assert_eq!(changes.external_ref_id, Some(Some("r-1".into())));
        let bad = Changes::parse(json!({"activates_at": "soon", "external_ref_id": 5}).as_object().unwrap());
        let errors = bad.unwrap_err();
        assert!(errors.get("activates_at").is_some() && errors.get("external_ref_id").is_some());
    }
}
