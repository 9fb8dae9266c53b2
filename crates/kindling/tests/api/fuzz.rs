//! Defects found by the Schemathesis run (scripts/fuzz.sh) or while wiring it up, each
//! reproduced through HTTP.

use crate::backend_tests;
use crate::helpers::TestApp;
use reqwest::Method;
use serde_json::json;

backend_tests!(undecodable_path_ids_are_not_found, nul_characters_are_refused, oversized_id_lists_are_refused);

/// `%FF` decodes to a byte that is not UTF-8; the generic CRUD and link-set routes answered
/// 500 for it, the hand-written ones 404.
async fn undecodable_path_ids_are_not_found(app: TestApp) {
    let acct = app.account().await;
    for path in [
        "/v1.0/members/%FF",
        "/v1.0/merchants/%FF",
        "/v1.0/merchants/%FF/stores",
        "/v1.0/merchants/1/stores/%FF",
        "/v1.0/merchants/store_lists/%FF/stores",
        "/v1.0/manufacturers/%FF/merchants",
        "/v1.0/member_lists/%FF/members",
        "/v1.0/offers/%FF/channels",
        "/v1.0/offers/%FF",
        "/v1.0/credentials/%C3%28",
    ] {
        app.get(&acct, path).await.error(404);
        for method in [Method::POST, Method::PUT, Method::DELETE] {
            let response = app.raw(Some(&acct.token), method.clone(), path, Some("{}".into())).await;
            assert!(response.status.is_client_error(), "{method} {path}: {} {}", response.status, response.text);
        }
    }
}

/// PostgreSQL cannot store U+0000 in text: a NUL in a body string or a query parameter was a
/// 500 there (and stored on SQLite). Both now refuse it with a 400 before any query runs.
async fn nul_characters_are_refused(app: TestApp) {
    let acct = app.account().await;
    let nul = "a\u{0}b";
    for (path, body) in [
        ("/v1.0/members", json!({"member": {"identifier": nul}})),
        ("/v1.0/merchants", json!({"merchant": {"name": "x", "location": {"city": nul}}})),
        ("/v1.0/offers", json!({"offer": {"name": "x", "formatting": {nul: "y"}}})),
        ("/v1.0/item_sets", json!({"item_set": {"name": "x", "tags": [nul]}})),
    ] {
        let message = app.post(&acct, path, body).await.error(400);
        assert!(message.contains("NUL"), "{path}: {message}");
    }
    for path in ["/v1.0/members/search?identifier=%00", "/v1.0/items?name=a%00", "/v1.0/offers?sort_by=%00"] {
        assert!(app.get(&acct, path).await.error(400).contains("NUL"), "{path}");
    }
    let created = app.raw(Some(&acct.token), Method::POST, "/v1.0/credentials?member_id=%00", None).await;
    created.error(400);
    // An escaped backslash followed by "u0000" is six ordinary characters, not a NUL.
    let literal = app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "a\\u0000b"}})).await;
    assert_eq!(literal.error_free().body["member"]["identifier"], "a\\u0000b");
    assert_eq!(app.get(&acct, "/v1.0/members").await.body["total_entries"], 1, "nothing else was written");
}

/// An id list becomes one SQL statement with a parameter per id: past 32,766 ids (SQLite) or
/// 65,535 (PostgreSQL) the database refused it and the request was a 500. Any body array is
/// now bounded at 10,000 items, and an id list (a credential's comma-separated offer_ids
/// too) at 1,000 ids.
async fn oversized_id_lists_are_refused(app: TestApp) {
    let acct = app.account().await;
    let list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "Fans"}})).await;
    let list = list.error_free().body["member_list"]["id"].as_i64().unwrap();
    let too_many: Vec<i64> = (1..=70_000).collect();
    let path = format!("/v1.0/member_lists/{list}/members");
    let message = app.post(&acct, &path, json!({"member_list": {"member_ids": too_many}})).await.error(400);
    assert!(message.contains("at most 10000"), "{message}");
    let nested = json!({"item_set": {"name": "x", "item_ids": [], "tags": {"deep": (0..10_001).collect::<Vec<_>>()}}});
    app.post(&acct, "/v1.0/item_sets", nested).await.error(400);
    // At the id-list bound, the ids are checked as usual: unknown members are a 400 naming them.
    let at_bound: Vec<i64> = (1..=1_000).collect();
    let message = app.post(&acct, &path, json!({"member_list": {"member_ids": at_bound}})).await.error(400);
    assert!(!message.contains("at most"), "{message}");

    let member = app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "m"}})).await;
    let member = member.error_free().body["member"]["id"].as_i64().unwrap();
    let channel = app.post(&acct, "/v1.0/channels", json!({"channel": {"name": "App"}})).await;
    let channel = channel.error_free().body["channel"]["id"].as_i64().unwrap();
    let offer_ids = (1..=70_000).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let body = json!({"credential": {"member_id": member, "channel_id": channel, "offer_ids": offer_ids}});
    assert!(app.post(&acct, "/v1.0/credentials", body).await.error(400).contains("at most 1000 ids"));
}
