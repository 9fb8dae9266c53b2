//! The text log line, written as tracing-subscriber's default format writes it, in less
//! time: every request logs one line, so its cost is part of every request's.
//!
//! The line is `2026-12-01T09:20:41.625236Z  INFO kindling_api::observe: response
//! method=GET path="/v1.0/members/1" ...`: time (UTC, microseconds), level, target, then the
//! message and the fields as `name=value`, values by their `Debug` (so strings are quoted
//! and escaped and a line never breaks). Where the default format spends its time is in
//! generic formatting: the timestamp re-derived from the epoch for each line, and each
//! field through `fmt::Debug` machinery. Here the date and time to the second are
//! formatted once a second per thread, and integers are written by `itoa`.
//!
//! Only the request line (`kindling_api::observe`'s events) is written this way: its fields
//! are known (a plain message, the method, the path as a quoted string, the request id,
//! integers). Every other event gets the default format itself, with what it does beyond
//! these (escaping control characters in messages, the sources of error fields, the real
//! target of `log` records), as does an event inside a span or a terminal that wants
//! colour. `cargo bench -p kindling --bench log_line` compares the two.
//!
//! `Direct` writes that same line for `kindling_api`'s `ResponseLog`: a response's line
//! formatted straight from its fields, without tracing's dispatch and field visitors, which
//! cost more in place than the formatting itself (docs/BENCHMARKS.md). `main` installs it
//! only where `Lean` would write the line (text, no colour).

use crate::log_writer::LogWriter;
use kindling_api::{ResponseLine, ResponseLog};
use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `REQUEST_LINE` as a literal, so `concat!` can build the line's fixed parts from it.
macro_rules! request_line {
    () => {
        "kindling_api::observe"
    };
}

/// The target of the request line, the one event this format writes itself.
const REQUEST_LINE: &str = request_line!();

/// The default format, faster for the request line (see the module's comment).
#[derive(Default)]
pub struct Lean {
    default: Format<Full, SystemTime>,
}

impl<S, N> FormatEvent<S, N> for Lean
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        if meta.target() != REQUEST_LINE || writer.has_ansi_escapes() || ctx.event_scope().is_some() {
            return self.default.format_event(ctx, writer, event);
        }
        write_time(&mut writer, std::time::SystemTime::now())?;
        writer.write_str(level_and_target(meta.level()))?;
        let mut fields = Fields { writer: &mut writer, first: true, result: Ok(()) };
        event.record(&mut fields);
        fields.result?;
        writeln!(writer)
    }
}

/// ` INFO kindling_api::observe: `: the level padded as the default pads it (five wide,
/// right-aligned), then the request line's target.
fn level_and_target(level: &tracing::Level) -> &'static str {
    match *level {
        tracing::Level::ERROR => concat!(" ERROR ", request_line!(), ": "),
        tracing::Level::WARN => concat!("  WARN ", request_line!(), ": "),
        tracing::Level::INFO => concat!("  INFO ", request_line!(), ": "),
        tracing::Level::DEBUG => concat!(" DEBUG ", request_line!(), ": "),
        tracing::Level::TRACE => concat!(" TRACE ", request_line!(), ": "),
    }
}

/// Writes response lines to the log writer as `Lean` writes the request line.
pub struct Direct(pub LogWriter);

impl ResponseLog for Direct {
    fn write(&self, line: &ResponseLine<'_>) {
        thread_local! {
            /// The line being written, kept for its capacity.
            static LINE: RefCell<String> = const { RefCell::new(String::new()) };
        }
        LINE.with_borrow_mut(|text| {
            text.clear();
            if response_line(&mut Writer::new(text), std::time::SystemTime::now(), line).is_ok() {
                let _ = (&self.0).write_all(text.as_bytes());
            }
        });
    }
}

/// `line` at `now`, as `Lean` writes `observe`'s `INFO` event for it.
fn response_line(writer: &mut Writer<'_>, now: std::time::SystemTime, line: &ResponseLine<'_>) -> fmt::Result {
    write_time(writer, now)?;
    writer.write_str(level_and_target(&tracing::Level::INFO))?;
    writer.write_str("response method=")?;
    writer.write_str(line.method)?;
    writer.write_str(" path=")?;
    write_quoted(writer, line.path)?;
    writer.write_str(" request_id=")?;
    writer.write_str(line.request_id)?;
    writer.write_str(" status=")?;
    writer.write_str(itoa::Buffer::new().format(line.status))?;
    writer.write_str(" elapsed_us=")?;
    writer.write_str(itoa::Buffer::new().format(line.elapsed_us))?;
    writeln!(writer)
}

/// A string field's value as `Debug` writes it: quoted and escaped, skipping the escaping
/// for printable ASCII without a quote or backslash (a request's path, nearly always).
fn write_quoted(writer: &mut Writer<'_>, value: &str) -> fmt::Result {
    if value.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') {
        writer.write_char('"')?;
        writer.write_str(value)?;
        writer.write_char('"')
    } else {
        write!(writer, "{value:?}")
    }
}

/// `2026-12-01T09:20:41.625236Z`, as the default's `SystemTime` writes it.
fn write_time(writer: &mut Writer<'_>, now: std::time::SystemTime) -> fmt::Result {
    thread_local! {
        /// The second last formatted on this thread, and its text up to the seconds.
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let since = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let (seconds, micros) = (since.as_secs(), since.subsec_micros());
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != seconds {
            let at = chrono::DateTime::<chrono::Utc>::from(now);
            text.clear();
            write!(text, "{}", at.format("%Y-%m-%dT%H:%M:%S"))?;
            *second = seconds;
        }
        writer.write_str(text)?;
        // Six digits, zero-padded: the default's microseconds.
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(micros);
        writer.write_char('.')?;
        writer.write_str(&"000000"[digits.len()..])?;
        writer.write_str(digits)?;
        writer.write_char('Z')
    })
}

/// The message, then every other field as ` name=value`, as the default's visitor writes them.
struct Fields<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    /// Starts a field: a space between fields, then `name=` (the message has no name).
    fn name(&mut self, field: &Field) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.writer.write_char(' ')?;
        }
        if field.name() != "message" {
            // `r#type` is logged as `type`, as the default does.
            let name = field.name();
            self.writer.write_str(name.strip_prefix("r#").unwrap_or(name))?;
            self.writer.write_char('=')?;
        }
        Ok(())
    }

    /// Writes one field: its name, then what `value` writes (nothing after a failed write).
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.name(field).and_then(|()| value(self.writer));
        }
    }

    fn integer(&mut self, field: &Field, value: impl itoa::Integer) {
        self.field(field, |writer| writer.write_str(itoa::Buffer::new().format(value)));
    }
}

impl Visit for Fields<'_, '_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.integer(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.integer(field, value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.field(field, |writer| write_quoted(writer, value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |writer| write!(writer, "{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The lines `events` logs through a subscriber with the lean format or the default.
    fn logged(lean: bool, events: impl Fn()) -> Vec<String> {
        let lines = Lines::default();
        let writer = {
            let lines = lines.clone();
            move || lines.clone()
        };
        let builder = tracing_subscriber::fmt().with_ansi(false).with_writer(writer);
        let dispatch: tracing::Dispatch =
            if lean { builder.event_format(Lean::default()).into() } else { builder.into() };
        tracing::dispatcher::with_default(&dispatch, events);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    fn events() {
        let method = "GET";
        let path = "/v1.0/members/1?a=\"b\"\nc";
        // The request line, as `observe` logs it (its target is what selects the fast path).
        tracing::info!(target: REQUEST_LINE, method = %method, path, request_id = %"d1546abb", status = 401u16, elapsed_us = 993u64, "response");
        tracing::error!(target: REQUEST_LINE, method = %method, path = "/x", request_id = %"\u{1b}[31m", status = 500u16, elapsed_us = 0u64, "response");
        tracing::warn!(target: REQUEST_LINE, path = "/caf\u{e9}/a\\b/~ok", request_id = %"x", "response");
        tracing::info!(target: REQUEST_LINE, r#type = "odd", negative = -5i64, flag = true, ratio = 0.5, "two words");
        // Everything else goes through the default format.
        tracing::error!(error = %std::io::Error::other("disk \"full\""), "cannot write \u{1b}[2J");
        tracing::info!("just a message");
        tracing::info!(only = 1);
        let span = tracing::info_span!("job", id = 7);
        span.in_scope(|| tracing::info!(target: REQUEST_LINE, step = 2, "inside a span"));
    }

    /// Each line as the default writes it, the timestamp aside (each took its own).
    #[test]
    fn lines_read_as_the_default_format_writes_them() {
        let (lean, default) = (logged(true, events), logged(false, events));
        assert_eq!(lean.len(), 8, "{lean:?}");
        let after_time = |lines: &[String]| lines.iter().map(|l| l[27..].to_owned()).collect::<Vec<_>>();
        assert_eq!(after_time(&lean), after_time(&default));
        assert!(lean[0].ends_with(r#"INFO kindling_api::observe: response method=GET path="/v1.0/members/1?a=\"b\"\nc" request_id=d1546abb status=401 elapsed_us=993"#), "{}", lean[0]);
        for line in &lean {
            let time = &line[..27];
            assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{line}");
            assert_eq!((&time[19..20], &time[26..27]), (".", "Z"), "{line}");
        }
    }

    /// `Direct`'s line for a response reads as `Lean`'s line for `observe`'s event with the
    /// same fields (and so as the default format's), the timestamp aside.
    #[test]
    fn direct_lines_read_as_lean_writes_the_request_line() {
        for path in ["/v1.0/members/1", "/v1.0/members/1?a=\"b\"\nc", "/caf\u{e9}/a\\b/~ok", ""] {
            let line = ResponseLine { method: "PUT", path, request_id: "d1546abb", status: 422, elapsed_us: 1_234_567 };
            let lean = logged(true, || {
                tracing::info!(target: REQUEST_LINE, method = %line.method, path = line.path, request_id = %line.request_id, status = line.status, elapsed_us = line.elapsed_us, "response");
            });
            let mut direct = String::new();
            response_line(&mut Writer::new(&mut direct), std::time::SystemTime::now(), &line).unwrap();
            assert!(direct.ends_with('\n') && direct.matches('\n').count() == 1, "{direct:?}");
            assert_eq!(lean.len(), 1);
            assert_eq!(&direct.trim_end()[27..], &lean[0][27..], "path {path:?}");
            assert!(chrono::DateTime::parse_from_rfc3339(&direct[..27]).is_ok(), "{direct}");
        }
    }

    #[test]
    fn times_are_written_as_the_default_writes_them() {
        for (seconds, micros) in [(0, 0), (1_764_580_841, 625_236), (1_764_580_841, 7), (4_102_444_799, 999_999)] {
            let at = std::time::UNIX_EPOCH + std::time::Duration::new(seconds, micros * 1000);
            let mut lean = String::new();
            write_time(&mut Writer::new(&mut lean), at).unwrap();
            let expected = chrono::DateTime::<chrono::Utc>::from(at).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
            assert_eq!(lean, expected);
        }
    }
}
