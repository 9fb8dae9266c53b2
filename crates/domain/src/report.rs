//! Report parameters: the date windows the five report operations take, parsed and checked
//! before any query runs (docs/API-DESIGN.md, "Reports").

use crate::credentials::ActivityType;
use crate::Timestamp;
use chrono::{Duration, NaiveDate};

/// The offer activity report's longest window (§5 #17: "less than 30 consecutive days"
/// against "must not exceed 1 day"; the longer bound, as the operation's description says).
pub const MAX_ACTIVITY_WINDOW_DAYS: i64 = 30;

/// Why report parameters were refused: 400, or 422 for the redemptions report's
/// "semantic errors" (two date pairs, a window that ends before it starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    Invalid(String),
    Unprocessable(String),
}

fn invalid(message: impl Into<String>) -> ReportError {
    ReportError::Invalid(message.into())
}

/// A window of time, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// A window of business dates (`YYYY-MM-DD`), both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dates {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Dates {
    pub fn from_text(&self) -> String {
        self.from.format("%Y-%m-%d").to_string()
    }

    pub fn to_text(&self) -> String {
        self.to.format("%Y-%m-%d").to_string()
    }

    /// Every date of the window, first to last (`YYYY-MM-DD`).
    pub fn days(&self) -> Vec<String> {
        let mut days = Vec::new();
        let mut day = self.from;
        while day <= self.to {
            days.push(day.format("%Y-%m-%d").to_string());
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        days
    }

    /// The same days as a span of time in the account's time zone (UTC when `None` or
    /// unknown): from the first day's midnight to the second before the day after the last.
    /// A day whose midnight a clock change skips begins at its first hour that exists.
    pub fn span(&self, time_zone: Option<&str>) -> Span {
        let tz = time_zone.and_then(|tz| tz.parse::<chrono_tz::Tz>().ok()).unwrap_or(chrono_tz::UTC);
        let start = |date: NaiveDate| {
            crate::time::day_start(tz, date).unwrap_or_else(|| date.and_time(Default::default()).and_utc().timestamp())
        };
        let next = self.to.succ_opt().unwrap_or(self.to);
        Span { from: Timestamp::from_unix(start(self.from)), to: Timestamp::from_unix(start(next) - 1) }
    }
}

/// A date: `2010-04-12`, or the date part of a date-time as written (§5 #16: the
/// redemptions report types its business dates as date-times but shows dates).
pub fn parse_date(key: &str, raw: &str) -> Result<NaiveDate, ReportError> {
    let raw = raw.trim();
    let date = raw.get(..10).filter(|_| raw.len() == 10 || Timestamp::parse(raw).is_some());
    // Exactly `YYYY-MM-DD`: chrono alone also takes `+10000-1-1`, whose text (the stored
    // business dates are compared as text) would sort before every four-digit year.
    let iso =
        |d: &&str| d.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    date.filter(iso)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| invalid(format!("{key} must be a date (YYYY-MM-DD)")))
}

/// A date-time. An offset's `+` left unencoded in a query string arrives as a space
/// (`2030-01-01T00:00:00 01:00`), which is read back as the `+` it was.
pub fn parse_time(key: &str, raw: &str) -> Result<Timestamp, ReportError> {
    let raw = raw.trim();
    let plus = || raw.contains('T').then(|| raw.replacen(' ', "+", 1));
    Timestamp::parse(raw)
        .or_else(|| plus().and_then(|r| Timestamp::parse(&r)))
        .ok_or_else(|| invalid(format!("{key} must be an ISO 8601 date-time")))
}

/// Epoch seconds (the merchant and impression reports' `from`/`to`).
pub fn parse_epoch(key: &str, raw: &str) -> Result<Timestamp, ReportError> {
    raw.trim()
        .parse()
        .map(Timestamp::from_unix)
        .map_err(|_| invalid(format!("{key} must be an integer (epoch seconds)")))
}

/// One `from_<name>`/`to_<name>` pair: both halves or neither (an empty value counts as
/// absent); a lone half is a 400.
pub fn pair<T>(
    name: &str,
    from: Option<&str>,
    to: Option<&str>,
    parse: impl Fn(&str, &str) -> Result<T, ReportError>,
) -> Result<Option<(T, T)>, ReportError> {
    match (given(from), given(to)) {
        (None, None) => Ok(None),
        (Some(f), Some(t)) => Ok(Some((parse(&format!("from_{name}"), f)?, parse(&format!("to_{name}"), t)?))),
        _ => Err(invalid(format!("from_{name} and to_{name} must be given together"))),
    }
}

fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

/// The merchant and impression reports' required `from` and `to` (epoch seconds).
pub fn epoch_span(from: Option<&str>, to: Option<&str>) -> Result<Span, ReportError> {
    let (from, to) = match (given(from), given(to)) {
        (Some(f), Some(t)) => (parse_epoch("from", f)?, parse_epoch("to", t)?),
        _ => return Err(invalid("from and to are required, together (epoch seconds)")),
    };
    ordered(Span { from, to }).map_err(|e| match e {
        ReportError::Unprocessable(m) => ReportError::Invalid(m),
        other => other,
    })
}

fn ordered(span: Span) -> Result<Span, ReportError> {
    match span.from <= span.to {
        true => Ok(span),
        false => Err(ReportError::Unprocessable("the window ends before it starts".into())),
    }
}

/// Which of its date pairs the offer activity report filters on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityWindow {
    Reported(Span),
    Processed(Span),
    Business(Dates),
}

/// The offer activity report's three pairs, by the spec's priority (reported, processed,
/// business): the first pair given is used and the others are ignored. One is required and
/// it may span at most `MAX_ACTIVITY_WINDOW_DAYS` (30 business dates, or 30 × 24 hours).
pub fn activity_window(
    reported: Option<(Timestamp, Timestamp)>,
    processed: Option<(Timestamp, Timestamp)>,
    business: Option<(NaiveDate, NaiveDate)>,
) -> Result<ActivityWindow, ReportError> {
    let max = MAX_ACTIVITY_WINDOW_DAYS;
    let too_long = || invalid(format!("the date window must not exceed {max} days"));
    let backwards = || invalid("the date window ends before it starts");
    let span = |(from, to): (Timestamp, Timestamp)| match to.unix() - from.unix() {
        d if d < 0 => Err(backwards()),
        d if d > max * 86_400 => Err(too_long()),
        _ => Ok(Span { from, to }),
    };
    match (reported, processed, business) {
        (Some(r), _, _) => span(r).map(ActivityWindow::Reported),
        (None, Some(p), _) => span(p).map(ActivityWindow::Processed),
        (None, None, Some((from, to))) => match to.signed_duration_since(from) {
            d if d < Duration::zero() => Err(backwards()),
            d if d >= Duration::days(max) => Err(too_long()),
            _ => Ok(ActivityWindow::Business(Dates { from, to })),
        },
        (None, None, None) => Err(invalid(
            "one pair of dates is required: from_/to_reported_datetime, from_/to_processed_datetime or \
             from_/to_business_date",
        )),
    }
}

/// The redemptions report's window: business dates or redemption date-times, exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedemptionWindow {
    Business(Dates),
    Redeemed(Span),
}

pub fn redemption_window(
    business: Option<(NaiveDate, NaiveDate)>,
    redeemed: Option<(Timestamp, Timestamp)>,
) -> Result<RedemptionWindow, ReportError> {
    match (business, redeemed) {
        (Some(_), Some(_)) => {
            Err(ReportError::Unprocessable("give business dates or redemption date-times, not both".into()))
        }
        (Some((from, to)), None) if from > to => {
            Err(ReportError::Unprocessable("the window ends before it starts".into()))
        }
        (Some((from, to)), None) => Ok(RedemptionWindow::Business(Dates { from, to })),
        (None, Some((from, to))) => ordered(Span { from, to }).map(RedemptionWindow::Redeemed),
        (None, None) => {
            Err(invalid("one pair of dates is required: from_/to_business_date or from_/to_redemption_datetime"))
        }
    }
}

/// The offer activity report's `type` filter: `Ok(None)` for a type the spec lists but
/// Kindling never records (expire, suspend, unsuspend), which matches nothing.
pub fn activity_type(raw: &str) -> Result<Option<ActivityType>, ReportError> {
    match raw.trim() {
        "issue" => Ok(Some(ActivityType::Issue)),
        "redeem" => Ok(Some(ActivityType::Redeem)),
        "void" => Ok(Some(ActivityType::Void)),
        "expire" | "suspend" | "unsuspend" => Ok(None),
        _ => Err(invalid("type must be one of redeem, expire, issue, void, suspend, unsuspend")),
    }
}

/// The UTC offset of `time_zone` at `at`, in seconds (0 for UTC or an unknown zone): day
/// buckets of a report are the account's days as they were at the window's start.
pub fn utc_offset(at: Timestamp, time_zone: Option<&str>) -> i64 {
    use chrono::Offset;
    let tz = time_zone.and_then(|tz| tz.parse::<chrono_tz::Tz>().ok());
    match (tz, chrono::DateTime::from_timestamp(at.unix(), 0)) {
        (Some(tz), Some(utc)) => i64::from(utc.with_timezone(&tz).offset().fix().local_minus_utc()),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_window_lists_its_days() {
        let dates = Dates { from: d("2030-02-27"), to: d("2030-03-02") };
        assert_eq!(dates.days(), ["2030-02-27", "2030-02-28", "2030-03-01", "2030-03-02"]);
        assert!(Dates { from: d("2030-01-02"), to: d("2030-01-01") }.days().is_empty());
    }

    #[test]
    fn dates_accept_a_date_or_a_date_time() {
        assert_eq!(parse_date("k", "2010-04-01"), Ok(d("2010-04-01")));
        assert_eq!(parse_date("k", "2010-04-01T23:00:00-05:00"), Ok(d("2010-04-01")));
        assert!(parse_date("k", "2010-4-1").is_err());
        assert!(parse_date("k", "2010-04-01junk").is_err());
        assert!(parse_date("k", "é").is_err());
    }

    #[test]
    fn an_unencoded_plus_is_read_back() {
        assert_eq!(parse_time("k", "2030-01-01T01:00:00 01:00"), Ok(t("2030-01-01T00:00:00Z")));
        assert!(parse_time("k", "2030-01-01 01:00:00 01:00").is_err());
    }

    #[test]
    fn the_first_pair_given_wins() {
        let r = (t("2030-01-01T00:00:00Z"), t("2030-01-02T00:00:00Z"));
        let p = (t("2030-02-01T00:00:00Z"), t("2030-02-02T00:00:00Z"));
        let b = (d("2030-03-01"), d("2030-03-02"));
        assert!(matches!(activity_window(Some(r), Some(p), Some(b)), Ok(ActivityWindow::Reported(_))));
        assert!(matches!(activity_window(None, Some(p), Some(b)), Ok(ActivityWindow::Processed(_))));
        assert!(matches!(activity_window(None, None, Some(b)), Ok(ActivityWindow::Business(_))));
        assert!(activity_window(None, None, None).is_err());
    }

    #[test]
    fn activity_windows_are_at_most_thirty_days() {
        let from = t("2030-01-01T00:00:00Z");
        assert!(activity_window(Some((from, from.plus_seconds(30 * 86_400))), None, None).is_ok());
        assert!(activity_window(Some((from, from.plus_seconds(30 * 86_400 + 1))), None, None).is_err());
        assert!(activity_window(Some((from, from.plus_seconds(-1))), None, None).is_err());
        assert!(activity_window(None, None, Some((d("2030-01-01"), d("2030-01-30")))).is_ok());
        assert!(activity_window(None, None, Some((d("2030-01-01"), d("2030-01-31")))).is_err());
    }

    #[test]
    fn redemption_windows_take_one_pair() {
        let b = Some((d("2030-01-01"), d("2030-01-02")));
        let r = Some((t("2030-01-01T00:00:00Z"), t("2030-01-02T00:00:00Z")));
        assert!(matches!(redemption_window(b, r), Err(ReportError::Unprocessable(_))));
        assert!(matches!(redemption_window(None, None), Err(ReportError::Invalid(_))));
        assert!(matches!(redemption_window(b, None), Ok(RedemptionWindow::Business(_))));
    }

    #[test]
    fn business_dates_cover_whole_local_days() {
        let dates = Dates { from: d("2030-01-01"), to: d("2030-01-02") };
        let utc = dates.span(None);
        assert_eq!((utc.from, utc.to), (t("2030-01-01T00:00:00Z"), t("2030-01-02T23:59:59Z")));
        let denver = dates.span(Some("America/Denver"));
        assert_eq!((denver.from, denver.to), (t("2030-01-01T07:00:00Z"), t("2030-01-03T06:59:59Z")));
        assert_eq!(utc_offset(t("2030-01-01T00:00:00Z"), Some("America/Denver")), -7 * 3600);
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_begins_at_its_first_hour() {
        // Santiago's clocks went from 00:00 (UTC-4) to 01:00 (UTC-3) on 2024-09-08.
        let day = |from: &str, to: &str| Dates { from: d(from), to: d(to) }.span(Some("America/Santiago"));
        let eighth = day("2024-09-08", "2024-09-08");
        assert_eq!((eighth.from, eighth.to), (t("2024-09-08T04:00:00Z"), t("2024-09-09T02:59:59Z")));
        let seventh = day("2024-09-07", "2024-09-07");
        assert_eq!((seventh.from, seventh.to), (t("2024-09-07T04:00:00Z"), t("2024-09-08T03:59:59Z")));
    }

    #[test]
    fn dates_have_four_digit_years() {
        for raw in ["+10000-1-1", "+2024-01-1", "02024-1-01", " 2024-1-1"] {
            assert!(parse_date("k", raw).is_err(), "{raw}");
        }
        assert_eq!(parse_date("k", "0999-12-31"), Ok(d("0999-12-31")));
    }
}
