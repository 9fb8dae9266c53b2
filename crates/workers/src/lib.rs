//! Background work that must survive restarts: it lives in database tables (the callback
//! outbox, member deletion requests) and is picked up by whichever server process polls first;
//! and the retention job, which deletes what is kept only for a while.

// Unsafe code lives only in store::shm; here it cannot be allowed.
#![forbid(unsafe_code)]

use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub mod addresses;
pub mod callbacks;
pub mod clock;
pub mod privacy;
pub mod retention;

/// Runs `job` at once and then `interval` after each run ends, until `stop` turns true or its
/// sender is dropped (a run in progress finishes first).
pub(crate) fn every<F, Fut>(interval: Duration, mut stop: watch::Receiver<bool>, mut job: F) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        loop {
            job().await;
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
    })
}
