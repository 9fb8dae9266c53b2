//! The time on each log line, as `tracing-subscriber`'s default timer writes it
//! (`2026-12-01T05:51:55.123456Z`), for less: the date and time of day are formatted once a
//! second per thread and reused, so a line costs a clock read and six digits. The default
//! timer builds the whole date for every line (about 1.4 % of the CPU of a cached GET).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// The timer for `tracing_subscriber::fmt().with_timer(..)`.
pub struct LogTime;

thread_local! {
    /// The last second formatted on this thread, and its text up to the seconds.
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

impl FormatTime for LogTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        write_time(w, now)
    }
}

/// Writes `since_epoch` as UTC RFC 3339 with microseconds.
fn write_time(w: &mut impl std::fmt::Write, since_epoch: Duration) -> std::fmt::Result {
    let secs = since_epoch.as_secs();
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != secs {
            text.clear();
            let time =
                i64::try_from(secs).ok().and_then(|s| chrono::DateTime::from_timestamp(s, 0)).unwrap_or_default();
            write!(text, "{}", time.format("%Y-%m-%dT%H:%M:%S"))?;
            *cached = secs;
        }
        write!(w, "{text}.{:06}Z", since_epoch.subsec_micros())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, micros: u32) -> String {
        let mut text = String::new();
        write_time(&mut text, Duration::new(secs, micros * 1000)).unwrap();
        text
    }

    #[test]
    fn times_are_rfc3339_utc_with_microseconds_across_seconds() {
        assert_eq!(at(1_764_568_315, 123_456), "2025-12-01T05:51:55.123456Z");
        assert_eq!(at(1_764_568_315, 7), "2025-12-01T05:51:55.000007Z");
        // The next second (and a jump back) is formatted afresh, not taken from the cache.
        assert_eq!(at(1_764_568_316, 0), "2025-12-01T05:51:56.000000Z");
        assert_eq!(at(0, 999_999), "1970-01-01T00:00:00.999999Z");
    }

    #[test]
    fn the_same_as_the_default_timer() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let ours = at(now.as_secs(), now.subsec_micros());
        let mut theirs = String::new();
        tracing_subscriber::fmt::time::SystemTime.format_time(&mut Writer::new(&mut theirs)).unwrap();
        // The same shape, and the same time within the instant between the two clock reads.
        assert_eq!(ours.len(), theirs.len(), "{ours} / {theirs}");
        let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
        let apart = parse(&theirs) - parse(&ours);
        assert!(apart >= chrono::TimeDelta::zero() && apart < chrono::TimeDelta::seconds(1), "{ours} / {theirs}");
    }
}
