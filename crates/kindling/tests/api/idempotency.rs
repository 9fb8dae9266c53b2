//! `Idempotency-Key`: a retried write is answered from the first response, never run twice.

use crate::backend_tests;
use crate::credentials::setup;
use crate::helpers::TestApp;
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
