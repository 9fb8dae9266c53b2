//! Timestamps: stored as whole seconds since the Unix epoch, shown as RFC 3339 UTC with `Z`.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in time with one-second resolution, always UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix(seconds: i64) -> Self {
        Self(seconds)
    }

    pub fn now() -> Self {
        Self(Utc::now().timestamp())
    }

    pub const fn unix(self) -> i64 {
        self.0
    }

    /// Saturates instead of overflowing; callers bound client-given durations first.
    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// Accepts what clients send: RFC 3339 with `Z` or an offset, or a naive date-time
    /// (taken as UTC, which is what Python's `isoformat()` of a naive value means here).
    pub fn parse(input: &str) -> Option<Self> {
        let input = input.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(input) {
            return Some(Self(dt.timestamp()));
        }
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(input, f).ok())
            .map(|naive| Self(naive.and_utc().timestamp()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::<Utc>::from_timestamp(self.0, 0) {
            Some(dt) => f.write_str(&dt.to_rfc3339_opts(SecondsFormat::Secs, true)),
            None => write!(f, "invalid timestamp {}", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("expected an ISO 8601 date-time"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_as_rfc3339_utc_with_z() {
        assert_eq!(Timestamp::from_unix(1_359_409_450).to_string(), "2013-01-28T21:44:10Z");
    }

    #[test]
    fn parses_offsets_and_naive_values() {
        let z = Timestamp::parse("2013-01-28T21:44:10Z").unwrap();
        assert_eq!(Timestamp::parse("2013-01-28T22:44:10+01:00"), Some(z));
        assert_eq!(Timestamp::parse("2013-01-28T21:44:10.123456"), Some(z));
        assert_eq!(Timestamp::parse("2013-01-28"), None);
        assert_eq!(Timestamp::parse("soon"), None);
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(secs in 0i64..4_102_444_800) {
            let t = Timestamp::from_unix(secs);
            prop_assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        }
    }
}

/// The calendar day (`YYYY-MM-DD`) of `at` in an IANA time zone (UTC when `None`), for
/// per-day limits and report business dates.
pub fn business_date(at: Timestamp, time_zone: Option<&str>) -> String {
    let utc = DateTime::<Utc>::from_timestamp(at.unix(), 0).unwrap_or_default();
    match time_zone.and_then(|tz| tz.parse::<chrono_tz::Tz>().ok()) {
        Some(tz) => utc.with_timezone(&tz).format("%Y-%m-%d").to_string(),
        None => utc.format("%Y-%m-%d").to_string(),
    }
}

/// Whether `name` is an IANA time zone Kindling knows (`America/Denver`, `UTC`).
pub fn is_time_zone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

#[cfg(test)]
mod day_tests {
    use super::*;

    #[test]
    fn days_follow_the_time_zone() {
        let t = Timestamp::parse("2030-01-02T03:00:00Z").unwrap();
        assert_eq!(business_date(t, None), "2030-01-02");
        assert_eq!(business_date(t, Some("America/Denver")), "2030-01-01");
        assert_eq!(business_date(t, Some("Not/AZone")), "2030-01-02");
        assert!(is_time_zone("Europe/Paris") && !is_time_zone("Mars/Base"));
    }
}
