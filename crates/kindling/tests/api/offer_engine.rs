//! The Offer Engine tag: store check-ins under the distance and cooldown policy, the store as
//! a member sees it, a member's offer activities and redeemed credentials (all or at one
//! store); bad input and other accounts' ids are 4xx and write nothing.

use crate::backend_tests;
use crate::credentials::{issue, member, post_query, put_query, setup, Setup};
use crate::helpers::{TestAccount, TestApp, TestResponse};
use crate::merchants::merchant;
use crate::offers::channel;
use reqwest::Method;
use serde_json::{json, Value};

backend_tests!(
    check_in_policy,
    check_in_bad_input_writes_nothing,
    concurrent_check_ins_count_once,
    activities_follow_issue_redeem_void,
    redemptions_list_redeemed_credentials,
    feeds_bad_input
);

const CHECK_IN: &str = "/v1.0/members/{member_id}/stores/{store_id}/check-in";
const MEMBER_STORE: &str = "/v1.0/members/{member_id}/stores/{store_id}";
const ACTIVITIES: &str = "/v1.0/activities/offers";
const REDEMPTIONS: &str = "/v1.0/members/{member_id}/activities/redemptions";
const STORE_REDEMPTIONS: &str = "/v1.0/members/{member_id}/stores/{store_id}/activities/redemptions";

/// Denver's Civic Center; 0.004° of latitude north is about 445 m, 0.005° about 556 m.
const HERE: (f64, f64) = (39.7392, -104.9903);

async fn store(app: &TestApp, acct: &TestAccount, name: &str, location: Value) -> i64 {
    let m = merchant(app, acct, &format!("{name} merchant")).await;
    let created = app
        .post(acct, &format!("/v1.0/merchants/{m}/stores"), json!({"store": {"name": name, "location": location}}))
        .await;
    created.error_free().body["store"]["id"].as_i64().unwrap()
}

async fn check_in(app: &TestApp, acct: &TestAccount, member: i64, store: i64, at: (f64, f64)) -> TestResponse {
    post_query(
        app,
        acct,
        &format!("/v1.0/members/{member}/stores/{store}/check-in?check_in[lat]={}&check_in[lng]={}", at.0, at.1),
    )
    .await
}

async fn member_store(app: &TestApp, acct: &TestAccount, member: i64, store: i64, channel: i64) -> Value {
    let r = app.get(acct, &format!("/v1.0/members/{member}/stores/{store}?x_channel_id={channel}")).await;
    r.spec("get", MEMBER_STORE);
    r.body["store"].clone()
}

async fn check_ins(app: &TestApp, acct: &TestAccount) -> i64 {
    let sql = "SELECT COUNT(*) FROM check_ins WHERE account_id = $1";
    app.db.fetch_optional::<i64>(sql, &[acct.id.into()]).await.unwrap().unwrap_or(0)
}

async fn check_in_policy(app: TestApp) {
    let acct = app.account().await;
    let m = member(&app, &acct, "visitor").await;
    let ch = channel(&app, &acct, "App").await;
    let civic = store(&app, &acct, "Civic Center", json!({"lat": HERE.0, "lng": HERE.1})).await;
    let unknown_place = store(&app, &acct, "Pop-up", json!({})).await;
    let fresh = json!({"id": civic, "name": "Civic Center", "total_check_ins": 0, "can_check_in": true});
    assert_eq!(member_store(&app, &acct, m, civic, ch).await, fresh);

    // Too far (556 m) is refused and recorded nowhere.
    let far = check_in(&app, &acct, m, civic, (HERE.0 + 0.005, HERE.1)).await;
    assert_eq!(far.error(422), "Member is 556 m from the store; check-ins must be within 500 m of it");
    assert_eq!(member_store(&app, &acct, m, civic, ch).await, fresh);

    // 445 m away counts: 200 with no body but `{}`.
    let counted = check_in(&app, &acct, m, civic, (HERE.0 + 0.004, HERE.1)).await;
    counted.spec("post", CHECK_IN);
    assert_eq!(counted.body, json!({}));
    let after = json!({"id": civic, "name": "Civic Center", "total_check_ins": 1, "can_check_in": false});
    assert_eq!(member_store(&app, &acct, m, civic, ch).await, after);

    // Within the hour, a second check-in (here in a JSON body) is refused.
    let body = json!({"check_in": {"lat": HERE.0, "lng": HERE.1}});
    let path = format!("/v1.0/members/{m}/stores/{civic}/check-in");
    let again = app.post(&acct, &path, body.clone()).await;
    assert!(again
        .error(422)
        .starts_with("Member has already checked in at this store; the next check-in is allowed at "));
    assert_eq!(member_store(&app, &acct, m, civic, ch).await, after);
    assert_eq!(check_ins(&app, &acct).await, 1);

    // An hour later it counts again (the clock is moved by moving the check-in back).
    app.db
        .execute("UPDATE check_ins SET created_at = created_at - 3600 WHERE account_id = $1", &[acct.id.into()])
        .await
        .unwrap();
    assert_eq!(member_store(&app, &acct, m, civic, ch).await["can_check_in"], true);
    app.post(&acct, &format!("{path}.json"), body).await.spec("post", CHECK_IN);
    let twice = json!({"id": civic, "name": "Civic Center", "total_check_ins": 2, "can_check_in": false});
    assert_eq!(member_store(&app, &acct, m, civic, ch).await, twice);

    // Counts are per member and per store; a store without coordinates takes any position.
    let other = member(&app, &acct, "other visitor").await;
    assert_eq!(member_store(&app, &acct, other, civic, ch).await["total_check_ins"], 0);
    check_in(&app, &acct, other, civic, HERE).await.spec("post", CHECK_IN);
    check_in(&app, &acct, m, unknown_place, (-33.86, 151.21)).await.spec("post", CHECK_IN);
    assert_eq!(
        member_store(&app, &acct, m, unknown_place, ch).await,
        json!({"id": unknown_place, "name": "Pop-up", "total_check_ins": 1, "can_check_in": false})
    );
    assert_eq!(member_store(&app, &acct, m, civic, ch).await, twice);
    assert_eq!(check_ins(&app, &acct).await, 4);
}

async fn check_in_bad_input_writes_nothing(app: TestApp) {
    let acct = app.account().await;
    let other = app.account().await;
    let m = member(&app, &acct, "visitor").await;
    let ch = channel(&app, &acct, "App").await;
    let s = store(&app, &acct, "Civic Center", json!({"lat": HERE.0, "lng": HERE.1})).await;
    let their_member = member(&app, &other, "theirs").await;
    let their_store = store(&app, &other, "Theirs", json!({"lat": HERE.0, "lng": HERE.1})).await;
    let their_channel = channel(&app, &other, "App").await;
    let base = format!("/v1.0/members/{m}/stores/{s}/check-in");
    for (query, message) in [
        ("", "check_in[lat] is required"),
        ("?check_in[lat]=39.7392", "check_in[lng] is required"),
        ("?check_in[lat]=north&check_in[lng]=-104.99", "check_in[lat] must be a number"),
        ("?check_in[lat]=NaN&check_in[lng]=-104.99", "check_in[lat] must be a number"),
        ("?check_in[lat]=91&check_in[lng]=-104.99", "check_in[lat] must be within ±90 and check_in[lng] within ±180"),
        ("?check_in[lat]=39.7&check_in[lng]=-181", "check_in[lat] must be within ±90 and check_in[lng] within ±180"),
    ] {
        let r = post_query(&app, &acct, &format!("{base}{query}")).await;
        assert_eq!(r.error(400), message, "{query}");
    }
    for (body, message) in [
        (json!({"check_in": {"lat": "north", "lng": 1}}).to_string(), "check_in[lat] must be a number"),
        (json!({"check_in": {"lat": [1], "lng": 1}}).to_string(), "check_in[lat] must be a number"),
        (json!({"check_in": 5}).to_string(), "check_in must be an object"),
        ("{\"check_in\": {".to_owned(), "malformed JSON"),
    ] {
        let r = app.raw(Some(&acct.token), Method::POST, &base, Some(body.clone())).await;
        assert!(r.error(400).starts_with(message), "{body}");
    }
    let huge = json!({"check_in": {"lat": HERE.0, "lng": HERE.1, "note": "x".repeat(3 << 20)}}).to_string();
    app.raw(Some(&acct.token), Method::POST, &base, Some(huge)).await.error(413);
    let at = "?check_in[lat]=39.7392&check_in[lng]=-104.9903";
    for (member, store, message) in [
        (8_000_000_000_000, s, "member not found"),
        (their_member, s, "member not found"),
        (m, 8_000_000_000_000, "store not found"),
        (m, their_store, "store not found"),
    ] {
        let r = post_query(&app, &acct, &format!("/v1.0/members/{member}/stores/{store}/check-in{at}")).await;
        assert_eq!(r.error(404), message);
        let shown = app.get(&acct, &format!("/v1.0/members/{member}/stores/{store}?x_channel_id={ch}")).await;
        assert_eq!(shown.error(404), message);
    }
    post_query(&app, &acct, &format!("/v1.0/members/x/stores/{s}/check-in{at}")).await.error(404);
    assert_eq!(check_ins(&app, &acct).await, 0, "nothing written");
    let shown = format!("/v1.0/members/{m}/stores/{s}");
    for (query, status, message) in [
        (String::new(), 400, "x_channel_id is required"),
        ("?x_channel_id=web".into(), 400, "x_channel_id must be an integer"),
        (format!("?x_channel_id={their_channel}"), 404, "channel not found"),
    ] {
        assert_eq!(app.get(&acct, &format!("{shown}{query}")).await.error(status), message);
    }
}

/// Eight check-ins of one member at one store at once: one counts, the cooldown refuses the rest.
async fn concurrent_check_ins_count_once(app: TestApp) {
    let acct = app.account().await;
    let m = member(&app, &acct, "visitor").await;
    let ch = channel(&app, &acct, "App").await;
    let s = store(&app, &acct, "Civic Center", json!({"lat": HERE.0, "lng": HERE.1})).await;
    let path = format!("/v1.0/members/{m}/stores/{s}/check-in?check_in[lat]={}&check_in[lng]={}", HERE.0, HERE.1);
    let answers = crate::zidentifiers::parallel(&app, &acct, Method::POST, &path, 8).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 422, 422, 422, 422, 422, 422, 422], "{answers:?}");
    assert_eq!(member_store(&app, &acct, m, s, ch).await["total_check_ins"], 1);
    assert_eq!(check_ins(&app, &acct).await, 1);
}

async fn activities(app: &TestApp, acct: &TestAccount, member: i64) -> Value {
    let r = app.get(acct, &format!("{ACTIVITIES}?member_id={member}")).await;
    r.spec("get", ACTIVITIES);
    r.body
}

async fn activities_follow_issue_redeem_void(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Free Fries"})).await;
    assert_eq!(
        activities(&app, &acct, s.member).await,
        json!({"page": 1, "per_page": 50, "total_entries": 0, "total_pages": 0, "collection": []})
    );
    let credential = issue(&app, &acct, &s, s.member).await.error_free().body["credential"]["id"].as_i64().unwrap();
    put_query(&app, &acct, &format!("/v1.0/credentials/{credential}/redeem")).await.error_free();
    put_query(&app, &acct, &format!("/v1.0/credentials/{credential}/void")).await.error_free();
    let listed = activities(&app, &acct, s.member).await;
    assert_eq!((listed["total_entries"].as_i64(), listed["total_pages"].as_i64()), (Some(3), Some(1)));
    let rows = listed["collection"].as_array().unwrap();
    for (row, (code, name)) in rows.iter().zip([(1, "issue"), (2, "redeem"), (3, "void")]) {
        let a = &row["offer_activity"];
        let at = a["created_at"].as_str().unwrap();
        assert!(at.ends_with('Z') && at.len() == 20, "{at}");
        assert_eq!(
            a,
            &json!({"id": a["id"], "transaction_id": null, "credential_id": credential, "value": null,
                    "invoice_id": null, "reported_at": at, "created_at": at, "updated_at": at, "member_id": s.member,
                    "offer_id": s.offer, "activity_type": code, "description": name, "processed_at": at})
        );
        assert!(a["id"].is_i64());
    }
    // Paged, oldest first; another member's activities are not listed.
    let second = app.get(&acct, &format!("{ACTIVITIES}.json?member_id={}&page=2&per_page=1", s.member)).await;
    second.spec("get", ACTIVITIES);
    assert_eq!((second.body["total_pages"].as_i64(), second.body["collection"][0].clone()), (Some(3), rows[1].clone()));
    let other = member(&app, &acct, "someone else").await;
    issue(&app, &acct, &s, other).await.error_free();
    assert_eq!(activities(&app, &acct, other).await["total_entries"], 1);
    assert_eq!(activities(&app, &acct, s.member).await["total_entries"], 3);
}

async fn redemptions(app: &TestApp, acct: &TestAccount, path: &str, template: &str) -> Vec<i64> {
    let r = app.get(acct, path).await;
    r.spec("get", template);
    let listed = r.body["credentials"].as_array().unwrap();
    assert_eq!(r.body["total_entries"].as_u64(), Some(listed.len() as u64));
    // The credentials API's object, exactly.
    for item in listed {
        let id = item["credential"]["id"].as_i64().unwrap();
        assert_eq!(item["credential"], app.get(acct, &format!("/v1.0/credentials/{id}")).await.body["credential"]);
    }
    listed.iter().map(|c| c["credential"]["id"].as_i64().unwrap()).collect()
}

async fn redemptions_list_redeemed_credentials(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Free Fries"})).await;
    let Setup { member: m, .. } = s;
    let downtown = store(&app, &acct, "Downtown", json!({})).await;
    let uptown = store(&app, &acct, "Uptown", json!({})).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(issue(&app, &acct, &s, m).await.error_free().body["credential"]["id"].as_i64().unwrap());
    }
    for (id, store) in [(ids[0], Some(downtown)), (ids[1], Some(uptown)), (ids[2], None), (ids[3], Some(downtown))] {
        let query = store.map(|s| format!("?store_id={s}")).unwrap_or_default();
        put_query(&app, &acct, &format!("/v1.0/credentials/{id}/redeem{query}")).await.error_free();
    }
    put_query(&app, &acct, &format!("/v1.0/credentials/{}/void", ids[3])).await.error_free();
    // ids[4] stays open, ids[3] was voided after its redemption.
    let all = format!("/v1.0/members/{m}/activities/redemptions");
    assert_eq!(redemptions(&app, &acct, &all, REDEMPTIONS).await, ids[..3]);
    let at = |store: i64| format!("/v1.0/members/{m}/stores/{store}/activities/redemptions");
    assert_eq!(redemptions(&app, &acct, &at(downtown), STORE_REDEMPTIONS).await, [ids[0]]);
    assert_eq!(redemptions(&app, &acct, &at(uptown), STORE_REDEMPTIONS).await, [ids[1]]);
    let paged = app.get(&acct, &format!("{all}.json?page=2&per_page=2")).await;
    paged.spec("get", REDEMPTIONS);
    assert_eq!((paged.body["total_entries"].as_i64(), paged.body["total_pages"].as_i64()), (Some(3), Some(2)));
    assert_eq!(paged.body["credentials"][0]["credential"]["id"], ids[2]);
    // Another member of the account has none.
    let other = member(&app, &acct, "no redemptions").await;
    let none = format!("/v1.0/members/{other}/activities/redemptions");
    assert_eq!(redemptions(&app, &acct, &none, REDEMPTIONS).await, Vec::<i64>::new());
}

async fn feeds_bad_input(app: TestApp) {
    let acct = app.account().await;
    let other = app.account().await;
    let m = member(&app, &acct, "member").await;
    let s = store(&app, &acct, "Downtown", json!({})).await;
    let their_member = member(&app, &other, "theirs").await;
    let their_store = store(&app, &other, "Theirs", json!({})).await;
    for (query, status, message) in [
        (String::new(), 400, "member_id is required"),
        ("?member_id=abc".into(), 400, "member_id must be an integer"),
        ("?member_id=8000000000000".into(), 404, "member not found"),
        (format!("?member_id={their_member}"), 404, "member not found"),
        (format!("?member_id={m}&page=0"), 400, ""),
    ] {
        let error = app.get(&acct, &format!("{ACTIVITIES}{query}")).await.error(status);
        assert!(error.starts_with(message), "{query}: {error}");
    }
    for (path, message) in [
        (format!("/v1.0/members/{their_member}/activities/redemptions"), "member not found"),
        ("/v1.0/members/8000000000000/activities/redemptions".into(), "member not found"),
        (format!("/v1.0/members/{their_member}/stores/{s}/activities/redemptions"), "member not found"),
        (format!("/v1.0/members/{m}/stores/{their_store}/activities/redemptions"), "store not found"),
        (format!("/v1.0/members/{m}/stores/8000000000000/activities/redemptions"), "store not found"),
    ] {
        assert_eq!(app.get(&acct, &path).await.error(404), message, "{path}");
    }
    app.get(&acct, "/v1.0/members/abc/activities/redemptions").await.error(404);
}
