//! `GET/PUT /v1.0/account` and the callback switches.

use crate::backend_tests;
use crate::helpers::TestApp;
use serde_json::json;

backend_tests!(get_and_update_account, callbacks_toggle, bad_account_updates);

async fn get_and_update_account(app: TestApp) {
    let acct = app.account().await;
    let shown = app.get(&acct, "/v1.0/account.json").await;
    shown.spec("get", "/v1.0/account");
    let account = &shown.body["account"];
    assert_eq!(account["id"], acct.id);
    assert_eq!(account["enable_callbacks"], false);
    assert_eq!(account["credential_callback_url"], json!(null));
    assert_eq!(account["supports_barcode"], false);

    let url = "https://example.com/callbacks/credential?src=kindling";
    let updated = app.put(&acct, "/v1.0/account", json!({"account": {"callbacks": {"credential_url": url}}})).await;
    updated.spec("put", "/v1.0/account");
    assert_eq!(updated.body["account"]["credential_callback_url"], url);
    assert_eq!(app.get(&acct, "/v1.0/account").await.body["account"]["credential_callback_url"], url);

    let untouched = app.put(&acct, "/v1.0/account", json!({"account": {}})).await;
    untouched.spec("put", "/v1.0/account");
    assert_eq!(untouched.body["account"]["credential_callback_url"], url);

    let cleared = app.put(&acct, "/v1.0/account", json!({"account": {"callbacks": {"credential_url": ""}}})).await;
    cleared.spec("put", "/v1.0/account");
    assert_eq!(cleared.body["account"]["credential_callback_url"], json!(null));

    // Per-day limits count in the account's time zone (an extension of the spec's input).
    let zoned = app.put(&acct, "/v1.0/account", json!({"account": {"time_zone": "America/Denver"}})).await;
    zoned.spec("put", "/v1.0/account");
    assert_eq!(zoned.body["account"]["time_zone"], "America/Denver");
    let bad_zone = app.put(&acct, "/v1.0/account", json!({"account": {"time_zone": "Mars/Base"}})).await;
    bad_zone.error(400);
    assert!(bad_zone.body["errors"]["time_zone"].is_string());
    let utc = app.put(&acct, "/v1.0/account", json!({"account": {"time_zone": ""}})).await;
    assert_eq!(utc.body["account"]["time_zone"], json!(null));

    // Another account sees only itself.
    let other = app.account().await;
    assert_eq!(app.get(&other, "/v1.0/account").await.body["account"]["id"], other.id);
}

async fn callbacks_toggle(app: TestApp) {
    let acct = app.account().await;
    app.put(&acct, "/v1.0/account/callbacks/enable.json", json!({}))
        .await
        .spec("put", "/v1.0/account/callbacks/enable");
    assert_eq!(app.get(&acct, "/v1.0/account").await.body["account"]["enable_callbacks"], true);
    let other = app.account().await;
    assert_eq!(app.get(&other, "/v1.0/account").await.body["account"]["enable_callbacks"], false);
    let no_body = app.raw(Some(&acct.token), reqwest::Method::PUT, "/v1.0/account/callbacks/disable", None).await;
    no_body.spec("put", "/v1.0/account/callbacks/disable");
    assert_eq!(app.get(&acct, "/v1.0/account").await.body["account"]["enable_callbacks"], false);
}

async fn bad_account_updates(app: TestApp) {
    let acct = app.account().await;
    let invalid =
        app.put(&acct, "/v1.0/account", json!({"account": {"callbacks": {"credential_url": "ftp://x"}}})).await;
    invalid.error(400);
    assert!(invalid.body["errors"]["credential_url"].is_string());
    app.put(&acct, "/v1.0/account", json!({"account": {"callbacks": {"credential_url": 5}}})).await.error(400);
    app.put(&acct, "/v1.0/account", json!({"account": {"callbacks": "https://x"}})).await.error(400);
    app.put(&acct, "/v1.0/account", json!({"callbacks": {}})).await.error(400);
    let malformed = app.raw(Some(&acct.token), reqwest::Method::PUT, "/v1.0/account", Some("{".into())).await;
    malformed.error(400);
    assert_eq!(app.get(&acct, "/v1.0/account").await.body["account"]["credential_callback_url"], json!(null));
    app.raw(Some(&acct.token), reqwest::Method::DELETE, "/v1.0/account", None).await.error(405);
}
