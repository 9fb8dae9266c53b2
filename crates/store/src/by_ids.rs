//! Reads by id coalesced on PostgreSQL, for the hottest single-row read (`GET
//! /v1.0/members/{id}`): concurrent reads wait in a queue, and one lane takes every read
//! waiting (up to `MAX_BATCH`, without waiting for more: a lone read goes at once) and
//! answers them with one statement per table and account, `... WHERE account_id = $1 AND
//! id = ANY($2)`, a batch's statements at once. Under load that is one round trip for many
//! reads: a statement per read cost more CPU, in PostgreSQL and in sqlx, than the rest of
//! the request (docs/BENCHMARKS.md).
//!
//! A read joins a batch only after its request arrived, and the batch's statement starts
//! after that, so it sees every commit a lone read would (a client's own write included).
//! One lane: while its statements run, the next batch gathers. Two lanes measured a third
//! slower under 64 connections (smaller batches, more wake-ups; docs/BENCHMARKS.md).
//! SQLite has its read cache instead (`read_cache.rs`).

use crate::postgres::Readers;
use crate::{Result, StoreError, Value};
use futures_util::future::join_all;
use kindling_domain::AccountId;
use sqlx::postgres::PgRow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Reads per statement at most.
const MAX_BATCH: usize = 128;

type Answer = Result<Option<Arc<PgRow>>>;

struct Job {
    /// The table's by-ids statement (`crud::select_by_ids`); reads of one text and one
    /// account share a statement.
    sql: Arc<str>,
    account: AccountId,
    id: i64,
    answer: oneshot::Sender<Answer>,
}

/// The queue's handle; cloning shares the lane.
#[derive(Clone)]
pub struct ByIds {
    queue: mpsc::UnboundedSender<Job>,
    readers: Readers,
    counts: Arc<Counts>,
}

/// Reads answered and statements run by a lane, for tests (`Db::coalesced_reads`).
#[derive(Default)]
struct Counts {
    reads: AtomicU64,
    statements: AtomicU64,
}

impl ByIds {
    /// Starts the lane (needs a Tokio runtime), reading on `readers`' connections.
    pub(crate) fn start(readers: Readers) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        let counts = Arc::new(Counts::default());
        tokio::spawn(lane(readers.clone(), waiting, counts.clone()));
        Self { queue, readers, counts }
    }

    /// Reads answered by the lane so far, and the statements they took.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.counts.reads.load(Ordering::Relaxed), self.counts.statements.load(Ordering::Relaxed))
    }

    /// The row `sql` selects for `id` in `account`, read in the next batch. If the lane is
    /// gone (its runtime ended before this handle's), the read runs alone.
    pub(crate) async fn read(&self, sql: Arc<str>, account: AccountId, id: i64) -> Answer {
        let (answer, answered) = oneshot::channel();
        let job = Job { sql: sql.clone(), account, id, answer };
        if self.queue.send(job).is_ok() {
            if let Ok(answer) = answered.await {
                return answer;
            }
        }
        let rows = self.readers.fetch_rows(&sql, &[account.into(), Value::IntList(vec![id])]).await?;
        Ok(rows.into_iter().next().map(Arc::new))
    }
}

async fn lane(readers: Readers, mut waiting: mpsc::UnboundedReceiver<Job>, counts: Arc<Counts>) {
    while let Some(first) = waiting.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut groups: Vec<(Arc<str>, AccountId, Vec<Job>)> = Vec::new();
        let jobs_len = jobs.len();
        for job in jobs {
            match groups.iter_mut().find(|(sql, account, _)| *account == job.account && **sql == *job.sql) {
                Some((_, _, group)) => group.push(job),
                None => groups.push((job.sql.clone(), job.account, vec![job])),
            }
        }
        counts.reads.fetch_add(jobs_len as u64, Ordering::Relaxed);
        counts.statements.fetch_add(groups.len() as u64, Ordering::Relaxed);
        // Several accounts' statements at once, on as many of the readers' connections.
        join_all(groups.into_iter().map(|(sql, account, group)| answer(&readers, sql, account, group))).await;
    }
}

/// Reads one table's and account's rows and answers each job with its own.
async fn answer(readers: &Readers, sql: Arc<str>, account: AccountId, group: Vec<Job>) {
    let mut ids: Vec<i64> = group.iter().map(|job| job.id).collect();
    ids.sort_unstable();
    ids.dedup();
    match read_batch(readers, &sql, account, ids).await {
        Ok(rows) => {
            for job in group {
                // The reader may have gone; nothing was written.
                let _ = job.answer.send(Ok(rows.get(&job.id).cloned()));
            }
        }
        Err(e) => {
            for job in group {
                let _ = job.answer.send(Err(e.again()));
            }
        }
    }
}

/// The rows of `ids`, by id.
async fn read_batch(
    readers: &Readers,
    sql: &str,
    account: AccountId,
    ids: Vec<i64>,
) -> Result<HashMap<i64, Arc<PgRow>>> {
    let rows = readers.fetch_rows(sql, &[account.into(), Value::IntList(ids)]).await?;
    rows.into_iter()
        .map(|row| {
            let id = crate::Row::int(&row, "id")?;
            Ok((id, Arc::new(row)))
        })
        .collect::<Result<_, StoreError>>()
}
