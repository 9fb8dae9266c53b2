//! The retention job: forgotten idempotency keys and old finished callbacks are deleted;
//! running requests' keys and pending callbacks stay.

use crate::backend_tests;
use crate::callbacks::Listener;
use crate::credentials::setup;
use crate::helpers::{TestAccount, TestApp};
use crate::limits::keyed;
use kindling_domain::{AccountId, Timestamp};
use kindling_workers::retention::{self, Config, Purged};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

backend_tests!(forgotten_keys_and_old_finished_callbacks_are_deleted);

const DAY: i64 = 24 * 60 * 60;

/// Runs the job `seconds` from now, 2 rows a statement; on SQLite (a database of the test's
/// own) over every account, as `kindling serve` runs it; on the shared PostgreSQL database
/// over `accounts` only.
async fn run(app: &TestApp, accounts: &[&TestAccount], seconds: i64) -> Purged {
    let at = Timestamp::now().plus_seconds(seconds);
    let accounts = (!app.url.starts_with("sqlite")).then(|| accounts.iter().map(|a| AccountId(a.id)).collect());
    retention::run_once(&app.db, &move || at, &Config { batch: 2, accounts, ..Config::default() }).await.unwrap()
}

async fn count(app: &TestApp, sql: &str, account: i64) -> i64 {
    app.db.fetch_optional::<i64>(sql, &[account.into()]).await.unwrap().unwrap_or(0)
}

/// Issues `n` credentials of `acct`'s with credential callbacks sent to `listener`, and waits
/// until each callback was attempted at least once.
async fn callbacks(app: &TestApp, acct: &TestAccount, listener: &Listener, n: usize) {
    let s = setup(app, acct, json!({"name": "Kept a while"})).await;
    let url = format!("{}/account", listener.base);
    app.put(acct, "/v1.0/account", json!({"account": {"callbacks": {"credential_url": url}}})).await.error_free();
    app.put(acct, "/v1.0/account/callbacks/enable", json!({})).await.error_free();
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    for _ in 0..n {
        app.raw(Some(&acct.token), Method::POST, &path, None).await.error_free();
    }
    let attempted = "SELECT COUNT(*) FROM callback_outbox WHERE account_id = $1 AND attempts > 0 \
                     AND (delivered_at IS NOT NULL OR last_error IS NOT NULL)";
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(app, attempted, acct.id).await < n as i64 {
        assert!(Instant::now() < deadline, "the callbacks were not attempted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn forgotten_keys_and_old_finished_callbacks_are_deleted(app: TestApp) {
    // Delivered callbacks of one account, pending ones (their target fails) of another.
    let (delivered, pending) = (app.account().await, app.account().await);
    callbacks(&app, &delivered, &Listener::start(0).await, 3).await;
    callbacks(&app, &pending, &Listener::start(usize::MAX).await, 2).await;
    // One of the pending ones given up (as after its day of retries).
    let given_up = app
        .db
        .fetch_optional::<i64>("SELECT MIN(id) FROM callback_outbox WHERE account_id = $1", &[pending.id.into()])
        .await
        .unwrap()
        .unwrap();
    app.db
        .execute("UPDATE callback_outbox SET failed_at = created_at WHERE id = $1", &[given_up.into()])
        .await
        .unwrap();
    // A finished idempotent request, and one whose request is still running a day later.
    let member = |name: &str| Some(json!({"member": {"identifier": name}}).to_string());
    let first = keyed(&app, &delivered.token, Method::POST, "/v1.0/members", "done", member("a")).await;
    assert_eq!(first.status(), 201);
    assert_eq!(
        keyed(&app, &delivered.token, Method::POST, "/v1.0/members", "running", member("b")).await.status(),
        201
    );
    app.db
        .execute(
            "UPDATE idempotency_keys SET status_code = NULL, locked_until = $2 \
             WHERE account_id = $1 AND idempotency_key = 'running'",
            &[delivered.id.into(), Timestamp::now().plus_seconds(3 * DAY).unix().into()],
        )
        .await
        .unwrap();
    let accounts = [&delivered, &pending];
    let outbox = "SELECT COUNT(*) FROM callback_outbox WHERE account_id = $1";
    let attempts = "SELECT COUNT(*) FROM callback_attempts a JOIN callback_outbox o ON o.id = a.outbox_id \
                    WHERE o.account_id = $1";
    let keys = "SELECT COUNT(*) FROM idempotency_keys WHERE account_id = $1";

    // Within a key's day nothing goes; after it the finished key does.
    assert_eq!(run(&app, &accounts, 23 * 60 * 60).await, Purged::default());
    assert_eq!(run(&app, &accounts, DAY + 60).await, Purged { idempotency_keys: 1, callbacks: 0 });
    assert_eq!(count(&app, keys, delivered.id).await, 1, "the running request keeps its key");
    // The forgotten key is new again: another request under it runs instead of a 422.
    let again = keyed(&app, &delivered.token, Method::POST, "/v1.0/members", "done", member("c")).await;
    assert_eq!(again.status(), 201);
    assert!(again.headers().get("idempotent-replayed").is_none());

    // Finished callbacks stay for the retention (30 days), then go with their attempts.
    assert_eq!(run(&app, &accounts, 29 * DAY).await.callbacks, 0);
    assert_eq!(count(&app, outbox, delivered.id).await, 3);
    let purged = run(&app, &accounts, 31 * DAY).await;
    assert_eq!(purged.callbacks, 4, "three delivered and one given up, two to a statement");
    assert_eq!(count(&app, outbox, delivered.id).await, 0);
    assert_eq!(count(&app, attempts, delivered.id).await, 0);
    assert_eq!(count(&app, outbox, pending.id).await, 1, "the pending callback stays, however old");
    assert!(count(&app, attempts, pending.id).await >= 1, "with its attempts");
    // Stop retrying the failing target for the rest of the suite.
    app.db
        .execute("UPDATE callback_outbox SET failed_at = created_at WHERE account_id = $1", &[pending.id.into()])
        .await
        .unwrap();
}
