//! Writes of one kind issued in batches: concurrent requests join a queue (`Queue`), and each
//! of one or two lanes takes every request waiting (up to `MAX_BATCH`, or on PostgreSQL the
//! kind's `POSTGRES_MAX_BATCH`: a lone request is written at once, and under load the
//! requests that arrive while a batch is written form the next; on PostgreSQL a lane that
//! finds another writing first waits a little for more, see `lane`), writes them in one
//! transaction per account (`write_many`) and answers each with its own outcome.
//!
//! A kind (`BatchWrite`) writes its items together, in a few multi-row statements, when the
//! rules allow, or says it cannot; then each item is written alone, in its own transaction,
//! as a lone request would be, as is every item of a batch whose multi-row statements failed
//! (undone first). A refused or failing item writes nothing and takes nothing from its
//! neighbours.

use crate::{Db, Dialect, MaybeBusy, Result, StoreError, Tx};
use futures_util::{FutureExt, StreamExt};
use kindling_domain::AccountId;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Mutex, Notify};
use tokio::time::Instant;

/// Requests per batch at most: bounds a batch's statements and their rows' parameters, and the
/// time its first request waits for the last one's checks.
const MAX_BATCH: usize = 48;

/// One item's answer.
pub type Outcome<W> = std::result::Result<<W as BatchWrite>::Done, <W as BatchWrite>::Error>;

/// A kind of write that can be done for many items at once.
pub trait BatchWrite: Sized + Clone + Send + Sync + 'static {
    type Done: Send + 'static;
    type Error: From<StoreError> + MaybeBusy + Send + 'static;

    /// Items per batch at most on PostgreSQL, where each batch's transaction has a fixed cost
    /// (a dozen statements and a commit) that larger batches spread thinner. A kind whose
    /// batches lock rows other batches need keeps `MAX_BATCH`, so as not to hold them longer.
    const POSTGRES_MAX_BATCH: usize = MAX_BATCH;

    /// Writes `items` together, answering one outcome per item in order, or `None` when a
    /// rule needs what only the one-by-one path does (whatever it wrote is then undone).
    /// Every failing statement must be returned as an error, never handled here: on
    /// PostgreSQL it aborts the transaction, whose `COMMIT` would then roll back without an
    /// error, and the items would be answered as written.
    fn together(
        tx: &mut Tx,
        account: AccountId,
        items: &[Self],
    ) -> impl Future<Output = Result<Option<Vec<Outcome<Self>>>>> + Send;

    /// Writes one item, as a lone request would be.
    fn alone(
        tx: &mut Tx,
        account: AccountId,
        item: Self,
    ) -> impl Future<Output = std::result::Result<Self::Done, Self::Error>> + Send;
}

/// A `together`'s answers, each item's filled in as its rules or its write decided: all of
/// them, or an error naming the gap (a bug in that `together`).
pub(crate) fn every_answer<T>(outcomes: Vec<Option<T>>) -> Result<Option<Vec<T>>> {
    outcomes
        .into_iter()
        .map(|o| o.ok_or_else(|| StoreError::Decode("a batched item left unanswered".into())))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// What `write_many` did.
#[derive(Debug)]
pub struct Batch<T, E> {
    /// One per item, in order.
    pub outcomes: Vec<std::result::Result<T, E>>,
    /// Whether the items were written together rather than one by one.
    pub together: bool,
}

/// Items of a batch written alone at once at most: enough to share SQLite's group commits,
/// few enough to leave most of PostgreSQL's pool (16 by default) to other requests.
const ALONE_AT_ONCE: usize = 8;

/// Writes `items` (one account's): together in one transaction when the kind can; else each
/// alone in its own transaction, up to `ALONE_AT_ONCE` at a time, exactly as lone requests
/// would be. A transaction per item, rather than savepoints of one, keeps the lock order of
/// a lone request (one item's credential, member and counter rows, then commit): a batch
/// holding many items' rows would take them in an order no lone request does, and could
/// deadlock with another process. A failing together statement sends the items alone too
/// (say, a unique index raced by a concurrent batch); a failing transaction (its commit
/// included, whose outcome may be unknown) is every item's error, never written again,
/// except on PostgreSQL one refused as busy (failed to break a deadlock, or a serialization
/// conflict), which is known to be rolled back: its items go alone. An item alone that
/// PostgreSQL fails as busy runs again (`Db::transaction_retrying`), as a lone void does.
pub async fn write_many<W: BatchWrite>(db: &Db, account: AccountId, items: Vec<W>) -> Result<Batch<W::Done, W::Error>> {
    let items = Arc::new(items);
    let batch = items.clone();
    let together = db.transaction(move |tx| Box::pin(together_in(tx, account, batch))).await;
    match together {
        Ok(outcomes) => return Ok(Batch { outcomes, together: true }),
        Err(NotTogether::Undone) => {}
        Err(NotTogether::Failed(e)) if e.is_busy() && db.dialect() == Dialect::Postgres => {}
        Err(NotTogether::Failed(e)) => return Err(e),
    }
    let items = Arc::try_unwrap(items).map_err(|_| StoreError::Decode("a batch outlived its transaction".into()))?;
    let alone = items.into_iter().map(|item| {
        db.transaction_retrying(move |tx| {
            let item = item.clone();
            Box::pin(W::alone(tx, account, item))
        })
    });
    let outcomes = futures_util::stream::iter(alone).buffered(ALONE_AT_ONCE).collect().await;
    Ok(Batch { outcomes, together: false })
}

/// Why a batch was not written together: `together` declined or failed, and its transaction
/// was rolled back (the items go alone), or the transaction itself failed (every item's error).
enum NotTogether {
    Undone,
    Failed(StoreError),
}

impl From<StoreError> for NotTogether {
    fn from(e: StoreError) -> Self {
        Self::Failed(e)
    }
}

/// `together` as its transaction's whole body: an answer of `None` or a failing statement is
/// an error, so that the transaction (or on SQLite the job's savepoint) is rolled back. This
/// costs no savepoint of its own, which on PostgreSQL would be two more round trips and a
/// subtransaction for every row the batch writes.
async fn together_in<W: BatchWrite>(
    tx: &mut Tx,
    account: AccountId,
    items: Arc<Vec<W>>,
) -> std::result::Result<Vec<Outcome<W>>, NotTogether> {
    match W::together(tx, account, &items).await {
        Ok(Some(outcomes)) => Ok(outcomes),
        Ok(None) => Err(NotTogether::Undone),
        Err(e) => {
            tracing::debug!(error = %e, "writing together failed; writing one by one");
            Err(NotTogether::Undone)
        }
    }
}

struct Job<W: BatchWrite> {
    account: AccountId,
    item: W,
    answer: oneshot::Sender<Outcome<W>>,
}

/// The queue's handle; cloning shares the lanes.
pub struct Queue<W: BatchWrite> {
    queue: mpsc::UnboundedSender<Job<W>>,
}

impl<W: BatchWrite> Clone for Queue<W> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone() }
    }
}

impl<W: BatchWrite> Queue<W> {
    /// `lanes` tasks writing from one queue (needs a Tokio runtime). Two lanes let one batch
    /// be written while the other is gathered or waits for its commit (see `lane`); on
    /// PostgreSQL they are patient for `PATIENCE`.
    pub fn start(db: Db, lanes: usize) -> Self {
        let patience = (db.dialect() == Dialect::Postgres).then_some(PATIENCE);
        Self::start_with(db, lanes, patience)
    }

    /// `start` with the lanes' patience given (`None`: a lane takes what is waiting).
    pub fn start_with(db: Db, lanes: usize, patience: Option<Duration>) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(waiting));
        let max_batch = if db.dialect() == Dialect::Postgres { W::POSTGRES_MAX_BATCH } else { MAX_BATCH };
        let shared = Arc::new(Lanes { patience, max_batch, writing: AtomicUsize::new(0), finished: Notify::new() });
        for _ in 0..lanes.max(1) {
            tokio::spawn(lane(db.clone(), waiting.clone(), shared.clone()));
        }
        Self { queue }
    }

    /// Writes `item` in the next batch; answers once that batch has committed.
    pub async fn write(&self, account: AccountId, item: W) -> Outcome<W> {
        let stopped = || W::Error::from(StoreError::Closed("the batch queue stopped".into()));
        let (answer, answered) = oneshot::channel();
        self.queue.send(Job { account, item, answer }).map_err(|_| stopped())?;
        answered.await.unwrap_or_else(|_| Err(stopped()))
    }
}

/// How long a lane on PostgreSQL waits for its batch to grow (see `lane`); 8 ms measured no
/// better.
const PATIENCE: Duration = Duration::from_millis(4);

/// What a queue's lanes share.
struct Lanes {
    /// How long a lane waits for its batch to match the ones being written, if at all (see
    /// `lane`).
    patience: Option<Duration>,
    /// Items per batch at most.
    max_batch: usize,
    /// Items in the batches being written.
    writing: AtomicUsize,
    /// Signalled when a lane has written its batch.
    finished: Notify,
}

/// Takes batches from the queue and writes them, one at a time.
///
/// A lane takes every request waiting when it is free. On PostgreSQL it is also patient: when
/// another lane is writing, it waits until its own batch is as large as the ones being
/// written, or a lane finishes, or `PATIENCE` has passed. There each batch is a transaction
/// of its own backend with a fixed cost (a dozen statements and a commit: about 1.5 ms of
/// PostgreSQL's CPU, from issuance's CPU an item in batches of 40 and of 20), and an
/// impatient second lane took the few requests that had come since the first began: twice
/// the batches, each half as large, and no more issuances a second than one lane. On SQLite
/// the writer thread commits the lanes' batches together anyway, and waiting only delays them.
async fn lane<W: BatchWrite>(db: Db, waiting: Arc<Mutex<mpsc::UnboundedReceiver<Job<W>>>>, lanes: Arc<Lanes>) {
    let max = lanes.max_batch;
    let take = |waiting: &mut mpsc::UnboundedReceiver<Job<W>>, jobs: &mut Vec<Job<W>>| {
        while jobs.len() < max {
            match waiting.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
    };
    loop {
        let jobs = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else { return };
            let mut jobs = vec![first];
            take(&mut waiting, &mut jobs);
            if let Some(patience) = lanes.patience {
                let deadline = Instant::now() + patience;
                loop {
                    // Asked for before reading `writing`, so that a lane finishing in between is seen.
                    let finished = lanes.finished.notified();
                    if jobs.len() >= lanes.writing.load(Ordering::Acquire).min(max) {
                        break;
                    }
                    tokio::select! {
                        job = waiting.recv() => match job {
                            Some(job) => {
                                jobs.push(job);
                                take(&mut waiting, &mut jobs);
                            }
                            None => break,
                        },
                        _ = finished => {}
                        _ = tokio::time::sleep_until(deadline) => break,
                    }
                }
            }
            // Counted before the next lane can gather, so that it sees this batch.
            lanes.writing.fetch_add(jobs.len(), Ordering::AcqRel);
            jobs
        };
        let _written = Written { lanes: &lanes, items: jobs.len() };
        write_jobs(&db, jobs).await;
    }
}

/// A batch being written: uncounted, and the waiting lane told, when it is dropped (even by a
/// panic, which would otherwise leave the other lane waiting out `PATIENCE` before every batch).
struct Written<'a> {
    lanes: &'a Lanes,
    items: usize,
}

impl Drop for Written<'_> {
    fn drop(&mut self) {
        self.lanes.writing.fetch_sub(self.items, Ordering::AcqRel);
        self.lanes.finished.notify_waiters();
    }
}

/// Writes a batch, one transaction per account, and answers each of its requests.
async fn write_jobs<W: BatchWrite>(db: &Db, jobs: Vec<Job<W>>) {
    // One transaction per account, in order of arrival.
    let mut accounts: Vec<(AccountId, Vec<Job<W>>)> = Vec::new();
    for job in jobs {
        match accounts.iter_mut().find(|(account, _)| *account == job.account) {
            Some((_, group)) => group.push(job),
            None => accounts.push((job.account, vec![job])),
        }
    }
    for (account, group) in accounts {
        let (items, answers): (Vec<W>, Vec<_>) = group.into_iter().map(|j| (j.item, j.answer)).unzip();
        // A panic fails this group (as the router's panic layer fails a lone request),
        // not the lane: the lane goes on with the next batch.
        let written = AssertUnwindSafe(write_many(db, account, items)).catch_unwind().await;
        let written = written.unwrap_or_else(|_| Err(StoreError::Closed("a batched write panicked".into())));
        match written {
            Ok(batch) => {
                for (answer, outcome) in answers.into_iter().zip(batch.outcomes) {
                    // The client may have gone; its write stands, as a lone one would.
                    let _ = answer.send(outcome);
                }
            }
            Err(e) => {
                for answer in answers {
                    let _ = answer.send(Err(W::Error::from(e.again())));
                }
            }
        }
    }
}
