//! `KINDLING_SQLITE_PLAN_LOG=<file>`: each distinct statement that runs is appended to the
//! file once, as a JSON line with SQLite's query plan for it (`EXPLAIN QUERY PLAN`), for
//! tests (`scripts/plans.py` checks that no statement reads a whole account's rows of a
//! large table where an index would find a member's, a credential's or an offer's) and for
//! diagnosis. Unset, a statement costs one check of a value read once per process.

use rusqlite::Connection;
use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

struct PlanLog {
    file: File,
    seen: HashSet<String>,
}

fn log() -> Option<&'static Mutex<PlanLog>> {
    static LOG: OnceLock<Option<Mutex<PlanLog>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let path = std::env::var_os("KINDLING_SQLITE_PLAN_LOG")?;
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path).ok()?;
        Some(Mutex::new(PlanLog { file, seen: HashSet::new() }))
    })
    .as_ref()
}

/// Records `sql`'s plan on `conn` the first time it runs, when the log is on. A statement
/// SQLite cannot explain (say, a transaction's `BEGIN`) is recorded with an empty plan.
pub(super) fn record(conn: &Connection, sql: &str) {
    let Some(log) = log() else { return };
    let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !log.seen.insert(sql.to_owned()) {
        return;
    }
    let mut line = serde_json::json!({ "sql": sql, "plan": explain(conn, sql) }).to_string();
    line.push('\n');
    // One write per line, so the lines of processes sharing the file (a test's server and
    // the `kindling` commands it runs) do not interleave. The log is for tests and
    // diagnosis: a failed write loses a line, never the statement.
    let _ = log.file.write_all(line.as_bytes());
}

/// The plan's steps (the `detail` column), without binding the statement's parameters.
fn explain(conn: &Connection, sql: &str) -> Vec<String> {
    let Ok(mut stmt) = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")) else { return Vec::new() };
    let mut steps = Vec::new();
    let mut rows = stmt.raw_query();
    while let Ok(Some(row)) = rows.next() {
        steps.push(row.get::<_, String>(3).unwrap_or_default());
    }
    steps
}
