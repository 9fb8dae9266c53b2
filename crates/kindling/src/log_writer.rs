//! Where log lines go: appended to a shared buffer that a background thread writes to stderr
//! in batches, so logging a request costs it one short-held lock and a copy; no system call,
//! no allocation, no thread wake-up per line.
//!
//! The thread sleeps until a line arrives in an empty buffer, lets lines gather for
//! `GATHER` (a line reaches stderr at most that much later), then writes them all in one
//! `write`. Each line is one `write` call from `tracing-subscriber`, so the buffer only ever
//! holds whole lines. If stderr cannot keep up and `MAX_BUFFERED` bytes are waiting, further
//! lines are dropped (and counted in a line of their own) rather than slowing requests.
//! Dropping the `Guard` writes what is left and stops the thread.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;

/// How long lines gather before they are written together.
const GATHER: Duration = Duration::from_millis(10);
/// Bytes waiting to be written beyond which lines are dropped.
const MAX_BUFFERED: usize = 8 * 1024 * 1024;

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    dropped: u64,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    arrived: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding the lock leaves whole lines behind; keep logging.
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The `MakeWriter` for `tracing_subscriber::fmt().with_writer(..)`.
#[derive(Clone)]
pub struct LogWriter(Arc<Shared>);

/// Flushes and stops the writing thread when dropped; `main` keeps it to the end.
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer of batches to `out` (stderr in `main`), with the guard that flushes it.
pub fn batched(out: impl Write + Send + 'static) -> (LogWriter, Guard) {
    let shared = Arc::new(Shared::default());
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn({
            let shared = shared.clone();
            move || write_batches(&shared, out)
        })
        .expect("spawning the log writer thread");
    (LogWriter(shared.clone()), Guard { shared, thread: Some(thread) })
}

fn write_batches(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        let (dropped, closed) = {
            let mut pending = shared.lock();
            while pending.lines.is_empty() && pending.dropped == 0 && !pending.closed {
                pending = shared.arrived.wait(pending).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if !pending.closed {
                drop(pending);
                std::thread::sleep(GATHER);
                pending = shared.lock();
            }
            std::mem::swap(&mut pending.lines, &mut batch);
            (std::mem::take(&mut pending.dropped), pending.closed)
        };
        // Errors (a closed stderr) have nowhere to be reported; the lines are lost.
        let _ = out.write_all(&batch);
        if dropped > 0 {
            let _ = writeln!(out, "log writer: {dropped} lines dropped, stderr was not keeping up");
        }
        let _ = out.flush();
        batch.clear();
        if closed {
            return;
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.arrived.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = &'a LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

impl Write for &LogWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.0.lock();
        if pending.lines.len() + line.len() > MAX_BUFFERED {
            pending.dropped += 1;
        } else {
            let was_empty = pending.lines.is_empty() && pending.dropped == 0;
            pending.lines.extend_from_slice(line);
            if was_empty {
                // Only the first line of a batch wakes the thread; the rest just gather.
                drop(pending);
                self.0.arrived.notify_one();
            }
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects what the thread writes, and how many writes it took.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut sink = self.0.lock().unwrap();
            sink.0.extend_from_slice(bytes);
            sink.1 += 1;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_in_order_in_few_writes_and_all_by_the_guard() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone());
        let expected: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        for line in expected.lines() {
            (&writer).write_all(format!("{line}\n").as_bytes()).unwrap();
        }
        drop(guard);
        let (bytes, writes) = sink.0.lock().unwrap().clone();
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        assert!(writes < 100, "{writes} writes for 1000 lines");
    }

    #[test]
    fn lines_reach_the_output_without_more_traffic() {
        let sink = Sink::default();
        let (writer, _guard) = batched(sink.clone());
        (&writer).write_all(b"alone\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.0.lock().unwrap().0.is_empty() {
            assert!(std::time::Instant::now() < deadline, "a lone line was never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(sink.0.lock().unwrap().0, b"alone\n");
    }

    #[test]
    fn a_full_buffer_drops_lines_and_says_so() {
        /// Blocks every write until released, like a pipe nobody reads.
        struct Stuck(Arc<(Mutex<bool>, Condvar)>, Sink);
        impl Write for Stuck {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                let (released, changed) = &*self.0;
                let mut released = released.lock().unwrap();
                while !*released {
                    released = changed.wait(released).unwrap();
                }
                self.1.write(bytes)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let sink = Sink::default();
        let (writer, guard) = batched(Stuck(gate.clone(), sink.clone()));
        (&writer).write_all(b"first\n").unwrap();
        std::thread::sleep(GATHER * 5); // the thread takes "first" and blocks writing it
        let line = vec![b'x'; 1023].into_iter().chain([b'\n']).collect::<Vec<_>>();
        for _ in 0..(MAX_BUFFERED / line.len() + 10) {
            (&writer).write_all(&line).unwrap();
        }
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().0.clone()).unwrap();
        assert!(text.starts_with("first\n"));
        assert!(text.contains("log writer: 10 lines dropped"), "{}", &text[text.len() - 200..]);
    }
}
