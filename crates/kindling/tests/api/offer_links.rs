//! Channels, member lists and everything linked to an offer: the link sets with their exact
//! status codes, the offer's settings on a channel, passbook settings and item sets.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use crate::merchants::merchant;
use crate::offers::{channel, offer};
use reqwest::Method;
use serde_json::json;

backend_tests!(
    channels_crud,
    member_lists_and_members,
    offer_link_sets,
    offer_channel_settings,
    passbook_configuration,
    eligible_item_sets,
);

async fn member(app: &TestApp, acct: &TestAccount, identifier: &str) -> i64 {
    app.post(acct, "/v1.0/members", json!({"member": {"identifier": identifier}})).await.body["member"]["id"]
        .as_i64()
        .unwrap()
}

async fn delete_with_body(
    app: &TestApp,
    acct: &TestAccount,
    path: &str,
    body: serde_json::Value,
) -> crate::helpers::TestResponse {
    app.raw(Some(&acct.token), Method::DELETE, path, Some(body.to_string())).await
}

async fn channels_crud(app: TestApp) {
    let acct = app.account().await;
    let url = "https://my_server.com/callback/%{credential_id}?time_of_redemption=%{redeemed_at}";
    let created = app
        .post(
            &acct,
            "/v1.0/channels",
            json!({"channel": {"name": "App", "allow_hmac": true, "conversion_callback_url": url}}),
        )
        .await;
    created.spec("post", "/v1.0/channels");
    let id = created.body["channel"]["id"].as_i64().unwrap();
    assert_eq!(created.body["channel"]["conversion_callback_url"], url);
    let path = format!("/v1.0/channels/{id}");
    app.get(&acct, &path).await.spec("get", "/v1.0/channels/{channel_id}");
    let updated = app.put(&acct, &path, json!({"channel": {"allow_sms_keyword": true}})).await;
    updated.spec("put", "/v1.0/channels/{channel_id}");
    assert_eq!(
        (updated.body["channel"]["allow_sms_keyword"].as_bool(), updated.body["channel"]["allow_hmac"].as_bool()),
        (Some(true), Some(true))
    );
    let cleared = app.put(&acct, &path, json!({"channel": {"conversion_callback_url": ""}})).await;
    assert_eq!(cleared.body["channel"]["conversion_callback_url"], json!(null));
    for body in [
        json!({"channel": {}}),
        json!({"channel": {"name": "x", "conversion_callback_url": "not a url"}}),
        json!({"channel": {"name": 5}}),
        json!({"channel": {"name": "x", "allow_hmac": "yes"}}),
    ] {
        app.post(&acct, "/v1.0/channels", body).await.error(400);
    }
    app.get(&acct, "/v1.0/channels").await.spec("get", "/v1.0/channels");
    let other = app.account().await;
    app.get(&other, &path).await.error(404);
    app.delete(&other, &path).await.error(404);
    app.delete(&acct, &path).await.spec("delete", "/v1.0/channels/{channel_id}");
    app.get(&acct, &path).await.error(404);
}

async fn member_lists_and_members(app: TestApp) {
    let acct = app.account().await;
    let (a, b, c) = (member(&app, &acct, "a").await, member(&app, &acct, "b").await, member(&app, &acct, "c").await);
    let created = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "VIP"}})).await;
    created.spec("post", "/v1.0/member_lists");
    let id = created.body["member_list"]["id"].as_i64().unwrap();
    assert_eq!(created.body["member_list"], json!({"id": id, "name": "VIP", "member_ids": []}));
    let members = format!("/v1.0/member_lists/{id}/members");
    let set = app.post(&acct, &members, json!({"member_list": {"member_ids": [b, a]}})).await;
    set.spec("post", "/v1.0/member_lists/{member_list_id}/members");
    assert_eq!(set.body["member_list"], json!({"id": id, "member_ids": [a, b]}));
    let added = app.put(&acct, &members, json!({"member_list": {"member_ids": [c]}})).await;
    added.spec("put", "/v1.0/member_lists/{member_list_id}/members");
    assert_eq!(added.body["member_list"]["member_ids"], json!([a, b, c]));
    let removed = delete_with_body(&app, &acct, &members, json!({"member_list": {"member_ids": [a]}})).await;
    removed.spec("delete", "/v1.0/member_lists/{member_list_id}/members");
    assert_eq!(removed.body["member_list"]["member_ids"], json!([b, c]));
    app.get(&acct, &members).await.spec("get", "/v1.0/member_lists/{member_list_id}/members");
    let path = format!("/v1.0/member_lists/{id}");
    let shown = app.get(&acct, &path).await;
    shown.spec("get", "/v1.0/member_lists/{member_list_id}");
    assert_eq!(shown.body["member_list"]["member_ids"], json!([b, c]));
    app.put(&acct, &path, json!({"member_list": {"name": "VVIP"}}))
        .await
        .spec("put", "/v1.0/member_lists/{member_list_id}");
    app.get(&acct, "/v1.0/member_lists").await.spec("get", "/v1.0/member_lists");
    // Another account's member cannot join; deleting a member takes it out of lists.
    let other = app.account().await;
    let foreign = member(&app, &other, "foreign").await;
    let refused = app.put(&acct, &members, json!({"member_list": {"member_ids": [foreign]}})).await;
    refused.error(400);
    assert!(refused.body["errors"]["member_ids"].as_str().unwrap().contains(&foreign.to_string()));
    app.get(&other, &members).await.error(404);
    app.delete(&acct, &format!("/v1.0/members/{b}")).await.error_free();
    assert_eq!(app.get(&acct, &members).await.body["member_list"]["member_ids"], json!([c]));
    app.post(&acct, "/v1.0/member_lists", json!({"member_list": {}})).await.error(400);
    app.post(&acct, &members, json!({"member_list": {"member_ids": ["a"]}})).await.error(400);
    app.delete(&acct, &path).await.spec("delete", "/v1.0/member_lists/{member_list_id}");
    app.get(&acct, &members).await.error(404);
}

async fn offer_link_sets(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Linked"})).await;
    let (m1, m2) = (merchant(&app, &acct, "One").await, merchant(&app, &acct, "Two").await);
    let list = |name: &'static str, m: i64| {
        let app = &app;
        let acct = &acct;
        async move {
            app.post(acct, &format!("/v1.0/merchants/{m}/store_lists"), json!({"store_list": {"name": name}}))
                .await
                .body["store_list"]["id"]
                .as_i64()
                .unwrap()
        }
    };
    let (s1, s2) = (list("A", m1).await, list("B", m2).await);
    let ml = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "VIP"}})).await.body["member_list"]
        ["id"]
        .as_i64()
        .unwrap();
    let (c1, c2) = (channel(&app, &acct, "App").await, channel(&app, &acct, "Email").await);
    let cases = [
        ("merchants", "merchant_ids", [m1, m2], ["post", "put", "delete"]),
        ("store_lists", "store_list_ids", [s1, s2], ["post", "put", "delete"]),
        ("channels", "channel_ids", [c1, c2], ["post", "put", "delete"]),
    ];
    for (kind, key, [x, y], _) in cases {
        let path = format!("/v1.0/offers/{id}/{kind}");
        let template = format!("/v1.0/offers/{{offer_id}}/{kind}");
        let set = app.post(&acct, &path, json!({"offer": {key: [x]}})).await;
        set.spec("post", &template);
        assert_eq!(set.body["offer"], json!({key: [x], "id": id}));
        let added = app.put(&acct, &path, json!({"offer": {key: [y]}})).await;
        added.spec("put", &template);
        assert_eq!(added.body["offer"][key], json!([x, y]));
        let removed = delete_with_body(&app, &acct, &path, json!({"offer": {key: [x]}})).await;
        removed.spec("delete", &template);
        assert_eq!(removed.body["offer"][key], json!([y]));
        app.get(&acct, &path).await.spec("get", &template);
        app.post(&acct, &path, json!({"offer": {key: [99999999]}})).await.error(400);
        assert_eq!(app.get(&acct, &path).await.body["offer"][key], json!([y]), "nothing written");
    }
    let members = format!("/v1.0/offers/{id}/member_lists");
    app.post(&acct, &members, json!({"offer": {"member_list_ids": [ml]}}))
        .await
        .spec("post", "/v1.0/offers/{offer_id}/member_lists");
    app.put(&acct, &members, json!({"offer": {"member_list_ids": [ml]}}))
        .await
        .spec("put", "/v1.0/offers/{offer_id}/member_lists");
    app.get(&acct, &members).await.spec("get", "/v1.0/offers/{offer_id}/member_lists");
    let shown = app.get(&acct, &format!("/v1.0/offers/{id}")).await;
    let e = &shown.body["offer"]["eligibility"];
    assert_eq!(
        (
            e["merchant_ids"].clone(),
            e["store_list_ids"].clone(),
            e["member_list_ids"].clone(),
            e["channel_ids"].clone()
        ),
        (json!([m2]), json!([s2]), json!([ml]), json!([c2]))
    );
    delete_with_body(&app, &acct, &members, json!({"offer": {"member_list_ids": [ml]}}))
        .await
        .spec("delete", "/v1.0/offers/{offer_id}/member_lists");
    // Other accounts' ids and offers.
    let other = app.account().await;
    let foreign_channel = channel(&app, &other, "Theirs").await;
    app.put(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [foreign_channel]}}))
        .await
        .error(400);
    app.get(&other, &format!("/v1.0/offers/{id}/channels")).await.error(404);
    app.post(&other, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [foreign_channel]}}))
        .await
        .error(404);
    app.post(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": "5"}})).await.error(400);
    app.post(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"channel_ids": [c1]})).await.error(400);
}

async fn offer_channel_settings(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Secure"})).await;
    let plain = channel(&app, &acct, "Plain").await;
    let fancy = app
        .post(
            &acct,
            "/v1.0/channels",
            json!({"channel": {"name": "Fancy", "allow_hmac": true, "allow_sms_keyword": true}}),
        )
        .await
        .body["channel"]["id"]
        .as_i64()
        .unwrap();
    app.post(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [plain, fancy]}}))
        .await
        .error_free();
    let path = format!("/v1.0/offers/{id}/channels/{fancy}");
    let shown = app.get(&acct, &path).await;
    shown.spec("get", "/v1.0/offers/{offer_id}/channels/{channel_id}");
    let ec = &shown.body["eligible_channel"];
    assert_eq!(
        (ec["channel_id"].as_i64(), ec["offer_id"].as_i64(), ec["name"].as_str()),
        (Some(fancy), Some(id), Some("Fancy"))
    );
    assert_eq!(ec["allow_return_later"], true);
    let updated = app
        .put(
            &acct,
            &path,
            json!({"eligible_channel": {"security": "hmac", "sms_keyword": "FRIES", "allow_return_later": false}}),
        )
        .await;
    updated.spec("put", "/v1.0/offers/{offer_id}/channels/{channel_id}");
    let ec = &updated.body["eligible_channel"];
    assert_eq!(
        (ec["security"].as_str(), ec["sms_keyword"].as_str(), ec["allow_return_later"].as_bool()),
        (Some("hmac"), Some("FRIES"), Some(false))
    );
    let key = ec["security_key"].as_str().expect("a key is drawn when security is turned on").to_owned();
    assert!(key.len() >= 32);
    let again = app.put(&acct, &path, json!({"eligible_channel": {"allow_return_later": true}})).await;
    assert_eq!(again.body["eligible_channel"]["security_key"], key.as_str(), "key kept");
    let off = app.put(&acct, &path, json!({"eligible_channel": {"security": ""}})).await;
    assert_eq!(
        (off.body["eligible_channel"]["security"].clone(), off.body["eligible_channel"]["security_key"].clone()),
        (json!(null), json!(null))
    );
    // The plain channel allows neither hmac nor keywords.
    let refused = app
        .put(
            &acct,
            &format!("/v1.0/offers/{id}/channels/{plain}"),
            json!({"eligible_channel": {"security": "hmac", "sms_keyword": "X"}}),
        )
        .await;
    refused.error(400);
    assert!(refused.body["errors"]["security"].is_string() && refused.body["errors"]["sms_keyword"].is_string());
    let unlinked = channel(&app, &acct, "Unlinked").await;
    app.get(&acct, &format!("/v1.0/offers/{id}/channels/{unlinked}")).await.error(404);
    app.put(&acct, &format!("/v1.0/offers/{id}/channels/{unlinked}"), json!({"eligible_channel": {}})).await.error(404);
    app.put(&acct, &path, json!({"eligible_channel": {"allow_return_later": "no"}})).await.error(400);
    // "true"/"false" as text, as the campaign update takes the same column.
    let texted = app.put(&acct, &path, json!({"eligible_channel": {"allow_return_later": "false"}})).await;
    assert_eq!(texted.error_free().body["eligible_channel"]["allow_return_later"], false);
    let other = app.account().await;
    app.get(&other, &path).await.error(404);
}

async fn passbook_configuration(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Wallet"})).await;
    let path = format!("/v1.0/offers/{id}/passbook_configuration");
    app.get(&acct, &path).await.error(404);
    let body = json!({"passbook_configuration": {"p12_certificate": "MIIsecretcert", "p12_password": "hunter2", "team_identifier": "TEAM1", "pass_type_id_name": "pass.com.example", "logo": "https://x/logo.png"}});
    let created = app.post(&acct, &path, body.clone()).await;
    created.spec("post", "/v1.0/offers/{offer_id}/passbook_configuration");
    let pc = &created.body["passbook_configuration"];
    assert_eq!(
        (pc["p12_certificate"].clone(), pc["p12_password"].clone()),
        (json!(null), json!(null)),
        "secrets never echoed"
    );
    assert!(!created.text.contains("hunter2") && !created.text.contains("MIIsecretcert"));
    assert_eq!(pc["team_identifier"], "TEAM1");
    assert!(app.post(&acct, &path, body).await.error(400).contains("already exists"));
    let updated = app.put(&acct, &path, json!({"passbook_configuration": {"icon": "https://x/icon.png"}})).await;
    updated.spec("put", "/v1.0/offers/{offer_id}/passbook_configuration");
    assert_eq!(
        (
            updated.body["passbook_configuration"]["icon"].as_str(),
            updated.body["passbook_configuration"]["team_identifier"].as_str()
        ),
        (Some("https://x/icon.png"), Some("TEAM1"))
    );
    let shown = app.get(&acct, &path).await;
    shown.spec("get", "/v1.0/offers/{offer_id}/passbook_configuration");
    assert!(!shown.text.contains("hunter2"));
    let in_offer = app.get(&acct, &format!("/v1.0/offers/{id}")).await;
    assert_eq!(in_offer.body["offer"]["passbook_configuration"]["team_identifier"], "TEAM1");
    assert!(!in_offer.text.contains("hunter2"));
    // The secret is stored (for signing passes), only never shown.
    let stored: Option<i64> = app
        .db
        .fetch_optional(
            "SELECT COUNT(*) FROM passbook_configurations WHERE offer_id = $1 AND p12_password = $2",
            &[id.into(), "hunter2".into()],
        )
        .await
        .unwrap();
    assert_eq!(stored, Some(1));
    app.put(&acct, &path, json!({"passbook_configuration": {"logo": 5}})).await.error(400);
    let other = app.account().await;
    app.get(&other, &path).await.error(404);
    let deleted = app.delete(&acct, &path).await;
    deleted.spec("delete", "/v1.0/offers/{offer_id}/passbook_configuration");
    app.get(&acct, &path).await.error(404);
    app.delete(&acct, &path).await.error(404);
}

async fn eligible_item_sets(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Combo"})).await;
    let set = app.post(&acct, "/v1.0/item_sets", json!({"item_set": {"name": "Burgers"}})).await.body["item_set"]["id"]
        .as_i64()
        .unwrap();
    let base = format!("/v1.0/offers/{id}/eligible_item_sets");
    let created =
        app.post(&acct, &base, json!({"eligible_item_set": {"item_set_id": set, "list_type": 1, "req_qty": 2}})).await;
    created.spec("post", "/v1.0/offers/{offer_id}/eligible_item_sets");
    let eis = &created.body["eligible_item_set"];
    let eid = eis["id"].as_i64().unwrap();
    assert_eq!(
        eis,
        &json!({"id": eid, "list_type": 1, "type_name": "discounted", "req_qty": 2, "offer_id": id, "item_set_id": set})
    );
    let shown = app.get(&acct, &format!("{base}/{eid}")).await;
    shown.spec("get", "/v1.0/offers/{offer_id}/eligible_item_sets/{eligible_item_set_id}");
    assert_eq!(shown.status, 201, "the spec answers 201 here");
    let updated = app.put(&acct, &format!("{base}/{eid}"), json!({"eligible_item_set": {"list_type": 0}})).await;
    updated.spec("put", "/v1.0/offers/{offer_id}/eligible_item_sets/{eligible_item_set_id}");
    assert_eq!(
        (
            updated.body["eligible_item_set"]["type_name"].as_str(),
            updated.body["eligible_item_set"]["req_qty"].as_i64()
        ),
        (Some("qualifying"), Some(2))
    );
    app.get(&acct, &base).await.spec("get", "/v1.0/offers/{offer_id}/eligible_item_sets");
    assert_eq!(app.get(&acct, &format!("/v1.0/offers/{id}")).await.body["offer"]["item_sets"][0]["item_set_id"], set);
    for body in [
        json!({}),
        json!({"item_set_id": 99999999}),
        json!({"item_set_id": set, "list_type": 7}),
        json!({"item_set_id": set, "req_qty": 0}),
    ] {
        app.post(&acct, &base, json!({"eligible_item_set": body})).await.error(400);
    }
    assert!(app.delete(&acct, &format!("/v1.0/item_sets/{set}")).await.error(409).contains("offers"));
    let other = app.account().await;
    app.get(&other, &format!("{base}/{eid}")).await.error(404);
    app.get(&acct, &format!("/v1.0/offers/99999999/eligible_item_sets/{eid}")).await.error(404);
    app.delete(&acct, &format!("{base}/{eid}"))
        .await
        .spec("delete", "/v1.0/offers/{offer_id}/eligible_item_sets/{eligible_item_set_id}");
    app.delete(&acct, &format!("/v1.0/item_sets/{set}")).await.error_free();
}
