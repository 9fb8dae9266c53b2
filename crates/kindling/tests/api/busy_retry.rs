//! `Db::transaction_retrying`: on PostgreSQL a transaction failed to break a deadlock is run
//! again, so the request it serves succeeds (voids, limit changes and the batch queue's items
//! written alone use it, which can meet in a lock cycle); on SQLite a busy answer comes back
//! at once.

use crate::backend_tests;
use crate::helpers::TestApp;
use kindling_domain::AccountId;
use kindling_store::many::{self, BatchWrite, Outcome};
use kindling_store::{Dialect, StoreError, Tx};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Barrier;

backend_tests!(a_deadlock_victim_is_run_again, a_batched_item_alone_that_deadlocks_is_written_again);

async fn member(app: &TestApp, account: i64, identifier: &str) -> i64 {
    let sql = "INSERT INTO members (account_id, identifier, notification_mode, created_at, updated_at) \
               VALUES ($1, $2, 'none', 0, 0) RETURNING id";
    let params = vec![account.into(), identifier.into()];
    let id = app.db.transaction(move |tx| Box::pin(async move { tx.fetch_optional::<i64>(sql, &params).await })).await;
    id.unwrap().unwrap()
}

async fn lock(tx: &mut Tx, id: i64) -> Result<(), StoreError> {
    tx.fetch_optional::<i64>("SELECT id FROM members WHERE id = $1 FOR UPDATE", &[id.into()]).await.map(drop)
}

/// Two transactions lock two members in opposite orders, each waiting (first attempt only)
/// until the other holds its first: PostgreSQL fails one to break the cycle, and that one
/// runs again once the other has committed. Both succeed, three attempts in all, and each
/// member was updated twice, once by each.
async fn a_deadlock_victim_is_run_again(app: TestApp) {
    let account = app.account().await.id;
    let (a, b) = (member(&app, account, "lock-a").await, member(&app, account, "lock-b").await);
    let updated = "SELECT updated_at FROM members WHERE id = $1";
    if app.db.dialect() == Dialect::Sqlite {
        // SQLite's single writer cannot deadlock; its busy (another process's lock held past
        // the timeout) is answered, not retried.
        let attempts = Arc::new(AtomicUsize::new(0));
        let counted = attempts.clone();
        let outcome: Result<(), StoreError> = app
            .db
            .transaction_retrying(move |tx| {
                let counted = counted.clone();
                Box::pin(async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    tx.execute("UPDATE members SET updated_at = updated_at + 1 WHERE id = $1", &[a.into()]).await?;
                    Err(StoreError::Busy("refused by the test".into()))
                })
            })
            .await;
        assert!(matches!(outcome, Err(StoreError::Busy(_))), "{outcome:?}");
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
        assert_eq!(app.db.fetch_optional::<i64>(updated, &[a.into()]).await.unwrap(), Some(0));
        return;
    }
    let barrier = Arc::new(Barrier::new(2));
    let attempts = Arc::new(AtomicUsize::new(0));
    let run = |first: i64, second: i64| {
        let (db, barrier, attempts) = (app.db.clone(), barrier.clone(), attempts.clone());
        tokio::spawn(async move {
            db.transaction_retrying(move |tx| {
                let (barrier, attempts) = (barrier.clone(), attempts.clone());
                Box::pin(async move {
                    let attempt = attempts.fetch_add(1, Ordering::SeqCst);
                    lock(tx, first).await?;
                    if attempt < 2 {
                        barrier.wait().await;
                    }
                    lock(tx, second).await?;
                    tx.execute(
                        "UPDATE members SET updated_at = updated_at + 1 WHERE id IN ($1, $2)",
                        &[a.into(), b.into()],
                    )
                    .await?;
                    Ok::<_, StoreError>(())
                })
            })
            .await
        })
    };
    let (one, two) = (run(a, b), run(b, a));
    let (one, two) = (one.await.unwrap(), two.await.unwrap());
    assert!(one.is_ok() && two.is_ok(), "{one:?} {two:?}");
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    for id in [a, b] {
        assert_eq!(app.db.fetch_optional::<i64>(updated, &[id.into()]).await.unwrap(), Some(2));
    }
}

/// A batch item that locks two members in its order, its first attempts (two in the test)
/// waiting at `barrier` between them. It cannot be written together, so it goes alone.
#[derive(Clone)]
struct Crossing {
    first: i64,
    second: i64,
    both: [i64; 2],
    barrier: Arc<Barrier>,
    attempts: Arc<AtomicUsize>,
}

impl BatchWrite for Crossing {
    type Done = ();
    type Error = StoreError;

    async fn together(
        _tx: &mut Tx,
        _account: AccountId,
        _items: &[Self],
    ) -> kindling_store::Result<Option<Vec<Outcome<Self>>>> {
        Ok(None)
    }

    async fn alone(tx: &mut Tx, _account: AccountId, item: Self) -> Result<(), StoreError> {
        let attempt = item.attempts.fetch_add(1, Ordering::SeqCst);
        lock(tx, item.first).await?;
        if attempt < 2 {
            item.barrier.wait().await;
        }
        lock(tx, item.second).await?;
        let [a, b] = item.both;
        tx.execute("UPDATE members SET updated_at = updated_at + 1 WHERE id IN ($1, $2)", &[a.into(), b.into()])
            .await
            .map(drop)
    }
}

/// Two batches (`many::write_many`, as the queue's lanes write them) whose items, written
/// alone, lock two members in opposite orders: PostgreSQL fails one to break the cycle, and
/// that item is written again. Both answered `Ok`, three attempts, each member updated twice.
async fn a_batched_item_alone_that_deadlocks_is_written_again(app: TestApp) {
    if app.db.dialect() == Dialect::Sqlite {
        // SQLite's writer refuses a body that waits on anything but the database (the
        // barrier), and its single writer cannot deadlock.
        eprintln!("SKIPPED on SQLite: no deadlock to break");
        return;
    }
    let account = app.account().await.id;
    let (a, b) = (member(&app, account, "cross-a").await, member(&app, account, "cross-b").await);
    let barrier = Arc::new(Barrier::new(2));
    let attempts = Arc::new(AtomicUsize::new(0));
    let write = |first: i64, second: i64| {
        let item = Crossing { first, second, both: [a, b], barrier: barrier.clone(), attempts: attempts.clone() };
        let db = app.db.clone();
        tokio::spawn(async move { many::write_many(&db, AccountId(account), vec![item]).await })
    };
    let (one, two) = (write(a, b), write(b, a));
    for batch in [one.await.unwrap(), two.await.unwrap()] {
        let batch = batch.expect("the batch's transaction");
        assert!(!batch.together);
        assert!(batch.outcomes.iter().all(Result::is_ok), "{:?}", batch.outcomes);
    }
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    let updated = "SELECT updated_at FROM members WHERE id = $1";
    for id in [a, b] {
        assert_eq!(app.db.fetch_optional::<i64>(updated, &[id.into()]).await.unwrap(), Some(2));
    }
}
