//! Offers: the guide's landing-page walkthrough, the full shape, partial updates with merged
//! formatting, the status lifecycle, lists and deletion.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use crate::merchants::merchant;
use serde_json::{json, Value};

backend_tests!(
    guide_landing_page_walkthrough,
    create_defaults_and_validation,
    updates_are_partial_and_formatting_merges,
    status_lifecycle,
    lists_filter_and_sort,
    deleting_offers_and_what_they_reference,
    formatting_image_urls_must_be_https,
);

pub async fn offer(app: &TestApp, acct: &TestAccount, body: Value) -> i64 {
    let created = app.post(acct, "/v1.0/offers", json!({ "offer": body })).await;
    created.spec("post", "/v1.0/offers");
    created.body["offer"]["id"].as_i64().unwrap()
}

pub async fn channel(app: &TestApp, acct: &TestAccount, name: &str) -> i64 {
    let created = app.post(acct, "/v1.0/channels", json!({"channel": {"name": name}})).await;
    created.spec("post", "/v1.0/channels");
    created.body["channel"]["id"].as_i64().unwrap()
}

pub async fn approve(app: &TestApp, acct: &TestAccount, id: i64) {
    let approved = app.put(acct, &format!("/v1.0/offers/{id}/actions/approve.json"), json!({})).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    if let Some(spec) = crate::spec::spec() {
        spec.check_schema("offer_response", &approved.body);
    }
}

async fn guide_landing_page_walkthrough(app: TestApp) {
    let acct = app.account().await;
    let empty = app.get(&acct, "/v1.0/offers.json").await;
    empty.spec("get", "/v1.0/offers");
    assert_eq!(empty.body, json!({"page": 1, "per_page": 50, "total_entries": 0, "total_pages": 0, "offers": []}));

    // "All we need is a name."
    let created = app
        .raw(
            Some(&acct.token),
            reqwest::Method::POST,
            "/v1.0/offers.json",
            Some(r#"{ "offer": { "name": "Test offer" } }"#.into()),
        )
        .await;
    created.spec("post", "/v1.0/offers");
    let o = &created.body["offer"];
    let id = o["id"].as_i64().unwrap();
    for (key, expected) in [
        ("merchant_id", json!(null)),
        ("name", json!("Test offer")),
        ("offer_type", json!(0)),
        ("criteria", json!({})),
        ("quest_only", json!("false")),
        ("is_reward", json!(false)),
        ("status", json!("pending")),
        ("offers", json!([])),
        ("formatting", json!({})),
        ("passbook_configuration", json!(null)),
        ("landing_page_urls", json!([])),
        ("channels", json!([])),
        ("item_sets", json!([])),
        ("account_id", json!(acct.id)),
        ("activates_at", json!(null)),
        ("required_item_set_id", json!(null)),
    ] {
        assert_eq!(o[key], expected, "{key}");
    }
    assert_eq!(
        o["eligibility"],
        json!({"merchant_item_set_ids": [], "manufacturer_item_set_ids": [], "merchant_ids": [], "store_list_ids": [], "member_list_ids": [], "channel_ids": []})
    );
    assert_eq!(created.body["errors"], json!({}));

    let approved = app
        .raw(Some(&acct.token), reqwest::Method::PUT, &format!("/v1.0/offers/{id}/actions/approve.json"), None)
        .await;
    assert_eq!(approved.status, 200);
    assert_eq!(approved.body["offer"]["status"], "approved");

    let channels = app.get(&acct, "/v1.0/channels.json").await;
    channels.spec("get", "/v1.0/channels");
    assert_eq!(channels.body["total_entries"], 0);
    let email = app
        .raw(
            Some(&acct.token),
            reqwest::Method::POST,
            "/v1.0/channels.json",
            Some(r#"{ "channel": { "name": "Email" } }"#.into()),
        )
        .await;
    email.spec("post", "/v1.0/channels");
    let channel_id = email.body["channel"]["id"].as_i64().unwrap();
    assert_eq!(
        email.body,
        json!({"channel": {"id": channel_id, "name": "Email", "allow_sms_keyword": false, "allow_hmac": false, "conversion_callback_url": null}, "errors": {}})
    );
    // The guide's own typo (`{ \"channel\": ...}` is not JSON) gets a clear 400.
    let typo = app
        .raw(
            Some(&acct.token),
            reqwest::Method::POST,
            "/v1.0/channels.json",
            Some(r#"{ \"channel\": { "name": "Email" } }"#.into()),
        )
        .await;
    assert!(typo.error(400).contains("malformed JSON"));

    let linked = app
        .post(&acct, &format!("/v1.0/offers/{id}/channels.json"), json!({"offer": {"channel_ids": [channel_id]}}))
        .await;
    linked.spec("post", "/v1.0/offers/{offer_id}/channels");
    assert_eq!(linked.body["offer"], json!({"channel_ids": [channel_id], "id": id}));

    let shown = app.get(&acct, &format!("/v1.0/offers/{id}.json")).await;
    shown.spec("get", "/v1.0/offers/{offer_id}");
    let ch = &shown.body["offer"]["channels"][0]["channel"];
    let xid = ch["xid"].as_str().unwrap();
    assert!(xid.len() == 7 && xid.bytes().all(|b| b.is_ascii_alphanumeric()), "xid {xid}");
    assert_eq!(
        ch,
        &json!({"id": channel_id, "xid": xid, "name": "Email", "security": null, "security_key": null, "offer_id": id, "sms_keyword": null, "allow_return_later": true})
    );
    assert_eq!(shown.body["offer"]["eligibility"]["channel_ids"], json!([channel_id]));

    let banner = app
        .put(
            &acct,
            &format!("/v1.0/offers/{id}.json"),
            json!({"offer": {"formatting": {"bg_image": "https://my-domain/banner_image.png"}}}),
        )
        .await;
    banner.spec("put", "/v1.0/offers/{offer_id}");
    assert_eq!(banner.body["offer"]["formatting"], json!({"bg_image": "https://my-domain/banner_image.png"}));
    let color = app
        .put(&acct, &format!("/v1.0/offers/{id}.json"), json!({"offer": {"formatting": {"bg_color": "#FF00AA"}}}))
        .await;
    assert_eq!(
        color.body["offer"]["formatting"],
        json!({"bg_image": "https://my-domain/banner_image.png", "bg_color": "#FF00AA"})
    );
    assert_eq!(color.body["offer"]["channels"][0]["channel"]["xid"], xid, "xid is stable");
    // Setting the channel list again (POST replaces the set) keeps the channels that stay.
    let sms = channel(&app, &acct, "SMS").await;
    let replaced = app
        .post(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [channel_id, sms]}}))
        .await;
    assert_eq!(replaced.body["offer"]["channel_ids"], json!([channel_id, sms]));
    let again = app.get(&acct, &format!("/v1.0/offers/{id}")).await;
    assert_eq!(again.body["offer"]["channels"][0]["channel"]["xid"], xid, "a kept channel keeps its xid");
}

async fn create_defaults_and_validation(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let full = json!({"offer": {
        "name": "Buy a Burger, Get Free Medium Fries", "description": "Fries on us", "offer_type": 1, "category": "food",
        "pos_offer_code": "FRIES", "points_earning_value": 10, "reward_item_value": 299, "quest_only": true, "is_reward": true,
        "activates_at": "2030-01-01T00:00:00Z", "expires_at": "2030-02-01T00:00:00+01:00", "stop_offering_at": "2030-01-20T00:00:00",
        "max_amount": 500, "min_spend_amount": 1000, "max_redemptions": 100, "max_redemptions_per_member": 2,
        "max_redemptions_per_member_per_day": 1, "merchant_id": m, "criteria": {"visits": 10},
        "formatting": {"short_name": "Fries", "no_printable": true}
    }});
    let created = app.post(&acct, "/v1.0/offers", full).await;
    created.spec("post", "/v1.0/offers");
    let o = &created.body["offer"];
    assert_eq!(o["merchant_id"], m.to_string(), "merchant_id is a string in offers");
    assert_eq!(o["quest_only"], "true");
    assert_eq!(o["expires_at"], "2030-01-31T23:00:00Z", "offsets normalised to UTC");
    assert_eq!(o["stop_offering_at"], "2030-01-20T00:00:00Z", "naive times are UTC");
    assert_eq!(o["criteria"], json!({"visits": 10}));
    assert_eq!(o["formatting"], json!({"short_name": "Fries", "no_printable": true}));
    assert_eq!(o["max_amount"], 500);

    let before = app.get(&acct, "/v1.0/offers").await.body["total_entries"].clone();
    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": " "}), "name"),
        (json!({"name": "x", "offer_type": "one"}), "offer_type"),
        (json!({"name": "x", "max_amount": -1}), "max_amount"),
        (json!({"name": "x", "max_redemptions": 1.5}), "max_redemptions"),
        (json!({"name": "x", "is_reward": "maybe"}), "is_reward"),
        (json!({"name": "x", "activates_at": "2030-01-01"}), "activates_at"),
        (
            json!({"name": "x", "activates_at": "2030-02-01T00:00:00Z", "expires_at": "2030-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "x", "expires_at": "2030-01-01T00:00:00Z", "stop_offering_at": "2030-02-01T00:00:00Z"}),
            "stop_offering_at",
        ),
        (json!({"name": "x", "status": "live"}), "status"),
        (json!({"name": "x", "formatting": {"bg_color": "pink"}}), "formatting.bg_color"),
        (json!({"name": "x", "formatting": {"glitter": true}}), "formatting.glitter"),
        (json!({"name": "x", "criteria": [1]}), "criteria"),
        (json!({"name": "x", "merchant_id": 99999999}), "merchant_id"),
        (json!({"name": "x", "merchant_id": "abc"}), "merchant_id"),
    ] {
        let r = app.post(&acct, "/v1.0/offers", json!({ "offer": body })).await;
        r.error(400);
        assert!(r.body["errors"][field].is_string(), "{body}: {}", r.text);
    }
    let other = app.account().await;
    let foreign = merchant(&app, &other, "Foreign").await;
    app.post(&acct, "/v1.0/offers", json!({"offer": {"name": "x", "merchant_id": foreign}})).await.error(400);
    app.post(&acct, "/v1.0/offers", json!({"offer": "Test offer"})).await.error(400);
    app.post(&acct, "/v1.0/offers", json!({"name": "Test offer"})).await.error(400);
    assert_eq!(app.get(&acct, "/v1.0/offers").await.body["total_entries"], before, "nothing written");
}

async fn updates_are_partial_and_formatting_merges(app: TestApp) {
    let acct = app.account().await;
    let id = offer(
        &app,
        &acct,
        json!({"name": "Deal", "description": "d", "max_redemptions": 5, "formatting": {"bg_color": "#000"}}),
    )
    .await;
    let path = format!("/v1.0/offers/{id}");
    let updated = app
        .put(&acct, &path, json!({"offer": {"max_redemptions": 10, "formatting": {"instructions": "Show this"}}}))
        .await;
    updated.spec("put", "/v1.0/offers/{offer_id}");
    let o = &updated.body["offer"];
    assert_eq!(
        (o["name"].as_str(), o["description"].as_str(), o["max_redemptions"].as_i64()),
        (Some("Deal"), Some("d"), Some(10))
    );
    assert_eq!(o["formatting"], json!({"bg_color": "#000", "instructions": "Show this"}));
    let cleared =
        app.put(&acct, &path, json!({"offer": {"description": null, "formatting": {"bg_color": null}}})).await;
    assert_eq!(cleared.body["offer"]["description"], json!(null));
    assert_eq!(cleared.body["offer"]["formatting"], json!({"instructions": "Show this"}));
    // The window is checked against the stored dates.
    app.put(&acct, &path, json!({"offer": {"expires_at": "2030-01-01T00:00:00Z"}}))
        .await
        .spec("put", "/v1.0/offers/{offer_id}");
    let r = app.put(&acct, &path, json!({"offer": {"activates_at": "2031-01-01T00:00:00Z"}})).await;
    r.error(400);
    assert!(r.body["errors"]["expires_at"].is_string());
    app.put(&acct, &path, json!({"offer": {"name": null}})).await.error(400);
    app.put(&acct, &path, json!({"offer": {"formatting": "red"}})).await.error(400);
    assert_eq!(app.get(&acct, &path).await.body["offer"]["name"], "Deal");
    app.put(&acct, "/v1.0/offers/99999999", json!({"offer": {"name": "x"}})).await.error(404);
    let other = app.account().await;
    app.put(&other, &path, json!({"offer": {"name": "stolen"}})).await.error(404);
    app.get(&other, &path).await.error(404);
}

async fn status_lifecycle(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Lifecycle"})).await;
    let path = format!("/v1.0/offers/{id}");
    let status = |r: &crate::helpers::TestResponse| r.body["offer"]["status"].as_str().unwrap().to_owned();
    assert!(app
        .put(&acct, &format!("{path}/actions/suspend"), json!({}))
        .await
        .error(400)
        .contains("pending to suspended"));
    approve(&app, &acct, id).await;
    assert_eq!(status(&app.put(&acct, &format!("{path}/actions/suspend"), json!({})).await), "suspended");
    assert_eq!(status(&app.put(&acct, &path, json!({"offer": {"status": "approved"}})).await), "approved");
    let back = app.put(&acct, &path, json!({"offer": {"status": "pending"}})).await;
    back.error(400);
    assert!(back.body["errors"]["status"].is_string());
    assert_eq!(status(&app.put(&acct, &format!("{path}/actions/archive"), json!({})).await), "archived");
    app.put(&acct, &format!("{path}/actions/approve"), json!({})).await.error(400);
    app.put(&acct, &format!("{path}/actions/explode"), json!({})).await.error(404);
    app.put(&acct, "/v1.0/offers/99999999/actions/approve", json!({})).await.error(404);
    assert_eq!(app.get(&acct, &path).await.body["offer"]["status"], "archived");
    // An offer may be created approved (pending → approved is allowed), not archived-then-back.
    let direct = app.post(&acct, "/v1.0/offers", json!({"offer": {"name": "Direct", "status": "approved"}})).await;
    assert_eq!(direct.body["offer"]["status"], "approved");
}

async fn lists_filter_and_sort(app: TestApp) {
    let acct = app.account().await;
    let (m1, m2) = (merchant(&app, &acct, "One").await, merchant(&app, &acct, "Two").await);
    let b =
        offer(&app, &acct, json!({"name": "Bravo", "merchant_id": m1, "activates_at": "2030-03-01T00:00:00Z"})).await;
    let a =
        offer(&app, &acct, json!({"name": "alpha", "merchant_id": m2, "activates_at": "2030-01-01T00:00:00Z"})).await;
    let c = offer(&app, &acct, json!({"name": "Charlie", "activates_at": "2030-02-01T00:00:00Z"})).await;
    app.post(&acct, &format!("/v1.0/offers/{c}/merchants"), json!({"offer": {"merchant_ids": [m1]}}))
        .await
        .spec("post", "/v1.0/offers/{offer_id}/merchants");
    let ids = |v: &Value| -> Vec<i64> {
        v["offers"].as_array().unwrap().iter().map(|o| o["offer"]["id"].as_i64().unwrap()).collect()
    };
    let all = app.get(&acct, "/v1.0/offers").await;
    all.spec("get", "/v1.0/offers");
    assert_eq!(ids(&all.body), [b, a, c]);
    assert_eq!(all.body["offers"][0]["offer"]["quest_only"], false, "quest_only is a boolean in lists");
    assert_eq!(all.body["offers"][0]["offer"]["merchant_id"], m1.to_string());
    assert_eq!(ids(&app.get(&acct, "/v1.0/offers?sort_by=start_running_at").await.body), [a, c, b]);
    assert_eq!(ids(&app.get(&acct, "/v1.0/offers?sort_by=start_running_at&order=desc").await.body), [b, c, a]);
    assert_eq!(ids(&app.get(&acct, "/v1.0/offers?sort_by=name").await.body), [b, c, a], "byte order: capitals first");
    assert_eq!(ids(&app.get(&acct, "/v1.0/offers?name=ALPH").await.body), [a]);
    assert_eq!(ids(&app.get(&acct, &format!("/v1.0/offers?merchant_id={m1}")).await.body), [b, c], "owned or eligible");
    app.get(&acct, "/v1.0/offers?order=sideways").await.error(400);
    assert_eq!(ids(&app.get(&acct, "/v1.0/offers?sort_by=name&order=").await.body), [b, c, a], "blank: ascending");
    assert_eq!(ids(&app.get(&acct, "/v1.0/offers?sort_by=name&order=%20DESC").await.body), [a, c, b]);
    app.get(&acct, "/v1.0/offers?merchant_id=x").await.error(400);
    let by_merchant = app.get(&acct, &format!("/v1.0/merchants/{m2}/offers")).await;
    by_merchant.spec("get", "/v1.0/merchants/{merchant_id}/offers");
    assert_eq!(ids(&by_merchant.body), [a]);
    // An offer without a start sorts first going up and last going down, on both stores; a
    // search folds ASCII letters and matches other letters as written, on both stores.
    let d = offer(&app, &acct, json!({"name": "CAFÉ CRÈME"})).await;
    assert_eq!(ids(&app.get(&acct, "/v1.0/offers?sort_by=start_running_at").await.body), [d, a, c, b]);
    assert_eq!(ids(&app.get(&acct, "/v1.0/offers?sort_by=start_running_at&order=desc").await.body), [b, c, a, d]);
    assert_eq!(ids(&app.get(&acct, "/v1.0/offers?sort_by=name").await.body), [b, d, c, a], "by bytes");
    // A search longer than any name matches nothing (SQLite refused its LIKE pattern: a 500).
    let long = app.get(&acct, &format!("/v1.0/offers?name={}", "a".repeat(60_000))).await;
    assert_eq!((long.status.as_u16(), &long.body["total_entries"]), (200, &json!(0)), "{:.200}", long.text);
    for name in ["CAF%C3%89", "caf%C3%89%20cr", "%C3%88ME"] {
        assert_eq!(ids(&app.get(&acct, &format!("/v1.0/offers?name={name}")).await.body), [d], "{name}");
    }
    let other = app.account().await;
    app.get(&other, &format!("/v1.0/merchants/{m2}/offers")).await.error(404);
    assert_eq!(app.get(&other, "/v1.0/offers").await.body["total_entries"], 0);
}

async fn deleting_offers_and_what_they_reference(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q").await;
    let ch = channel(&app, &acct, "App").await;
    let list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "VIP"}})).await.body["member_list"]
        ["id"]
        .as_i64()
        .unwrap();
    let stores =
        app.post(&acct, &format!("/v1.0/merchants/{m}/store_lists"), json!({"store_list": {"name": "CO"}})).await.body
            ["store_list"]["id"]
            .as_i64()
            .unwrap();
    let id = offer(&app, &acct, json!({"name": "Linked", "merchant_id": m})).await;
    for (kind, key, target) in [
        ("channels", "channel_ids", ch),
        ("member_lists", "member_list_ids", list),
        ("store_lists", "store_list_ids", stores),
        ("merchants", "merchant_ids", m),
    ] {
        app.post(&acct, &format!("/v1.0/offers/{id}/{kind}"), json!({"offer": {key: [target]}})).await.error_free();
    }
    // What an offer relies on cannot be deleted from under it.
    assert!(app.delete(&acct, &format!("/v1.0/channels/{ch}")).await.error(409).contains("linked to offers"));
    assert!(app.delete(&acct, &format!("/v1.0/member_lists/{list}")).await.error(409).contains("restricts offers"));
    app.delete(&acct, &format!("/v1.0/merchants/{m}/store_lists/{stores}")).await.error(409);
    app.delete(&acct, &format!("/v1.0/merchants/{m}")).await.error(409);
    let other = app.account().await;
    app.delete(&other, &format!("/v1.0/offers/{id}")).await.error(404);
    // Deleting the offer removes its links; then the others can go.
    app.delete(&acct, &format!("/v1.0/offers/{id}.json")).await.spec("delete", "/v1.0/offers/{offer_id}");
    app.get(&acct, &format!("/v1.0/offers/{id}")).await.error(404);
    app.get(&acct, &format!("/v1.0/offers/{id}/channels")).await.error(404);
    app.delete(&acct, &format!("/v1.0/channels/{ch}")).await.spec("delete", "/v1.0/channels/{channel_id}");
    app.delete(&acct, &format!("/v1.0/member_lists/{list}"))
        .await
        .spec("delete", "/v1.0/member_lists/{member_list_id}");
    app.delete(&acct, &format!("/v1.0/merchants/{m}/store_lists/{stores}")).await.error_free();
    app.delete(&acct, &format!("/v1.0/merchants/{m}")).await.error_free();
    app.delete(&acct, &format!("/v1.0/offers/{id}")).await.error(404);
}

/// Landing pages are served over TLS, so every image URL in `formatting` must be https: a
/// plain-http one is a field error (400, as every field error), and nothing is written.
async fn formatting_image_urls_must_be_https(app: TestApp) {
    let acct = app.account().await;
    let kept = json!({"bg_image": "https://cdn.example.com/old.png", "bg_color": "#000"});
    let id = offer(&app, &acct, json!({"name": "Deal", "formatting": kept})).await;
    let path = format!("/v1.0/offers/{id}");
    let before = app.get(&acct, &path).await.body["offer"].clone();
    assert_eq!(before["formatting"], kept);
    for field in ["bg_image", "mobile_url"] {
        for url in ["http://cdn.example.com/new.png", "//cdn.example.com/new.png", "javascript:alert(1)"] {
            let refused = app
                .put(
                    &acct,
                    &path,
                    json!({"offer": {"name": "Renamed", "formatting": {field: url, "bg_color": "#fff"}}}),
                )
                .await;
            assert_eq!(refused.error(400), format!("formatting.{field} must be an https URL"), "{field}={url}");
            assert_eq!(refused.body["errors"], json!({ format!("formatting.{field}"): "must be an https URL" }));
            assert_eq!(app.get(&acct, &path).await.body["offer"], before, "nothing half-written");
        }
        let created = app
            .post(
                &acct,
                "/v1.0/offers",
                json!({"offer": {"name": "New", "formatting": {field: "http://x.example/a.png"}}}),
            )
            .await;
        assert_eq!(created.error(400), format!("formatting.{field} must be an https URL"));
    }
    let https = json!({"bg_image": "https://cdn.example.com/new.png", "mobile_url": "https://m.example.com/a.png"});
    let accepted = app.put(&acct, &path, json!({"offer": {"formatting": https}})).await;
    accepted.spec("put", "/v1.0/offers/{offer_id}");
    let expected = json!({"bg_image": "https://cdn.example.com/new.png", "mobile_url": "https://m.example.com/a.png", "bg_color": "#000"});
    assert_eq!(accepted.body["offer"]["formatting"], expected);
    assert_eq!(app.get(&acct, &path).await.body["offer"]["formatting"], expected);
    assert_eq!(app.get(&acct, "/v1.0/offers").await.body["total_entries"], 1, "the refused creates wrote nothing");
}
