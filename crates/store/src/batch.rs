//! What SQLite's writer thread (`sqlite.rs`) and PostgreSQL's commit lanes (`pg_commit.rs`)
//! share: a write body's outcome, whose answer waits for its batch's commit when it wrote.

use crate::{Result, StoreError};
use tokio::sync::oneshot;

/// Answers one caller with its batch's commit outcome.
pub(crate) type Answer = Box<dyn FnOnce(Result<()>) + Send>;

/// What a body did: wrote (answer it once its batch commits) or failed (already answered).
pub(crate) enum Ran {
    Wrote(Answer),
    Failed,
}

impl Ran {
    /// A body's failure is sent at once; its value waits for the commit's outcome.
    pub(crate) fn settle<T, E>(
        outcome: std::result::Result<T, E>,
        answer: oneshot::Sender<std::result::Result<T, E>>,
    ) -> Self
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match outcome {
            Ok(value) => Self::Wrote(Box::new(move |committed: Result<()>| {
                let _ = answer.send(committed.map(|()| value).map_err(E::from));
            })),
            Err(e) => {
                let _ = answer.send(Err(e));
                Self::Failed
            }
        }
    }
}

/// Waits for a body's answer; a dropped sender means the body panicked.
pub(crate) async fn answered<T, E: From<StoreError>>(
    answer: oneshot::Receiver<std::result::Result<T, E>>,
) -> std::result::Result<T, E> {
    answer.await.unwrap_or_else(|_| Err(StoreError::Closed("a write body panicked".into()).into()))
}
