//! How many SQL statements this process has run, for `/metrics` and for tests that prove a
//! page costs a fixed number of statements whatever its length (no N+1 queries).
//!
//! One count per process, not per `Db`: the backends' leaf functions (`sqlite::fetch_all`,
//! `postgres::execute`, ...) count, and they see a connection, not the `Db` it came from.
//! Each thread adds to its own counter, so the hot path never contends on a shared cache
//! line; reading sums them.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Every thread's counter; a thread's stays here after it exits, so nothing is lost.
static SHARDS: Mutex<Vec<Arc<AtomicU64>>> = Mutex::new(Vec::new());

thread_local! {
    static SHARD: OnceCell<Arc<AtomicU64>> = const { OnceCell::new() };
}

/// Counts one statement sent to the database.
pub(crate) fn statement() {
    SHARD.with(|cell| {
        cell.get_or_init(|| {
            let shard = Arc::new(AtomicU64::new(0));
            SHARDS.lock().unwrap_or_else(|e| e.into_inner()).push(shard.clone());
            shard
        })
        .fetch_add(1, Ordering::Relaxed);
    });
}

/// Statements run by this process so far, on any database.
pub fn statements_run() -> u64 {
    SHARDS.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|s| s.load(Ordering::Relaxed)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_every_thread() {
        let before = statements_run();
        statement();
        std::thread::spawn(|| (0..3).for_each(|_| statement())).join().unwrap();
        // Other tests in this binary may count at the same time: at least ours.
        assert!(statements_run() >= before + 4);
    }
}
