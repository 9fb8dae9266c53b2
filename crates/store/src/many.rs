//! Writes of one kind issued in batches: concurrent requests join a queue (`Queue`), and each
//! of one or two lanes takes every request waiting (up to `MAX_BATCH`, without waiting for more:
//! a lone request is written at once, and under load the requests that arrive while a batch
//! commits form the next), writes them in one transaction per account (`write_many`) and
//! answers each with its own outcome.
//!
//! A kind (`BatchWrite`) writes its items together, in a few multi-row statements, when the
//! rules allow, or says it cannot; then each item is written alone in its own savepoint of
//! the batch's transaction, as is every item of a batch whose multi-row statements failed
//! (rolled back to their savepoint first). A refused or failing item writes nothing and
//! takes nothing from its neighbours.

use crate::{Db, Result, StoreError, Tx};
use futures_util::FutureExt;
use kindling_domain::AccountId;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Requests per batch at most: when a batch goes one by one each item holds a savepoint
/// until the commit, and past 64 subtransactions in one transaction PostgreSQL looks every
/// further one up on disk (as `pg_commit::MAX_BATCH`, with room for the items' own).
const MAX_BATCH: usize = 48;

/// One item's answer.
pub type Outcome<W> = std::result::Result<<W as BatchWrite>::Done, <W as BatchWrite>::Error>;

/// A kind of write that can be done for many items at once.
pub trait BatchWrite: Sized + Send + 'static {
    type Done: Send + 'static;
    type Error: From<StoreError> + Send + 'static;

    /// Writes `items` together, answering one outcome per item in order, or `None` when a
    /// rule needs what only the one-by-one path does (nothing written then).
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

/// Writes `items` (one account's) in one transaction: together when the kind can, else one
/// by one. An error here (the transaction itself failed) is every item's.
pub async fn write_many<W: BatchWrite>(db: &Db, account: AccountId, items: Vec<W>) -> Result<Batch<W::Done, W::Error>> {
    db.transaction(move |tx| Box::pin(many_in(tx, account, items))).await
}

async fn many_in<W: BatchWrite>(tx: &mut Tx, account: AccountId, items: Vec<W>) -> Result<Batch<W::Done, W::Error>> {
    tx.execute("SAVEPOINT write_many", &[]).await?;
    match W::together(tx, account, &items).await {
        Ok(Some(outcomes)) => {
            tx.execute("RELEASE SAVEPOINT write_many", &[]).await?;
            return Ok(Batch { outcomes, together: true });
        }
        Ok(None) => {}
        Err(e) => {
            // Say, a unique index raced by a concurrent batch: the items go one by one.
            tracing::debug!(error = %e, "writing together failed; writing one by one");
            tx.execute("ROLLBACK TO SAVEPOINT write_many", &[]).await?;
        }
    }
    tx.execute("RELEASE SAVEPOINT write_many", &[]).await?;
    let mut outcomes = Vec::with_capacity(items.len());
    for item in items {
        tx.execute("SAVEPOINT write_one", &[]).await?;
        let outcome = W::alone(tx, account, item).await;
        if outcome.is_err() {
            tx.execute("ROLLBACK TO SAVEPOINT write_one", &[]).await?;
        }
        tx.execute("RELEASE SAVEPOINT write_one", &[]).await?;
        outcomes.push(outcome);
    }
    Ok(Batch { outcomes, together: false })
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
    /// each other's row locks (see `issuance::Issuer`).
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
