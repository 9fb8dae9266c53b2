//! Writes of one kind issued in batches: concurrent requests join a queue (`Queue`), and each
//! of one or two lanes takes every request waiting (up to `MAX_BATCH`, without waiting for more:
//! a lone request is written at once, and under load the requests that arrive while a batch
//! commits form the next), writes them in one transaction per account (`write_many`) and
//! answers each with its own outcome.
//!
//! A kind (`BatchWrite`) writes its items together, in a few multi-row statements, when the
//! rules allow, or says it cannot; then each item is written alone, in its own transaction,
//! as a lone request would be, as is every item of a batch whose multi-row statements failed
//! (undone first). A refused or failing item writes nothing and takes nothing from its
//! neighbours.

use crate::{Db, Result, StoreError, Tx};
use futures_util::{FutureExt, StreamExt};
use kindling_domain::AccountId;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Requests per batch at most: bounds a batch's statements and JSON parameters, and the
/// time its first request waits for the last one's checks.
const MAX_BATCH: usize = 48;

/// One item's answer.
pub type Outcome<W> = std::result::Result<<W as BatchWrite>::Done, <W as BatchWrite>::Error>;

/// A kind of write that can be done for many items at once.
pub trait BatchWrite: Sized + Send + Sync + 'static {
    type Done: Send + 'static;
    type Error: From<StoreError> + Send + 'static;

    /// Writes `items` together, answering one outcome per item in order, or `None` when a
    /// rule needs what only the one-by-one path does (whatever it wrote is then undone).
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
/// included, whose outcome may be unknown) is every item's error, never written again.
pub async fn write_many<W: BatchWrite>(db: &Db, account: AccountId, items: Vec<W>) -> Result<Batch<W::Done, W::Error>> {
    let items = Arc::new(items);
    let batch = items.clone();
    let together = db.transaction(move |tx| Box::pin(together_in(tx, account, batch))).await?;
    if let Some(outcomes) = together {
        return Ok(Batch { outcomes, together: true });
    }
    let items = Arc::try_unwrap(items).map_err(|_| StoreError::Decode("a batch outlived its transaction".into()))?;
    let alone = items.into_iter().map(|item| db.transaction(move |tx| Box::pin(W::alone(tx, account, item))));
    let outcomes = futures_util::stream::iter(alone).buffered(ALONE_AT_ONCE).collect().await;
    Ok(Batch { outcomes, together: false })
}

/// `together` in a savepoint: undone when it answers `None` (it may have written) or fails.
async fn together_in<W: BatchWrite>(
    tx: &mut Tx,
    account: AccountId,
    items: Arc<Vec<W>>,
) -> Result<Option<Vec<Outcome<W>>>> {
    tx.execute("SAVEPOINT write_many", &[]).await?;
    let outcomes = W::together(tx, account, &items).await.unwrap_or_else(|e| {
        tracing::debug!(error = %e, "writing together failed; writing one by one");
        None
    });
    let end = if outcomes.is_some() { "RELEASE SAVEPOINT write_many" } else { "ROLLBACK TO SAVEPOINT write_many" };
    tx.execute(end, &[]).await?;
    Ok(outcomes)
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
    /// be written while the other waits for its commit; one keeps batches from waiting on
    /// each other's row locks (see `issuance::start_issuer`).
    pub fn start(db: Db, lanes: usize) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..lanes.max(1) {
            tokio::spawn(lane(db.clone(), waiting.clone()));
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

async fn lane<W: BatchWrite>(db: Db, waiting: Arc<Mutex<mpsc::UnboundedReceiver<Job<W>>>>) {
    loop {
        let jobs = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else { return };
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            jobs
        };
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
            let written = AssertUnwindSafe(write_many(&db, account, items)).catch_unwind().await;
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
}
