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

impl Timestamp {
    /// `2013-01-28T21:44:10Z` without allocating, for years 0 to 9999 (every response shows
    /// timestamps, so this is on the read path); `None` outside them, which chrono formats.
    fn rfc3339(self) -> Option<[u8; 20]> {
        const FIRST: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
        const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
        if !(FIRST..=LAST).contains(&self.0) {
            return None;
        }
        let (days, second_of_day) = (self.0.div_euclid(86_400), self.0.rem_euclid(86_400));
        // Days since 1970-01-01 to a civil date (Howard Hinnant's `civil_from_days`).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let shifted_month = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
        let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        let mut out = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, value: i64, digits: usize| {
            let mut value = value;
            for i in (at..at + digits).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, year, 4);
        put(5, month, 2);
        put(8, day, 2);
        put(11, second_of_day / 3600, 2);
        put(14, second_of_day / 60 % 60, 2);
        put(17, second_of_day % 60, 2);
        Some(out)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(text) = self.rfc3339() {
            return f.write_str(std::str::from_utf8(&text).expect("ASCII digits"));
        }
        match DateTime::<Utc>::from_timestamp(self.0, 0) {
            Some(dt) => f.write_str(&dt.to_rfc3339_opts(SecondsFormat::Secs, true)),
            None => write!(f, "invalid timestamp {}", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.rfc3339() {
            Some(text) => serializer.serialize_str(std::str::from_utf8(&text).expect("ASCII digits")),
            None => serializer.collect_str(self),
        }
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

    fn chrono_text(secs: i64) -> String {
        DateTime::<Utc>::from_timestamp(secs, 0).unwrap().to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    #[test]
    fn the_fast_format_agrees_with_chrono_at_the_edges() {
        for secs in [
            -62_167_219_200, // 0000-01-01T00:00:00Z
            -62_135_596_801, // the last second of year 0
            -1,
            0,
            951_782_400,     // 2000-02-29
            4_107_542_399,   // 2100-02-28T23:59:59Z (not a leap year)
            253_402_300_799, // 9999-12-31T23:59:59Z
        ] {
            assert_eq!(Timestamp::from_unix(secs).to_string(), chrono_text(secs), "{secs}");
        }
        // Beyond four-digit years chrono formats.
        assert_eq!(Timestamp::from_unix(253_402_300_800).to_string(), chrono_text(253_402_300_800));
        assert_eq!(serde_json::to_string(&Timestamp::from_unix(0)).unwrap(), "\"1970-01-01T00:00:00Z\"");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(secs in 0i64..4_102_444_800) {
            let t = Timestamp::from_unix(secs);
            prop_assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        }

        #[test]
        fn the_fast_format_agrees_with_chrono(secs in -62_167_219_200i64..=253_402_300_799) {
            prop_assert_eq!(Timestamp::from_unix(secs).to_string(), chrono_text(secs));
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

/// The first instant of `day` in `tz`: its midnight, or, when a clock change skips midnight,
/// the first hour of the day that exists. `None` only outside chrono's range.
pub fn day_start(tz: chrono_tz::Tz, day: chrono::NaiveDate) -> Option<i64> {
    use chrono::TimeZone;
    (0..24).find_map(|hour| tz.from_local_datetime(&day.and_hms_opt(hour, 0, 0)?).earliest()).map(|t| t.timestamp())
}

/// The last `days` calendar days up to and including `now`'s, in an IANA time zone (UTC when
/// `None` or unknown), oldest first: each as `YYYY-MM-DD` (a `business_date`) with the instant
/// it began. A midnight that a clock change skips begins at the first instant that exists.
pub fn recent_days(now: Timestamp, time_zone: Option<&str>, days: u32) -> Vec<(String, Timestamp)> {
    use chrono::Days;
    let tz: chrono_tz::Tz = time_zone.and_then(|tz| tz.parse().ok()).unwrap_or(chrono_tz::UTC);
    let today = DateTime::<Utc>::from_timestamp(now.unix(), 0).unwrap_or_default().with_timezone(&tz).date_naive();
    (0..days)
        .rev()
        .filter_map(|back| today.checked_sub_days(Days::new(u64::from(back))))
        .map(|day| (day.format("%Y-%m-%d").to_string(), Timestamp(day_start(tz, day).unwrap_or(now.unix()))))
        .collect()
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

    #[test]
    fn recent_days_end_today_in_the_time_zone() {
        let t = Timestamp::parse("2030-01-02T03:00:00Z").unwrap();
        let utc = recent_days(t, None, 3);
        assert_eq!(utc.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>(), ["2029-12-31", "2030-01-01", "2030-01-02"]);
        assert_eq!(utc[2].1, Timestamp::parse("2030-01-02T00:00:00Z").unwrap());
        let denver = recent_days(t, Some("America/Denver"), 2);
        assert_eq!(denver[1].0, "2030-01-01");
        assert_eq!(denver[1].1, Timestamp::parse("2030-01-01T07:00:00Z").unwrap());
        assert_eq!(recent_days(t, None, 30).len(), 30);
    }
}
