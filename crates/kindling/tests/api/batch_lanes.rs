//! The batch queue's lanes (`many::Queue`), with items that only record the batch they were
//! written in and wait at a gate the test opens: a patient lane (PostgreSQL's) that finds
//! another writing gathers a batch as large as the one being written, where a lane without
//! patience writes the first request that comes. PostgreSQL only: SQLite's writer runs a
//! write body in one poll and refuses one that waits on anything but the database, as these
//! gated items do.

use crate::backend_tests;
use crate::helpers::TestApp;
use kindling_domain::AccountId;
use kindling_store::many::{BatchWrite, Outcome, Queue};
use kindling_store::{StoreError, Tx};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

backend_tests!(
    a_patient_lane_gathers_as_many_as_the_other_is_writing,
    a_patient_lane_stops_waiting_when_the_other_is_done,
    a_patient_lane_waits_no_longer_than_its_patience,
    a_lane_without_patience_writes_what_comes,
    a_kind_s_postgres_cap_bounds_its_batches,
);

type Log = Arc<Mutex<Vec<Vec<&'static str>>>>;

/// Records its batch's items by name, then waits until its gate opens.
#[derive(Clone)]
struct Gated {
    name: &'static str,
    gate: Arc<Semaphore>,
    log: Log,
}

impl BatchWrite for Gated {
    type Done = ();
    type Error = StoreError;

    async fn together(
        _tx: &mut Tx,
        _account: AccountId,
        items: &[Self],
    ) -> kindling_store::Result<Option<Vec<Outcome<Self>>>> {
        items[0].log.lock().unwrap().push(items.iter().map(|i| i.name).collect());
        let _open = items[0].gate.acquire().await.map_err(|_| StoreError::Closed("the gate closed".into()))?;
        Ok(Some(items.iter().map(|_| Ok(())).collect()))
    }

    async fn alone(_tx: &mut Tx, _account: AccountId, _item: Self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// `Gated` whose batches on PostgreSQL hold two items at most.
#[derive(Clone)]
struct Capped(Gated);

impl BatchWrite for Capped {
    type Done = ();
    type Error = StoreError;
    const POSTGRES_MAX_BATCH: usize = 2;

    async fn together(
        tx: &mut Tx,
        account: AccountId,
        items: &[Self],
    ) -> kindling_store::Result<Option<Vec<Outcome<Self>>>> {
        let gated: Vec<Gated> = items.iter().map(|c| c.0.clone()).collect();
        Gated::together(tx, account, &gated).await
    }

    async fn alone(_tx: &mut Tx, _account: AccountId, _item: Self) -> Result<(), StoreError> {
        Ok(())
    }
}

struct Scene {
    queue: Queue<Gated>,
    log: Log,
    sent: Vec<JoinHandle<Result<(), StoreError>>>,
}

impl Scene {
    fn send(&mut self, name: &'static str, gate: &Arc<Semaphore>) {
        let (queue, gate, log) = (self.queue.clone(), gate.clone(), self.log.clone());
        self.sent.push(tokio::spawn(async move { queue.write(AccountId(1), Gated { name, gate, log }).await }));
    }

    /// The batches written so far, once there are `n` of them.
    async fn batches(&self, n: usize) -> Vec<Vec<&'static str>> {
        for _ in 0..1000 {
            let mut log = self.log.lock().unwrap().clone();
            if log.len() >= n {
                // By name: requests sent by tasks spawned together may reach the queue in any order.
                log.iter_mut().for_each(|batch| batch.sort_unstable());
                return log;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("fewer than {n} batches after 10 s: {:?}", self.log.lock().unwrap());
    }
}

/// What happens once `z1` is sent.
#[derive(Clone, Copy)]
enum Then {
    /// `z2` and `z3` follow, each this long after the one before.
    Follow(Duration),
    /// The `y` batch being written finishes 50 ms later; `z2` and `z3` follow 50 ms after.
    YsFinish,
}

/// Both lanes busy with a gated batch of one (`x0`, `x1`); three requests (`y1`..`y3`) queued
/// meanwhile are taken together by the first lane freed. The other lane is then freed while
/// the `y` batch is being written, and `z1` comes, then what `then` says. Answers the batch
/// `z1` was written in.
async fn z_batch(app: &TestApp, patience: Option<Duration>, then: Then) -> Vec<&'static str> {
    let mut scene =
        Scene { queue: Queue::start_with(app.db.clone(), 2, patience), log: Log::default(), sent: Vec::new() };
    let gates: Vec<Arc<Semaphore>> = (0..4).map(|_| Arc::new(Semaphore::new(0))).collect();
    scene.send("x0", &gates[0]);
    scene.batches(1).await;
    scene.send("x1", &gates[1]);
    scene.batches(2).await;
    for y in ["y1", "y2", "y3"] {
        scene.send(y, &gates[2]);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    gates[0].add_permits(1);
    assert_eq!(scene.batches(3).await[2], ["y1", "y2", "y3"], "the queued requests are one batch");
    gates[1].add_permits(1);
    // x1 answered: its lane is free (without patience, it would take z1 alone).
    scene.sent.remove(1).await.unwrap().unwrap();
    scene.send("z1", &gates[3]);
    let pause = match then {
        Then::Follow(pause) => pause,
        Then::YsFinish => {
            tokio::time::sleep(Duration::from_millis(50)).await;
            gates[2].add_permits(1);
            Duration::from_millis(50)
        }
    };
    for z in ["z2", "z3"] {
        tokio::time::sleep(pause).await;
        scene.send(z, &gates[3]);
    }
    let z = scene.batches(4).await[3].clone();
    for gate in &gates {
        gate.add_permits(10);
    }
    for sent in scene.sent {
        sent.await.unwrap().unwrap();
    }
    z
}

fn on_postgres(app: &TestApp) -> bool {
    let postgres = app.url.starts_with("postgres");
    if !postgres {
        eprintln!("SKIPPED on SQLite: its writer refuses a body that waits, as the gated items do");
    }
    postgres
}

async fn a_patient_lane_gathers_as_many_as_the_other_is_writing(app: TestApp) {
    if !on_postgres(&app) {
        return;
    }
    // Patience far longer than the test, so that only the batch's size ends the wait.
    let z = z_batch(&app, Some(Duration::from_secs(30)), Then::Follow(Duration::from_millis(20))).await;
    assert_eq!(z, ["z1", "z2", "z3"], "as many as the y batch being written");
}

async fn a_patient_lane_stops_waiting_when_the_other_is_done(app: TestApp) {
    if !on_postgres(&app) {
        return;
    }
    let z = z_batch(&app, Some(Duration::from_secs(30)), Then::YsFinish).await;
    assert_eq!(z, ["z1"], "written once the y batch was, before z2 came");
}

async fn a_patient_lane_waits_no_longer_than_its_patience(app: TestApp) {
    if !on_postgres(&app) {
        return;
    }
    let z = z_batch(&app, Some(Duration::from_millis(50)), Then::Follow(Duration::from_millis(500))).await;
    assert_eq!(z, ["z1"], "written after 50 ms, before z2 came");
}

async fn a_lane_without_patience_writes_what_comes(app: TestApp) {
    if !on_postgres(&app) {
        return;
    }
    assert_eq!(z_batch(&app, None, Then::Follow(Duration::from_millis(20))).await, ["z1"]);
}

async fn a_kind_s_postgres_cap_bounds_its_batches(app: TestApp) {
    if !on_postgres(&app) {
        return;
    }
    let queue: Queue<Capped> = Queue::start_with(app.db.clone(), 1, None);
    let log = Log::default();
    let (closed, open) = (Arc::new(Semaphore::new(0)), Arc::new(Semaphore::new(100)));
    let send = |name: &'static str, gate: &Arc<Semaphore>| {
        let (queue, gate, log) = (queue.clone(), gate.clone(), log.clone());
        tokio::spawn(async move { queue.write(AccountId(1), Capped(Gated { name, gate, log })).await })
    };
    let mut sent = vec![send("x", &closed)];
    while log.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Five queued while the lane is held by `x`, then taken two at a time.
    for name in ["a", "b", "c", "d", "e"] {
        sent.push(send(name, &open));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    closed.add_permits(1);
    for answer in sent {
        answer.await.unwrap().unwrap();
    }
    let sizes: Vec<usize> = log.lock().unwrap().iter().map(Vec::len).collect();
    assert_eq!(sizes, [1, 2, 2, 1], "batches of at most the kind's two");
}
