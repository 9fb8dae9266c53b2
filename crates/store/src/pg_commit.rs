//! Group commit on PostgreSQL: `Db::transaction` bodies go to a few lanes, each a task that
//! owns one pooled connection at a time. A lane takes the bodies waiting for it, runs each
//! in its own `SAVEPOINT` of one transaction, commits once and answers them all, like
//! SQLite's writer thread (see `sqlite.rs`). Many redemptions of one limited offer then
//! share one hold of the offer's counter row and one WAL flush, instead of queueing one
//! commit at a time behind its lock.
//!
//! Opt-in (`KINDLING_PG_GROUP_COMMIT=on`, see `postgres::PgDb`): a batch holds every row
//! lock its bodies take until it commits, so batches on two lanes can deadlock over rows
//! that the requests alone would have locked one after the other.
//!
//! A batch is kept under PostgreSQL's 64 cached subtransactions per transaction
//! (`MAX_BATCH`, with room for the savepoints bodies open themselves), past which every
//! subtransaction lookup goes to disk.

use crate::batch::{self, Answer, Ran};
use crate::db::Conn;
use crate::{StoreError, Tx};
use futures_util::future::BoxFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Bodies per commit at most.
const MAX_BATCH: usize = 24;

/// A body for a lane. Given a transaction it runs and reports whether it wrote (then its
/// answer waits for the commit); given an error (no transaction could open) it answers with it.
type Job = Box<dyn for<'t> FnOnce(std::result::Result<&'t mut Tx, StoreError>) -> BoxFuture<'t, Ran> + Send>;

/// The lanes of one pool.
#[derive(Clone)]
pub struct Committer {
    lanes: Arc<[mpsc::UnboundedSender<Job>]>,
    next: Arc<AtomicUsize>,
    observer: Arc<std::sync::OnceLock<crate::BatchObserver>>,
}

impl Committer {
    /// `lanes` tasks on `pool` (`KINDLING_PG_COMMIT_LANES`, default half the pool).
    pub fn start(pool: &sqlx::PgPool, lanes: usize, codes: &crate::db::Codes) -> Self {
        let observer: Arc<std::sync::OnceLock<crate::BatchObserver>> = Arc::new(std::sync::OnceLock::new());
        let senders: Vec<_> = (0..lanes.max(1))
            .map(|_| {
                let (send, receive) = mpsc::unbounded_channel();
                tokio::spawn(lane(pool.clone(), receive, observer.clone(), codes.clone()));
                send
            })
            .collect();
        Self { lanes: senders.into(), next: Arc::new(AtomicUsize::new(0)), observer }
    }

    pub fn observe_batches(&self, observer: crate::BatchObserver) {
        let _ = self.observer.set(observer);
    }

    /// Runs `body` in the next batch of a lane; answers once that batch has committed.
    pub async fn transaction<T, E, F>(&self, body: F) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, std::result::Result<T, E>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |tx| {
            Box::pin(async move {
                let outcome = match tx {
                    Ok(tx) => body(tx).await,
                    Err(e) => Err(E::from(e)),
                };
                Ran::settle(outcome, answer)
            })
        });
        // Lanes in turn.
        let lane = self.next.fetch_add(1, Ordering::Relaxed) % self.lanes.len();
        self.lanes[lane].send(job).map_err(|_| StoreError::Closed("the PostgreSQL commit lane stopped".into()))?;
        batch::answered(answered).await
    }
}

/// One lane: a batch per wake-up, until the pool's owner drops every sender.
async fn lane(
    pool: sqlx::PgPool,
    mut queue: mpsc::UnboundedReceiver<Job>,
    observer: Arc<std::sync::OnceLock<crate::BatchObserver>>,
    codes: crate::db::Codes,
) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let begun = pool.begin().await.map_err(StoreError::from);
        let mut tx = match begun {
            Ok(tx) => Tx::new(Conn::Postgres(Some(tx)), codes.clone()),
            Err(e) => {
                for job in jobs {
                    job(Err(e.again())).await;
                }
                continue;
            }
        };
        let size = jobs.len();
        let mut wrote = Vec::with_capacity(size);
        for job in jobs {
            run_job(&mut tx, job, &mut wrote).await;
        }
        let committed = tx.commit().await;
        if let Some(observe) = observer.get() {
            observe(size);
        }
        for answer in wrote {
            answer(match &committed {
                Ok(()) => Ok(()),
                Err(e) => Err(e.again()),
            });
        }
    }
}

/// Runs one job inside its own savepoint; keeps its answer for after the commit when it wrote.
async fn run_job(tx: &mut Tx, job: Job, wrote: &mut Vec<Answer>) {
    if let Err(e) = tx.execute("SAVEPOINT job", &[]).await {
        job(Err(e)).await;
        return;
    }
    let ran = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(job(Ok(tx)))).await;
    match ran {
        Ok(Ran::Wrote(answer)) => match tx.execute("RELEASE SAVEPOINT job", &[]).await {
            Ok(_) => wrote.push(answer),
            Err(e) => {
                undo(tx).await;
                answer(Err(e));
            }
        },
        Ok(Ran::Failed) | Err(_) => undo(tx).await,
    }
}

/// Rolls the current job back to its savepoint, leaving the batch usable.
async fn undo(tx: &mut Tx) {
    for statement in ["ROLLBACK TO SAVEPOINT job", "RELEASE SAVEPOINT job"] {
        if let Err(e) = tx.execute(statement, &[]).await {
            tracing::error!(error = %e, "cannot roll back a failed write");
        }
    }
}
