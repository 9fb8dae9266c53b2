//! The Members tag, following the guide's walkthrough, then every way to get it wrong.

use crate::backend_tests;
use crate::helpers::TestApp;
use serde_json::{json, Value};

backend_tests!(
    guide_walkthrough,
    notification_mode_is_any_string,
    create_validates_and_writes_nothing_on_error,
    update_is_partial_and_validated,
    delete_removes_only_own_members,
    search_by_identifier,
    accounts_are_isolated,
    paging,
);

async fn count(app: &TestApp, account: &crate::helpers::TestAccount) -> i64 {
    app.get(account, "/v1.0/members").await.body["total_entries"].as_i64().unwrap()
}

async fn guide_walkthrough(app: TestApp) {
    let acct = app.account().await;
    let empty = app.get(&acct, "/v1.0/members.json").await;
    empty.spec("get", "/v1.0/members");
    assert_eq!(empty.body, json!({"page":1,"per_page":50,"total_entries":0,"total_pages":0,"members":[]}));

    let created = app.post(&acct, "/v1.0/members.json", json!({"member": {"identifier": "unique-member-id"}})).await;
    created.spec("post", "/v1.0/members");
    let member = &created.body["member"];
    assert_eq!(member["identifier"], "unique-member-id");
    assert_eq!(member["notification_mode"], "app");
    assert_eq!(created.body["errors"], json!({}));
    let id = member["id"].as_i64().unwrap();
    let created_at = member["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z') && created_at.len() == 20, "RFC 3339 UTC: {created_at}");
    assert_eq!(member["updated_at"], member["created_at"]);
    assert_eq!(created.headers["location"], format!("/v1.0/members/{id}").as_str());

    let fetched = app.get(&acct, &format!("/v1.0/members/{id}.json")).await;
    fetched.spec("get", "/v1.0/members/{member_id}");
    assert_eq!(&fetched.body["member"], member);

    let found = app.get(&acct, "/v1.0/members/search.json?identifier=unique-member-id").await;
    found.spec("get", "/v1.0/members/search");
    assert_eq!(&found.body["member"], member);

    let listed = app.get(&acct, "/v1.0/members").await;
    listed.spec("get", "/v1.0/members");
    assert_eq!(listed.body["total_entries"], 1);
    assert_eq!(listed.body["total_pages"], 1);
    assert_eq!(&listed.body["members"][0]["member"], member);
}

async fn create_validates_and_writes_nothing_on_error(app: TestApp) {
    let acct = app.account().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"member": {}}), "identifier"),
        (json!({"member": {"identifier": "   "}}), "identifier"),
        (json!({"member": {"identifier": "x".repeat(256)}}), "identifier"),
        (json!({"member": {"identifier": "ok", "notification_mode": "m".repeat(256)}}), "notification_mode"),
    ];
    for (body, field) in cases {
        let response = app.post(&acct, "/v1.0/members", body.clone()).await;
        response.error(400);
        assert!(response.body["errors"][field].is_string(), "{body} -> {}", response.text);
    }
    // Wrong JSON types and shapes are refused before validation.
    for body in [
        json!({"member": {"identifier": 5}}),
        json!({"member": {"identifier": "a", "notification_mode": true}}),
        json!({"member": "unique"}),
        json!({"member": []}),
        json!({"member": null}),
        json!({"identifier": "not wrapped"}),
        json!([1, 2]),
    ] {
        let message = app.post(&acct, "/v1.0/members", body.clone()).await.error(400);
        assert!(message.contains("member"), "{body} -> {message}");
    }
    let malformed =
        app.raw(Some(&acct.token), reqwest::Method::POST, "/v1.0/members", Some("{\"member\":".into())).await;
    assert!(malformed.error(400).contains("malformed JSON"));
    let empty = app.raw(Some(&acct.token), reqwest::Method::POST, "/v1.0/members", None).await;
    assert_eq!(empty.error(400), "member is required");
    assert_eq!(count(&app, &acct).await, 0, "nothing written by bad requests");

    let ok =
        app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "dup", "notification_mode": "email"}})).await;
    ok.spec("post", "/v1.0/members");
    assert_eq!(ok.body["member"]["notification_mode"], "email");
    let dup = app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "dup"}})).await;
    dup.error(400);
    assert_eq!(dup.body["errors"], json!({"identifier": "has already been taken"}));
    assert_eq!(count(&app, &acct).await, 1);
}

/// The spec types `notification_mode` as an open string: it was refused unless one of five
/// values ("is not included in the list"); now any string is stored and returned as given.
async fn notification_mode_is_any_string(app: TestApp) {
    let acct = app.account().await;
    for (i, mode) in ["pigeon", "", "ü€😀"].into_iter().enumerate() {
        let body = json!({"member": {"identifier": format!("m{i}"), "notification_mode": mode}});
        let created = app.post(&acct, "/v1.0/members", body).await;
        created.spec("post", "/v1.0/members");
        assert_eq!(created.body["member"]["notification_mode"], mode);
        let path = format!("/v1.0/members/{}", created.body["member"]["id"]);
        let updated = app.put(&acct, &path, json!({"member": {"notification_mode": format!("{mode}!")}})).await;
        updated.spec("put", "/v1.0/members/{member_id}");
        assert_eq!(app.get(&acct, &path).await.body["member"]["notification_mode"], format!("{mode}!"));
    }
}

async fn update_is_partial_and_validated(app: TestApp) {
    let acct = app.account().await;
    let a = app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "a"}})).await.body["member"].clone();
    app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "b"}})).await.error_free();
    let path = format!("/v1.0/members/{}", a["id"]);

    let updated = app.put(&acct, &path, json!({"member": {"notification_mode": "sms"}})).await;
    updated.spec("put", "/v1.0/members/{member_id}");
    assert_eq!(updated.body["member"]["identifier"], "a", "identifier untouched");
    assert_eq!(updated.body["member"]["notification_mode"], "sms");
    assert_eq!(updated.body["member"]["created_at"], a["created_at"]);

    let renamed = app.put(&acct, &format!("{path}.json"), json!({"member": {"identifier": "a2"}})).await;
    renamed.spec("put", "/v1.0/members/{member_id}");
    assert_eq!(renamed.body["member"]["notification_mode"], "sms", "mode untouched");

    let noop = app.put(&acct, &path, json!({"member": {}})).await;
    noop.spec("put", "/v1.0/members/{member_id}");
    assert_eq!(noop.body["member"]["identifier"], "a2");

    let taken = app.put(&acct, &path, json!({"member": {"identifier": "b"}})).await;
    taken.error(400);
    assert_eq!(taken.body["errors"]["identifier"], "has already been taken");
    app.put(&acct, &path, json!({"member": {"identifier": ""}})).await.error(400);
    app.put(&acct, &path, json!({"member": {"notification_mode": 3}})).await.error(400);
    app.put(&acct, &path, json!({"wrong": {}})).await.error(400);
    let current = app.get(&acct, &path).await.body["member"].clone();
    assert_eq!(current["identifier"], "a2");
    assert_eq!(current["notification_mode"], "sms");

    app.put(&acct, "/v1.0/members/999999999", json!({"member": {"identifier": "z"}})).await.error(404);
    app.put(&acct, "/v1.0/members/abc", json!({"member": {"identifier": "z"}})).await.error(404);
    let other = app.account().await;
    app.put(&other, &path, json!({"member": {"identifier": "stolen"}})).await.error(404);
    assert_eq!(app.get(&acct, &path).await.body["member"]["identifier"], "a2");
}

async fn delete_removes_only_own_members(app: TestApp) {
    let acct = app.account().await;
    let other = app.account().await;
    let id =
        app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "gone"}})).await.body["member"]["id"].clone();
    let path = format!("/v1.0/members/{id}");

    app.delete(&other, &path).await.error(404);
    assert_eq!(app.get(&acct, &path).await.status, 200, "other account cannot delete");

    let deleted = app.delete(&acct, &format!("{path}.json")).await;
    deleted.spec("delete", "/v1.0/members/{member_id}");
    app.get(&acct, &path).await.error(404);
    app.delete(&acct, &path).await.error(404);
    assert_eq!(count(&app, &acct).await, 0);
    // The identifier is free again.
    app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "gone"}})).await.spec("post", "/v1.0/members");
}

async fn search_by_identifier(app: TestApp) {
    let acct = app.account().await;
    app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "joe@example.com"}})).await.error_free();
    let found = app.get(&acct, "/v1.0/members/search?identifier=joe%40example.com").await;
    found.spec("get", "/v1.0/members/search");
    assert_eq!(found.body["member"]["identifier"], "joe@example.com");
    assert_eq!(app.get(&acct, "/v1.0/members/search").await.error(400), "identifier is required");
    app.get(&acct, "/v1.0/members/search?identifier=").await.error(400);
    app.get(&acct, "/v1.0/members/search?identifier=nobody").await.error(404);
    let other = app.account().await;
    app.get(&other, "/v1.0/members/search?identifier=joe%40example.com").await.error(404);
}

async fn accounts_are_isolated(app: TestApp) {
    let (a, b) = (app.account().await, app.account().await);
    let id =
        app.post(&a, "/v1.0/members", json!({"member": {"identifier": "same"}})).await.body["member"]["id"].clone();
    // The same identifier may exist once per account.
    app.post(&b, "/v1.0/members", json!({"member": {"identifier": "same"}})).await.spec("post", "/v1.0/members");
    app.get(&b, &format!("/v1.0/members/{id}")).await.error(404);
    assert_eq!(count(&app, &a).await, 1);
    assert_eq!(count(&app, &b).await, 1);
    let listed = app.get(&b, "/v1.0/members").await;
    assert_ne!(listed.body["members"][0]["member"]["id"], id);
}

async fn paging(app: TestApp) {
    let acct = app.account().await;
    for i in 0..5 {
        app.post(&acct, "/v1.0/members", json!({"member": {"identifier": format!("m{i}")}})).await.error_free();
    }
    let first = app.get(&acct, "/v1.0/members?per_page=2").await;
    first.spec("get", "/v1.0/members");
    assert_eq!((first.body["page"].as_i64(), first.body["per_page"].as_i64()), (Some(1), Some(2)));
    assert_eq!((first.body["total_entries"].as_i64(), first.body["total_pages"].as_i64()), (Some(5), Some(3)));
    let ids = |r: &Value| -> Vec<String> {
        r["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["member"]["identifier"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&first.body), ["m0", "m1"]);
    let last = app.get(&acct, "/v1.0/members.json?page=3&per_page=2").await;
    assert_eq!(ids(&last.body), ["m4"]);
    let beyond = app.get(&acct, "/v1.0/members?page=9&per_page=2").await;
    assert_eq!(ids(&beyond.body), Vec::<String>::new());
    assert_eq!(beyond.body["total_entries"], 5);
    let capped = app.get(&acct, "/v1.0/members?per_page=100000").await;
    assert_eq!(capped.body["per_page"], 500);
    for bad in ["page=0", "page=-1", "per_page=abc", "page=1.5"] {
        app.get(&acct, &format!("/v1.0/members?{bad}")).await.error(400);
    }
}
