//! `Idempotency-Key`: a retried write is answered from the first response, never run twice.

use crate::backend_tests;
use crate::credentials::setup;
use crate::helpers::{Backend, TestApp};
use crate::limits::keyed as send;
use reqwest::Method;
use serde_json::json;

backend_tests!(same_key_same_request_replays, same_key_different_request_is_422);

async fn same_key_same_request_replays(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Once"})).await;
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    let first = send(&app, &acct.token, Method::POST, &path, "key-1", None).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();
    let again = send(&app, &acct.token, Method::POST, &path, "key-1", None).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<serde_json::Value>().await.unwrap(), first);
    let count: Option<i64> = app
        .db
        .fetch_optional("SELECT COUNT(*) FROM credentials WHERE account_id = $1", &[acct.id.into()])
        .await
        .unwrap();
    assert_eq!(count, Some(1), "the retry created nothing");

    // A redeem retried with its key is answered, not refused as already redeemed.
    let id = first["credential"]["id"].as_i64().unwrap();
    let redeem = format!("/v1.0/credentials/{id}/redeem");
    assert_eq!(send(&app, &acct.token, Method::PUT, &redeem, "redeem-1", None).await.status(), 201);
    assert_eq!(send(&app, &acct.token, Method::PUT, &redeem, "redeem-1", None).await.status(), 201);
    assert_eq!(
        send(&app, &acct.token, Method::PUT, &redeem, "redeem-2", None).await.status(),
        400,
        "a new key is a new attempt"
    );

    // Keys belong to an account; GETs ignore them; errors are replayed too.
    let other = app.account().await;
    let theirs = send(
        &app,
        &other.token,
        Method::POST,
        "/v1.0/members",
        "key-1",
        Some(json!({"member": {"identifier": "x"}}).to_string()),
    )
    .await;
    assert_eq!(theirs.status(), 201);
    assert_eq!(
        send(&app, &acct.token, Method::GET, &format!("/v1.0/credentials/{id}"), "key-1", None).await.status(),
        200
    );
    let bad = send(&app, &acct.token, Method::POST, "/v1.0/members", "bad-1", Some("{}".into())).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(send(&app, &acct.token, Method::POST, "/v1.0/members", "bad-1", Some("{}".into())).await.status(), 400);
    assert_eq!(send(&app, &acct.token, Method::POST, "/v1.0/members", "", Some("{}".into())).await.status(), 400);
    assert_eq!(send(&app, "nonsense", Method::POST, "/v1.0/members", "k", Some("{}".into())).await.status(), 401);
}

async fn same_key_different_request_is_422(app: TestApp) {
    let acct = app.account().await;
    let a = send(
        &app,
        &acct.token,
        Method::POST,
        "/v1.0/members",
        "k",
        Some(json!({"member": {"identifier": "a"}}).to_string()),
    )
    .await;
    assert_eq!(a.status(), 201);
    let b = send(
        &app,
        &acct.token,
        Method::POST,
        "/v1.0/members",
        "k",
        Some(json!({"member": {"identifier": "b"}}).to_string()),
    )
    .await;
    assert_eq!(b.status(), 422);
    let body: serde_json::Value = b.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("different request"));
    assert_eq!(app.get(&acct, "/v1.0/members").await.body["total_entries"], 1);
    let c = send(
        &app,
        &acct.token,
        Method::POST,
        "/v1.0/channels",
        "k",
        Some(json!({"channel": {"name": "x"}}).to_string()),
    )
    .await;
    assert_eq!(c.status(), 422, "another path is another request");
}

/// A request that outlasts its key's lease keeps the key: the lease is renewed while it
/// runs, so a retry meanwhile is told it is in progress (409) instead of running the write a
/// second time, and the first response is the one replayed. The request is made slow by a
/// transaction holding the code's row (PostgreSQL: its redeem waits for the row). Before, the
/// retry took the lease over once it ran out and redeemed again, and its refusal ("already
/// redeemed") replaced the first answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run scripts/test.sh"]
async fn postgres_a_slow_request_keeps_its_key() {
    let config = kindling_api::AppConfig { idempotency_lease_seconds: 2, ..kindling_api::AppConfig::default() };
    let app = TestApp::spawn_with(Backend::Postgres, config).await.unwrap();
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Slow"})).await;
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    let issued: serde_json::Value =
        send(&app, &acct.token, Method::POST, &path, "issue", None).await.json().await.unwrap();
    let id = issued["credential"]["id"].as_i64().unwrap();
    let redeem = format!("/v1.0/credentials/{id}/redeem");
    let (locked, is_locked) = tokio::sync::oneshot::channel();
    let (go, gone) = tokio::sync::oneshot::channel::<()>();
    let holder = app.db.transaction(move |tx| {
        Box::pin(async move {
            tx.execute("SELECT id FROM credentials WHERE id = $1 FOR NO KEY UPDATE", &[id.into()]).await?;
            let pid: Option<i64> = tx.fetch_optional("SELECT pg_backend_pid()::bigint", &[]).await?;
            let _ = locked.send(pid.unwrap_or_default());
            let _ = gone.await;
            Ok::<_, kindling_store::StoreError>(())
        })
    });
    let requests = async {
        let holder_pid = is_locked.await.unwrap();
        let retry = async {
            let waiting = "SELECT COUNT(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))";
            let mut seen = false;
            for _ in 0..1000 {
                seen = app.db.fetch_optional::<i64>(waiting, &[holder_pid.into()]).await.unwrap() >= Some(1);
                if seen {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            // Past the first request's lease (2 s), had it not been renewed.
            tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
            // A retry that ran the redeem again would wait for the held code too: the holder
            // lets go after a second whatever the retry does.
            let retried = send(&app, &acct.token, Method::PUT, &redeem, "slow-redeem", None);
            tokio::pin!(retried);
            let retried = match tokio::time::timeout(std::time::Duration::from_secs(1), &mut retried).await {
                Ok(answer) => {
                    let _ = go.send(());
                    answer
                }
                Err(_) => {
                    let _ = go.send(());
                    retried.await
                }
            };
            (seen, retried.status(), retried.text().await.unwrap())
        };
        tokio::join!(send(&app, &acct.token, Method::PUT, &redeem, "slow-redeem", None), retry)
    };
    let (held, (first, (seen, retried, text))) = tokio::join!(holder, requests);
    held.unwrap();
    assert!(seen, "the first request waited for the held code");
    assert_eq!(retried, 409, "the retry while the first still runs: {text}");
    assert_eq!(first.status(), 201);
    let replayed = send(&app, &acct.token, Method::PUT, &redeem, "slow-redeem", None).await;
    assert_eq!(replayed.status(), 201, "the first answer is the one kept");
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
}
