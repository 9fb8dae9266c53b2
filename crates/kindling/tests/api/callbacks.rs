//! Conversion and account callbacks, received by a real local listener.

use crate::backend_tests;
use crate::credentials::{put_query, setup, Setup};
use crate::helpers::{Backend, TestAccount, TestApp};
use axum::extract::{OriginalUri, State};
use axum::http::{Method, StatusCode};
use reqwest::Method as ReqMethod;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

backend_tests!(
    conversion_callback_fills_the_template,
    account_callbacks_post_the_credential,
    failed_callbacks_are_retried_and_logged,
    a_hanging_target_does_not_delay_other_accounts
);

/// What the listener shares with its handler: the requests so far and failures left.
type ListenerState = (Arc<Mutex<Vec<Received>>>, Arc<AtomicUsize>, String);

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub uri: String,
    pub body: String,
}

/// A local HTTP server that records the requests under its own random path prefix (so a
/// stray callback from another test that reused the port is not counted) and fails the
/// first `fail_first` of them.
#[derive(Clone)]
pub struct Listener {
    pub base: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
}

impl Listener {
    pub async fn start(fail_first: usize) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicUsize::new(fail_first));
        let prefix = format!("/l-{}", kindling_domain::secret::new_xid());
        let state = (received.clone(), fail.clone(), prefix.clone());
        let app = axum::Router::new()
            .fallback(
                |State((received, fail, prefix)): State<ListenerState>,
                 method: Method,
                 OriginalUri(uri): OriginalUri,
                 body: String| async move {
                    let Some(uri) = uri.to_string().strip_prefix(&prefix).map(str::to_owned) else {
                        return StatusCode::NOT_FOUND;
                    };
                    received.lock().unwrap().push(Received { method: method.to_string(), uri, body });
                    if fail.load(Ordering::SeqCst) > 0 {
                        fail.fetch_sub(1, Ordering::SeqCst);
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                },
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}{prefix}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, received, fail_first: fail }
    }

    /// Waits until `n` requests arrived (at most 20 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.received.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < deadline, "only {} of {n} callbacks arrived: {got:?}", got.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn remaining_failures(&self) -> usize {
        self.fail_first.load(Ordering::SeqCst)
    }
}

pub fn query(uri: &str) -> HashMap<String, String> {
    let q = uri.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap().into_iter().collect()
}

async fn conversion_callback_fills_the_template(app: TestApp) {
    let listener = Listener::start(0).await;
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let template = format!(
        "{}/callback/%{{credential_id}}?xid=%{{xid}}&offer_id=%{{offer_id}}&offer_ids=%{{offer_ids}}&store_id=%{{store_id}}\
         &at=%{{redeemed_at}}&status=%{{status}}&uid=%{{sf_uid}}&ac=%{{sf_ac}}&click=%{{click}}&none=%{{nope}}",
        listener.base
    );
    app.put(&acct, &format!("/v1.0/channels/{}", s.channel), json!({"channel": {"conversion_callback_url": template}}))
        .await
        .error_free();
    let m = crate::merchants::merchant(&app, &acct, "Q").await;
    let store = app.post(&acct, &format!("/v1.0/merchants/{m}/stores"), json!({"store": {"name": "S"}})).await.body
        ["store"]["id"]
        .as_i64()
        .unwrap();
    let body = json!({"credential": {"member_id": s.member, "offer_id": s.offer, "channel_id": s.channel,
        "annotations": {"conv_ids": {"click": "a b&c"}, "sf_ac": "spring banner"}}});
    let id = app.post(&acct, "/v1.0/credentials", body).await.body["credential"]["id"].as_i64().unwrap();
    let xid = app.get(&acct, &format!("/v1.0/offers/{}", s.offer)).await.body["offer"]["channels"][0]["channel"]["xid"]
        .as_str()
        .unwrap()
        .to_owned();
    let member_identifier = app.get(&acct, &format!("/v1.0/members/{}", s.member)).await.body["member"]["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let redeemed = put_query(&app, &acct, &format!("/v1.0/credentials/{id}/redeem?store_id={store}")).await;
    let redeemed_at = redeemed.body["credential"]["redeemed_at"].as_str().unwrap().to_owned();

    let got = listener.wait_for(1).await;
    assert_eq!(got[0].method, "GET");
    assert!(got[0].uri.starts_with(&format!("/callback/{id}?")), "{}", got[0].uri);
    let q = query(&got[0].uri);
    let expect = |k: &str| q.get(k).cloned().unwrap_or_else(|| panic!("{k} missing from {}", got[0].uri));
    assert_eq!(expect("xid"), xid);
    assert_eq!(expect("offer_id"), s.offer.to_string());
    assert_eq!(expect("offer_ids"), s.offer.to_string());
    assert_eq!(expect("store_id"), store.to_string());
    assert_eq!(expect("at"), redeemed_at);
    assert_eq!(expect("status"), "redeemed");
    assert_eq!(expect("uid"), member_identifier);
    assert_eq!(expect("ac"), "spring banner");
    assert_eq!(expect("click"), "a b&c", "conv_ids values, URL-encoded");
    assert_eq!(expect("none"), "", "unknown keys are blank");
    assert!(got[0].uri.contains("click=a%20b%26c"));
    // The worker records the delivery just after the listener answers: wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let delivered = loop {
        let delivered: Option<i64> = app
            .db
            .fetch_optional(
                "SELECT COUNT(*) FROM callback_outbox WHERE account_id = $1 AND delivered_at IS NOT NULL",
                &[acct.id.into()],
            )
            .await
            .unwrap();
        if delivered == Some(1) || Instant::now() > deadline {
            break delivered;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(delivered, Some(1));
}

/// Points the account's credential callbacks at `listener` (they still need enabling).
async fn set_credential_url(app: &TestApp, acct: &crate::helpers::TestAccount, listener: &Listener) {
    let url = format!("{}/account", listener.base);
    app.put(acct, "/v1.0/account", json!({"account": {"callbacks": {"credential_url": url}}})).await.error_free();
}

async fn account_callbacks_post_the_credential(app: TestApp) {
    let listener = Listener::start(0).await;
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    // Not enabled yet: a URL alone sends nothing.
    set_credential_url(&app, &acct, &listener).await;
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    app.raw(Some(&acct.token), ReqMethod::POST, &path, None).await.error_free();
    app.put(&acct, "/v1.0/account/callbacks/enable", json!({})).await.error_free();
    let id = app.raw(Some(&acct.token), ReqMethod::POST, &path, None).await.body["credential"]["id"].as_i64().unwrap();
    put_query(&app, &acct, &format!("/v1.0/credentials/{id}/redeem")).await.error_free();
    put_query(&app, &acct, &format!("/v1.0/credentials/{id}/void")).await.error_free();
    let got = listener.wait_for(3).await;
    // Several workers share the outbox, so the order of delivery is best effort.
    let mut events: Vec<(String, String, i64)> = got
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            (r.method.clone(), body["event"].as_str().unwrap().to_owned(), body["credential"]["id"].as_i64().unwrap())
        })
        .collect();
    events.sort();
    assert_eq!(
        events,
        [
            ("POST".into(), "credential.created".into(), id),
            ("POST".into(), "credential.redeemed".into(), id),
            ("POST".into(), "credential.voided".into(), id)
        ]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(listener.received.lock().unwrap().len(), 3, "nothing sent before callbacks were enabled");
}

async fn failed_callbacks_are_retried_and_logged(app: TestApp) {
    let listener = Listener::start(2).await;
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Flaky"})).await;
    app.put(
        &acct,
        &format!("/v1.0/channels/{}", s.channel),
        json!({"channel": {"conversion_callback_url": format!("{}/cb/%{{credential_id}}", listener.base)}}),
    )
    .await
    .error_free();
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    let id = app.raw(Some(&acct.token), ReqMethod::POST, &path, None).await.body["credential"]["id"].as_i64().unwrap();
    put_query(&app, &acct, &format!("/v1.0/credentials/{id}/redeem")).await.error_free();
    let got = listener.wait_for(3).await;
    assert!(got.iter().all(|r| r.uri == format!("/cb/{id}")));
    assert_eq!(listener.remaining_failures(), 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    #[derive(Debug)]
    struct Attempt(i64, i64);
    impl kindling_store::FromRow for Attempt {
        fn from_row(row: &impl kindling_store::Row) -> kindling_store::Result<Self> {
            Ok(Self(row.int("status_code")?, row.int("attempts")?))
        }
    }
    loop {
        let attempts: Vec<Attempt> = app
            .db
            .fetch_all(
                "SELECT a.status_code, o.attempts FROM callback_attempts a JOIN callback_outbox o ON o.id = a.outbox_id \
                 WHERE o.account_id = $1 AND o.delivered_at IS NOT NULL ORDER BY a.id",
                &[acct.id.into()],
            )
            .await
            .unwrap();
        if attempts.len() == 3 {
            assert_eq!(attempts.iter().map(|a| a.0).collect::<Vec<_>>(), [500, 500, 200], "every attempt logged");
            assert!(attempts.iter().all(|a| a.1 == 3));
            break;
        }
        assert!(Instant::now() < deadline, "attempts: {attempts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A callback target that accepts connections and never answers.
pub struct Hanging {
    pub base: String,
    pub accepted: Arc<AtomicUsize>,
}

impl Hanging {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        Self { base, accepted }
    }

    /// Waits (at most 10 s) until a worker has connected.
    pub async fn wait_for_a_connection(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.accepted.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "the hanging target was never called");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Issues and redeems a credential, which sends the channel's conversion callback.
async fn redeem_one(app: &TestApp, acct: &TestAccount, s: &Setup) {
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    let id = app.raw(Some(&acct.token), ReqMethod::POST, &path, None).await.body["credential"]["id"].as_i64().unwrap();
    put_query(app, acct, &format!("/v1.0/credentials/{id}/redeem")).await.error_free();
}

async fn conversion_url(app: &TestApp, acct: &TestAccount, channel: i64, url: String) {
    app.put(acct, &format!("/v1.0/channels/{channel}"), json!({"channel": {"conversion_callback_url": url}}))
        .await
        .error_free();
}

async fn a_hanging_target_does_not_delay_other_accounts(app: TestApp) {
    let hanging = Hanging::start().await;
    let listener = Listener::start(0).await;
    let (stuck, other) = (app.account().await, app.account().await);
    let s = setup(&app, &stuck, json!({"name": "Stuck"})).await;
    conversion_url(&app, &stuck, s.channel, format!("{}/cb", hanging.base)).await;
    let t = setup(&app, &other, json!({"name": "Other"})).await;
    conversion_url(&app, &other, t.channel, format!("{}/cb", listener.base)).await;
    for _ in 0..3 {
        redeem_one(&app, &stuck, &s).await;
    }
    hanging.wait_for_a_connection().await;

    let started = Instant::now();
    redeem_one(&app, &other, &t).await;
    listener.wait_for(1).await;
    let waited = started.elapsed();
    // Stop the other workers sharing a PostgreSQL outbox from calling the dead target later.
    app.db
        .execute(
            "UPDATE callback_outbox SET failed_at = $2 WHERE account_id = $1 AND delivered_at IS NULL",
            &[stuck.id.into(), kindling_domain::Timestamp::now().unix().into()],
        )
        .await
        .unwrap();
    assert!(waited < Duration::from_secs(3), "the other account's callback took {waited:?}");
}

/// One worker delivers an account's callbacks in the order they were written. (SQLite only:
/// on the shared PostgreSQL, the workers of concurrent tests take turns.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_worker_keeps_an_accounts_callbacks_in_order() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let listener = Listener::start(0).await;
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Ordered"})).await;
    set_credential_url(&app, &acct, &listener).await;
    app.put(&acct, "/v1.0/account/callbacks/enable", json!({})).await.error_free();
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    let mut expected = Vec::new();
    for _ in 0..4 {
        let id =
            app.raw(Some(&acct.token), ReqMethod::POST, &path, None).await.body["credential"]["id"].as_i64().unwrap();
        put_query(&app, &acct, &format!("/v1.0/credentials/{id}/redeem")).await.error_free();
        put_query(&app, &acct, &format!("/v1.0/credentials/{id}/void")).await.error_free();
        for event in ["credential.created", "credential.redeemed", "credential.voided"] {
            expected.push((event.to_owned(), id));
        }
    }
    let got: Vec<(String, i64)> = listener
        .wait_for(expected.len())
        .await
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            (body["event"].as_str().unwrap().to_owned(), body["credential"]["id"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(got, expected);
}

/// An attempt that outlasted its lease (another worker has claimed the row again meanwhile)
/// records itself in the log but leaves the row's schedule to the new claim: its retry does
/// not move the next attempt, its give-up does not fail the row. A delivery is kept whoever
/// made it. SQLite only: the test's database is its own, and its rows are due only at a time
/// the test gives (a shared PostgreSQL outbox's rows would be claimed by other tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_attempt_leaves_the_new_claims_schedule() {
    use kindling_domain::Timestamp;
    use kindling_store::credentials::outbox::{self, Outcome};
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    // Due a day from now: the test app's own worker (on the clock) never sees it due.
    let t = Timestamp::now().plus_seconds(86_400);
    app.db
        .execute(
            "INSERT INTO callback_outbox (account_id, kind, method, url, next_attempt_at, give_up_at, created_at) \
             VALUES ($1, 'test', 'GET', 'http://192.0.2.1/late', $2, $3, $2)",
            &[acct.id.into(), t.unix().into(), t.plus_seconds(86_400).unix().into()],
        )
        .await
        .unwrap();
    let first = outbox::claim(&app.db, t, 10, 1, &[]).await.unwrap().pop().expect("claimed");
    // Its lease (10 s) runs out; another worker claims the row again.
    let second = outbox::claim(&app.db, t.plus_seconds(11), 10, 1, &[]).await.unwrap().pop().expect("claimed again");
    assert_eq!((first.id, first.attempts, second.attempts), (second.id, 1, 2));
    let row = "SELECT next_attempt_at FROM callback_outbox WHERE id = $1";
    let retry = Outcome::Retry { status: Some(500), error: "late".into(), next_attempt_at: t.plus_seconds(500) };
    outbox::record(&app.db, &first, t.plus_seconds(12), 5, retry).await.unwrap();
    let next: Option<i64> = app.db.fetch_optional(row, &[first.id.into()]).await.unwrap();
    assert_eq!(next, Some(t.plus_seconds(21).unix()), "the second claim's lease stands");
    outbox::record(&app.db, &first, t.plus_seconds(13), 5, Outcome::GaveUp { status: None, error: "late".into() })
        .await
        .unwrap();
    let failed = "SELECT COUNT(*) FROM callback_outbox WHERE id = $1 AND failed_at IS NOT NULL";
    assert_eq!(app.db.fetch_optional::<i64>(failed, &[first.id.into()]).await.unwrap(), Some(0), "not failed");
    outbox::record(&app.db, &second, t.plus_seconds(14), 5, Outcome::Delivered { status: 200 }).await.unwrap();
    let delivered = "SELECT COUNT(*) FROM callback_outbox WHERE id = $1 AND delivered_at IS NOT NULL";
    assert_eq!(app.db.fetch_optional::<i64>(delivered, &[first.id.into()]).await.unwrap(), Some(1));
    let attempts = "SELECT COUNT(*) FROM callback_attempts WHERE outbox_id = $1";
    assert_eq!(app.db.fetch_optional::<i64>(attempts, &[first.id.into()]).await.unwrap(), Some(3), "all logged");
}
