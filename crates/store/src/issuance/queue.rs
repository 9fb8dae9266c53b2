//! The requests of `POST /v1.0/members/offer_states/issue`, issued in batches: a request
//! joins a queue, and each of a few lanes takes every request waiting (up to `MAX_BATCH`),
//! issues them with `issue_many` (one transaction per account) and answers each with its
//! own outcome. Nothing waits for a batch to fill: a lone request is issued at once, and
//! under load the requests that arrive while a batch commits form the next one, so the
//! batch grows with the load.

use super::{issue_many, Issue, Issued};
use crate::offer_states::StateError;
use crate::{Db, StoreError};
use kindling_domain::AccountId;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Requests per batch at most.
const MAX_BATCH: usize = 256;

type Outcome = std::result::Result<Issued, StateError>;

struct Job {
    account: AccountId,
    issue: Issue,
    answer: oneshot::Sender<Outcome>,
}

/// The queue's handle; cloning shares the lanes.
#[derive(Clone)]
pub struct Issuer {
    queue: mpsc::UnboundedSender<Job>,
}

impl Issuer {
    /// `lanes` tasks issuing from one queue (needs a Tokio runtime). Two lanes let one batch
    /// be written while the other waits for its commit.
    pub fn start(db: Db, lanes: usize) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..lanes.max(1) {
            tokio::spawn(lane(db.clone(), waiting.clone()));
        }
        Self { queue }
    }

    /// Issues `issue` in the next batch; answers once that batch has committed.
    pub async fn issue(&self, account: AccountId, issue: Issue) -> Outcome {
        let stopped = || StateError::Store(StoreError::Closed("the issuance queue stopped".into()));
        let (answer, answered) = oneshot::channel();
        self.queue.send(Job { account, issue, answer }).map_err(|_| stopped())?;
        answered.await.unwrap_or_else(|_| Err(stopped()))
    }
}

async fn lane(db: Db, waiting: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>) {
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
        let mut accounts: Vec<(AccountId, Vec<Job>)> = Vec::new();
        for job in jobs {
            match accounts.iter_mut().find(|(account, _)| *account == job.account) {
                Some((_, group)) => group.push(job),
                None => accounts.push((job.account, vec![job])),
            }
        }
        for (account, group) in accounts {
            let (issues, answers): (Vec<Issue>, Vec<_>) = group.into_iter().map(|j| (j.issue, j.answer)).unzip();
            match issue_many(&db, account, issues).await {
                Ok(batch) => {
                    for (answer, outcome) in answers.into_iter().zip(batch.outcomes) {
                        // The client may have gone; its issuance stands, as a lone one would.
                        let _ = answer.send(outcome);
                    }
                }
                Err(e) => {
                    let busy = matches!(e, StoreError::Busy(_));
                    for answer in answers {
                        let message = e.to_string();
                        let e = if busy { StoreError::Busy(message) } else { StoreError::Closed(message) };
                        let _ = answer.send(Err(StateError::Store(e)));
                    }
                }
            }
        }
    }
}
