//! What a SQLite point read costs on its own and inside an already open read transaction,
//! from one thread and from two (`sqlite/readers.rs` keeps readers' transactions open for
//! this). Plain rusqlite on a WAL database of `KINDLING_BENCH_ROWS` (1,000,000) rows in a
//! temporary directory, random ids, the database file memory-mapped as Kindling's readers do.
//!
//! `cargo bench -p kindling-store --bench sqlite_reads`

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Instant;

const READS: usize = 400_000;

fn main() {
    let rows: u64 = std::env::var("KINDLING_BENCH_ROWS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("reads.db");
    fill(&path, rows);
    println!("{rows} rows, {READS} point reads by primary key per line");
    for open in [false, true] {
        for threads in [1, 2] {
            let started = Instant::now();
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let path = path.clone();
                    std::thread::spawn(move || reads(&path, rows, READS / threads, t as u64, open))
                })
                .collect();
            workers.into_iter().for_each(|w| w.join().expect("a reading thread"));
            let seconds = started.elapsed().as_secs_f64();
            let how = if open { "in an open transaction" } else { "each its own transaction" };
            println!(
                "{how:<26} {threads} thread(s): {:>9.0} reads/s, {:.2} µs of thread time per read",
                READS as f64 / seconds,
                seconds * 1e6 * threads as f64 / READS as f64
            );
        }
    }
}

fn fill(path: &Path, rows: u64) {
    let conn = Connection::open(path).expect("the database");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE members (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, identifier TEXT NOT NULL,
                               notification_mode TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
         BEGIN",
    )
    .expect("the table");
    let mut insert = conn
        .prepare("INSERT INTO members VALUES (?1, 1, ?2, 'app', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')")
        .expect("the insert");
    for id in 1..=rows {
        insert.execute(rusqlite::params![id, format!("member-{id:08}")]).expect("a row");
    }
    // Copied into the database file, as checkpoints leave a table that is read more than written.
    conn.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE)").expect("the commit");
}

fn reads(path: &Path, rows: u64, count: usize, seed: u64, open: bool) {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).expect("a reader");
    conn.execute_batch("PRAGMA mmap_size = 268435456").expect("the map");
    if open {
        conn.execute_batch("BEGIN").expect("a read transaction");
    }
    let mut state = 0x9E37_79B9_7F4A_7C15 ^ (seed + 1); // xorshift: ids spread over the table
    let mut select =
        conn.prepare("SELECT identifier FROM members WHERE account_id = ?1 AND id = ?2").expect("the select");
    for _ in 0..count {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let id = state % rows + 1;
        let identifier: String = select.query_row(rusqlite::params![1, id], |row| row.get(0)).expect("the row");
        assert_eq!(identifier.len(), 15);
    }
}
