//! Defects found by the Schemathesis run (scripts/fuzz.sh) or while wiring it up, each
//! reproduced through HTTP.

use crate::backend_tests;
use crate::helpers::TestApp;
use reqwest::Method;
use serde_json::json;

backend_tests!(undecodable_path_ids_are_not_found, nul_characters_are_refused);

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
