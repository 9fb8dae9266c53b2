//! Conventions shared by every route: headers, `.json`, bodies without Content-Type, JSON
//! errors for unknown routes, wrong methods, oversized and malformed bodies.

use crate::backend_tests;
use crate::helpers::TestApp;
use reqwest::Method;
use serde_json::json;

backend_tests!(
    headers_and_json_suffix,
    bodies_parse_whatever_the_content_type,
    json_errors_everywhere,
    health_checks,
    ids_may_come_as_digit_strings_everywhere
);

async fn headers_and_json_suffix(app: TestApp) {
    let acct = app.account().await;
    let plain = app.get(&acct, "/v1.0/members").await;
    let suffixed = app.get(&acct, "/v1.0/members.json").await;
    assert_eq!(plain.body, suffixed.body);
    for response in [&plain, &suffixed] {
        assert_eq!(response.headers["content-type"], "application/json; charset=utf-8");
        let runtime: f64 = response.headers["x-runtime"].to_str().unwrap().parse().unwrap();
        assert!((0.0..10.0).contains(&runtime));
        assert!(!response.headers["x-request-id"].is_empty());
    }
    assert_ne!(plain.headers["x-request-id"], suffixed.headers["x-request-id"]);
    // A caller's request id is echoed back for tracing across systems.
    let traced = app
        .client
        .get(format!("{}/v1.0/members", app.base))
        .header("X-Auth-Token", &acct.token)
        .header("X-Request-Id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(traced.headers()["x-request-id"], "trace-me-123");
    // The suffix wins over a conflicting Accept header.
    let accept_xml = app
        .client
        .get(format!("{}/v1.0/members.json", app.base))
        .header("X-Auth-Token", &acct.token)
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(accept_xml.headers()["content-type"], "application/json; charset=utf-8");
}

async fn bodies_parse_whatever_the_content_type(app: TestApp) {
    let acct = app.account().await;
    for content_type in ["application/x-www-form-urlencoded", "text/plain", "application/json"] {
        let identifier = format!("via-{content_type}");
        let response = app
            .client
            .post(format!("{}/v1.0/members.json", app.base))
            .header("X-Auth-Token", &acct.token)
            .header("Content-Type", content_type)
            .body(json!({"member": {"identifier": identifier}}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{content_type}");
    }
}

async fn json_errors_everywhere(app: TestApp) {
    let acct = app.account().await;
    assert_eq!(app.get(&acct, "/v1.0/nothing-here").await.error(404), "Not found");
    app.raw(None, Method::GET, "/", None).await.error(404);
    app.raw(Some(&acct.token), Method::PATCH, "/v1.0/members", None).await.error(405);
    app.raw(Some(&acct.token), Method::POST, "/v1.0/members/1", Some("{}".into())).await.error(405);
    app.raw(None, Method::PATCH, "/auth", None).await.error(405);

    let huge = json!({"member": {"identifier": "x".repeat(2 * 1024 * 1024)}}).to_string();
    let too_large = app.raw(Some(&acct.token), Method::POST, "/v1.0/members", Some(huge)).await;
    assert_eq!(too_large.error(413), "request body too large");
    for body in ["{", "nul", "\u{0}", "{\"member\": {\"identifier\": \"a\",}}"] {
        app.raw(Some(&acct.token), Method::POST, "/v1.0/members", Some(body.into())).await.error(400);
    }
    let invalid_utf8 = app
        .client
        .post(format!("{}/v1.0/members", app.base))
        .header("X-Auth-Token", &acct.token)
        .body(vec![b'{', 0xff, 0xfe, b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(invalid_utf8.status(), 400);
    assert_eq!(app.get(&acct, "/v1.0/members").await.body["total_entries"], 0, "nothing half-written");
}

async fn health_checks(app: TestApp) {
    let health = app.raw(None, Method::GET, "/healthz", None).await;
    assert_eq!((health.status.as_u16(), &health.body), (200, &json!({"status": "ok"})));
    let ready = app.raw(None, Method::GET, "/readyz", None).await;
    assert_eq!((ready.status.as_u16(), &ready.body), (200, &json!({"status": "ready"})));
}

/// An id may come as a number or as a string of its digits, in a scalar field and in an id
/// list alike (before, the lists, issuance's `member_id` and a campaign's `offer_id` refused
/// the string that every other id field took).
async fn ids_may_come_as_digit_strings_everywhere(app: TestApp) {
    let acct = app.account().await;
    let s = crate::credentials::setup(&app, &acct, json!({"name": "Digits"})).await;
    let (offer, channel, member) = (s.offer.to_string(), s.channel.to_string(), s.member.to_string());
    let credential = app
        .post(
            &acct,
            "/v1.0/credentials",
            json!({"credential": {"member_id": member, "channel_id": channel, "offer_ids": [offer]}}),
        )
        .await;
    credential.error_free();
    assert_eq!(credential.body["credential"]["offer_ids"], json!([s.offer]), "{}", credential.text);
    let second = crate::offers::channel(&app, &acct, "Second").await;
    let linked = app
        .put(
            &acct,
            &format!("/v1.0/offers/{}/channels", s.offer),
            json!({"offer": {"channel_ids": [second.to_string()]}}),
        )
        .await;
    linked.error_free();
    let ids = linked.body["offer"]["channel_ids"].as_array().unwrap_or_else(|| panic!("{}", linked.text));
    assert!(ids.contains(&json!(second)), "{}", linked.text);
    let campaign = app
        .post(&acct, "/v1.0/campaigns", json!({"campaign": {"offer_id": offer, "channel_name": "Digits campaign"}}))
        .await;
    assert_eq!(campaign.status, 200, "{}", campaign.text);
    let xid = campaign.body["campaign"]["xid"].as_str().unwrap().to_owned();
    let issued = app
        .post(
            &acct,
            "/v1.0/members/offer_states/issue",
            json!({"offer_state": {"campaign_id": xid, "member_id": member}}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    assert_eq!(issued.body["offer_state"]["member_id"], s.member);
    let m = crate::merchants::merchant(&app, &acct, "Digits Burger").await;
    let item =
        app.post(&acct, &format!("/v1.0/merchants/{m}/items"), json!({"item": {"name": "Burger", "code": "B1"}})).await;
    let item = item.error_free().body["item"]["id"].as_i64().unwrap();
    let set = app
        .post(
            &acct,
            "/v1.0/item_sets",
            json!({"item_set": {"name": "Digits", "merchant_id": m.to_string(), "item_ids": [item.to_string()]}}),
        )
        .await;
    set.error_free();
    assert_eq!((&set.body["item_set"]["merchant_id"], &set.body["item_set"]["item_ids"]), (&json!(m), &json!([item])));
    let seen = json!({"impression": {"cookie_id": "digits", "offer_xid": xid, "member_id": member}});
    let seen = app.post(&acct, "/v1.0/impressions", seen).await;
    seen.error_free();
    assert_eq!(seen.body["impression"]["member_id"], s.member, "{}", seen.text);
}
