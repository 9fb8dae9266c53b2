//! What one request log line costs to format and hand to the writer: tracing-subscriber's
//! formats and Kindling's (`log_format`, the default format's text, written faster). The
//! subscriber is set up as `kindling serve` sets it up (env filter at `info`, no colour);
//! the writer appends to a buffer under a mutex, as `log_writer` does.
//!
//! The last row is the line as `kindling serve` writes it: `log_format::Direct` into the
//! binary's own log writer, without tracing's dispatch.
//!
//! `cargo bench -p kindling --bench log_line`

// The binary's module itself (a binary has no library to import from); its tests are not run here.
#[path = "../src/log_format.rs"]
#[allow(dead_code)]
mod log_format;
#[path = "../src/log_writer.rs"]
#[allow(dead_code)]
mod log_writer;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

const LINES: u32 = 1_000_000;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for &Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut lines = self.0.lock().unwrap();
        if lines.len() > 1 << 20 {
            lines.clear();
        }
        lines.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = &'a Buffer;
    fn make_writer(&'a self) -> &'a Buffer {
        self
    }
}

fn lines() -> f64 {
    let method = "GET";
    let id = "6f1c2a9e-8d1b-4f57-9a0e-3c2b1d4e5f60";
    let started = Instant::now();
    for i in 0..LINES {
        let path = "/v1.0/members/12345";
        // The request line as `observe` logs it, target included (log_format's fast path).
        tracing::info!(target: "kindling_api::observe", method = %method, path, request_id = %id, status = 200u16, elapsed_us = u64::from(i % 500), "response");
    }
    started.elapsed().as_nanos() as f64 / f64::from(LINES)
}

/// The same lines through `log_format::Direct`, as `observe` writes them when `main` has
/// installed it: the filter asked through `tracing::enabled!`, then no tracing dispatch.
fn direct_lines(direct: &log_format::Direct) -> f64 {
    use kindling_api::{ResponseLine, ResponseLog};
    let started = Instant::now();
    for i in 0..LINES {
        if tracing::enabled!(target: "kindling_api::observe", tracing::Level::INFO) {
            let line = ResponseLine {
                method: "GET",
                path: "/v1.0/members/12345",
                request_id: "6f1c2a9e-8d1b-4f57-9a0e-3c2b1d4e5f60",
                status: 200,
                elapsed_us: u64::from(i % 500),
            };
            direct.write(&line);
        }
    }
    started.elapsed().as_nanos() as f64 / f64::from(LINES)
}

fn main() {
    let buffer = Buffer::default();
    let base = || tracing_subscriber::fmt().with_ansi(false).with_writer(buffer.clone());
    let runs: Vec<(&str, tracing::Dispatch)> = vec![
        ("KINDLING_LOG=warn (no line)", base().with_env_filter(EnvFilter::new("warn")).into()),
        ("tracing-subscriber's default", base().with_env_filter(EnvFilter::new("info")).into()),
        (
            "Kindling's (log_format)",
            base().with_env_filter(EnvFilter::new("info")).event_format(log_format::Lean::default()).into(),
        ),
        ("tracing-subscriber's compact", base().with_env_filter(EnvFilter::new("info")).compact().into()),
        ("tracing-subscriber's json", base().with_env_filter(EnvFilter::new("info")).json().into()),
    ];
    // Direct writes to the binary's log writer, whose thread writes the lines to a sink.
    let (writer, _guard) = log_writer::batched(std::io::sink());
    let direct = log_format::Direct(writer);
    let lean: tracing::Dispatch =
        base().with_env_filter(EnvFilter::new("info")).event_format(log_format::Lean::default()).into();
    for round in 1..=2 {
        for (name, dispatch) in &runs {
            let ns = tracing::dispatcher::with_default(dispatch, lines);
            println!("round {round} {name:<30} {ns:>7.0} ns per line");
        }
        let ns = tracing::dispatcher::with_default(&lean, || direct_lines(&direct));
        println!("round {round} {:<30} {ns:>7.0} ns per line", "Kindling's direct (no dispatch)");
    }
}
