//! The Impressions tag: post one naming an offer×channel by xid, list, delete; then every way
//! to get it wrong, none of which writes anything.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use crate::offers::offer;
use reqwest::Method;
use serde_json::{json, Value};

backend_tests!(
    create_list_delete_round_trip,
    annotations_as_string_or_absent,
    bad_input_writes_nothing,
    other_accounts_xids_members_and_impressions_are_not_found,
    paging_and_filters,
    idempotency_key_replays_the_creation,
);

/// An offer linked to a channel through a campaign: (offer xid, channel id).
async fn offer_on_channel(app: &TestApp, acct: &TestAccount, channel_name: &str) -> (String, i64) {
    let (xid, channel, _) = campaign(app, acct, channel_name).await;
    (xid, channel)
}

/// (xid, channel id, campaign id) of a new offer on the channel.
async fn campaign(app: &TestApp, acct: &TestAccount, channel_name: &str) -> (String, i64, i64) {
    let id = offer(app, acct, json!({"name": format!("{channel_name} offer")})).await;
    let campaign =
        app.post(acct, "/v1.0/campaigns", json!({"campaign": {"offer_id": id, "channel_name": channel_name}})).await;
    campaign.error_free();
    let c = &campaign.body["campaign"];
    (c["xid"].as_str().unwrap().to_owned(), c["channel_id"].as_i64().unwrap(), c["id"].as_i64().unwrap())
}

async fn member(app: &TestApp, acct: &TestAccount, identifier: &str) -> i64 {
    let created = app.post(acct, "/v1.0/members", json!({"member": {"identifier": identifier}})).await;
    created.error_free().body["member"]["id"].as_i64().unwrap()
}

async fn count(app: &TestApp, acct: &TestAccount) -> i64 {
    let listed = app.get(acct, "/v1.0/impressions").await;
    listed.spec("get", "/v1.0/impressions");
    listed.body["total_entries"].as_i64().unwrap()
}

async fn post(app: &TestApp, acct: &TestAccount, impression: Value) -> Value {
    let created = app.post(acct, "/v1.0/impressions", json!({ "impression": impression })).await;
    created.spec("post", "/v1.0/impressions");
    created.body["impression"].clone()
}

async fn create_list_delete_round_trip(app: TestApp) {
    let acct = app.account().await;
    let (xid, channel, campaign) = campaign(&app, &acct, "Spring Email").await;
    let member = member(&app, &acct, "visitor-1").await;
    let empty = app.get(&acct, "/v1.0/impressions.json").await;
    empty.spec("get", "/v1.0/impressions");
    assert_eq!(empty.body, json!({"page": 1, "per_page": 50, "total_entries": 0, "total_pages": 0, "impressions": []}));

    let body = json!({"impression": {"cookie_id": "cookie-abc", "offer_xid": xid, "member_id": member,
        "creative_name": "hero-banner", "annotations": {"sf_ac": "hero-banner", "src": "email"}}});
    let created = app.post(&acct, "/v1.0/impressions.json", body).await;
    created.spec("post", "/v1.0/impressions");
    assert_eq!(created.body["errors"], json!({}));
    let i = &created.body["impression"];
    let id = i["id"].as_i64().unwrap();
    let created_at = i["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z') && created_at.len() == 20, "RFC 3339 UTC: {created_at}");
    assert_eq!(
        i,
        &json!({"id": id, "account_id": acct.id, "annotations": r#"{"sf_ac":"hero-banner","src":"email"}"#,
            "cookie_id": "cookie-abc", "offer_xid": xid, "created_at": created_at, "updated_at": created_at,
            "member_id": member, "channel_id": channel, "channel_name": "Spring Email", "creative_name": "hero-banner"})
    );
    assert_eq!(created.headers["location"], format!("/v1.0/impressions/{id}").as_str());

    let listed = app.get(&acct, "/v1.0/impressions").await;
    listed.spec("get", "/v1.0/impressions");
    assert_eq!((listed.body["total_entries"].as_i64(), listed.body["total_pages"].as_i64()), (Some(1), Some(1)));
    assert_eq!(listed.body["impressions"], json!([{"impression": i}]));

    // An impression is a record of what was seen: unlinking and deleting its channel keep it.
    app.delete(&acct, &format!("/v1.0/campaigns/{campaign}")).await.error_free();
    app.delete(&acct, &format!("/v1.0/channels/{channel}")).await.error_free();
    assert_eq!(app.get(&acct, "/v1.0/impressions").await.body, listed.body);
    let gone = json!({"impression": {"cookie_id": "cookie-abc", "offer_xid": xid}});
    assert_eq!(app.post(&acct, "/v1.0/impressions", gone).await.error(404), "offer_xid names no offer on a channel");

    let deleted = app.delete(&acct, &format!("/v1.0/impressions/{id}.json")).await;
    deleted.spec("delete", "/v1.0/impressions/{impression_id}");
    assert_eq!(deleted.body, json!({}));
    assert_eq!(app.delete(&acct, &format!("/v1.0/impressions/{id}")).await.error(404), "impression not found");
    app.delete(&acct, "/v1.0/impressions/not-a-number").await.error(404);
    assert_eq!(count(&app, &acct).await, 0);
}

/// `annotations` is a string in the spec's `impression`: a string is kept as given, an
/// object as compact JSON, none as `{}`; member and creative are optional.
async fn annotations_as_string_or_absent(app: TestApp) {
    let acct = app.account().await;
    let (xid, _) = offer_on_channel(&app, &acct, "SMS").await;
    let given = post(&app, &acct, json!({"cookie_id": "c1", "offer_xid": xid, "annotations": "sf_ac=spring"})).await;
    assert_eq!(given["annotations"], "sf_ac=spring");
    let absent = post(&app, &acct, json!({"cookie_id": "c2", "offer_xid": xid, "creative_name": ""})).await;
    assert_eq!(
        (&absent["annotations"], &absent["member_id"], &absent["creative_name"]),
        (&json!("{}"), &Value::Null, &Value::Null)
    );
    let empty = post(&app, &acct, json!({"cookie_id": "c3", "offer_xid": xid, "annotations": {}})).await;
    assert_eq!(empty["annotations"], "{}");
    let unicode = "ü€😀".repeat(3);
    let fits =
        post(&app, &acct, json!({"cookie_id": unicode, "offer_xid": xid, "annotations": "x".repeat(10_000)})).await;
    assert_eq!(
        (fits["cookie_id"].as_str(), fits["annotations"].as_str().map(str::len)),
        (Some(&*unicode), Some(10_000))
    );
    assert_eq!(count(&app, &acct).await, 4);
}

async fn bad_input_writes_nothing(app: TestApp) {
    let acct = app.account().await;
    let (xid, _) = offer_on_channel(&app, &acct, "Email").await;
    // Field errors: 400 with the field named in `errors`.
    let field_errors: Vec<(Value, &str, &str)> = vec![
        (json!({"offer_xid": xid}), "cookie_id", "can't be blank"),
        (json!({"cookie_id": "c"}), "offer_xid", "can't be blank"),
        (json!({"cookie_id": "  ", "offer_xid": xid}), "cookie_id", "can't be blank"),
        (json!({"cookie_id": "c", "offer_xid": ""}), "offer_xid", "can't be blank"),
        (json!({"cookie_id": null, "offer_xid": xid}), "cookie_id", "can't be blank"),
        (
            json!({"cookie_id": "c".repeat(256), "offer_xid": xid}),
            "cookie_id",
            "is too long (maximum is 255 characters)",
        ),
        (json!({"cookie_id": "c", "offer_xid": xid, "annotations": 5}), "annotations", "must be an object or a string"),
        (
            json!({"cookie_id": "c", "offer_xid": xid, "annotations": ["a"]}),
            "annotations",
            "must be an object or a string",
        ),
        (
            json!({"cookie_id": "c", "offer_xid": xid, "annotations": true}),
            "annotations",
            "must be an object or a string",
        ),
        (
            json!({"cookie_id": "c", "offer_xid": xid, "annotations": "x".repeat(10_001)}),
            "annotations",
            "is too long (maximum is 10000 characters)",
        ),
        (
            json!({"cookie_id": "c", "offer_xid": xid, "annotations": {"k": "x".repeat(10_000)}}),
            "annotations",
            "is too long (maximum is 10000 characters)",
        ),
        (
            json!({"cookie_id": "c", "offer_xid": xid, "creative_name": "x".repeat(256)}),
            "creative_name",
            "is too long (maximum is 255 characters)",
        ),
    ];
    for (impression, field, message) in field_errors {
        let refused = app.post(&acct, "/v1.0/impressions", json!({ "impression": impression })).await;
        assert_eq!(refused.error(400), format!("{field} {message}"), "{impression}");
        assert_eq!(refused.body["errors"], json!({ field: message }), "{impression}");
        if let Some(spec) = crate::spec::spec() {
            spec.check_schema("bad_request_object", &refused.body);
        }
    }
    // Wrong JSON types and shapes are refused before validation, naming the field.
    for (impression, field) in [
        (json!({"cookie_id": 5, "offer_xid": xid}), "impression.cookie_id"),
        (json!({"cookie_id": "c", "offer_xid": 7}), "impression.offer_xid"),
        (json!({"cookie_id": "c", "offer_xid": xid, "creative_name": {}}), "impression.creative_name"),
    ] {
        let message = app.post(&acct, "/v1.0/impressions", json!({ "impression": impression })).await.error(400);
        assert!(message.starts_with(field) && message.contains("invalid type"), "{impression} -> {message}");
    }
    // An id may come as digits in a string, not as other text.
    let named = json!({"impression": {"cookie_id": "c", "offer_xid": xid, "member_id": "seven"}});
    let message = app.post(&acct, "/v1.0/impressions", named).await.error(400);
    assert!(message.starts_with("impression.member_id") && message.contains("\"seven\""), "{message}");
    for body in [json!({"impression": "c"}), json!({"impression": []}), json!({"cookie_id": "c"}), json!([1])] {
        let message = app.post(&acct, "/v1.0/impressions", body.clone()).await.error(400);
        assert!(message.contains("impression"), "{body} -> {message}");
    }
    let send = |body: &str| app.raw(Some(&acct.token), Method::POST, "/v1.0/impressions", Some(body.to_owned()));
    assert!(send("{\"impression\": {\"cookie_id\": ").await.error(400).starts_with("malformed JSON"));
    assert_eq!(send("").await.error(400), "impression is required");
    let nul = json!({"impression": {"cookie_id": "a\u{0}b", "offer_xid": xid}}).to_string();
    assert!(send(&nul).await.error(400).contains("NUL"));
    let huge = json!({"impression": {"cookie_id": "c", "offer_xid": xid, "annotations": "x".repeat(2 * 1024 * 1024)}});
    assert_eq!(send(&huge.to_string()).await.error(413), "request body too large");
    // Names that resolve to nothing: 404.
    let unknown =
        app.post(&acct, "/v1.0/impressions", json!({"impression": {"cookie_id": "c", "offer_xid": "nope123"}})).await;
    assert_eq!(unknown.error(404), "offer_xid names no offer on a channel");
    let no_member = json!({"impression": {"cookie_id": "c", "offer_xid": xid, "member_id": 8_000_000_000_000_i64}});
    assert_eq!(app.post(&acct, "/v1.0/impressions", no_member).await.error(404), "member not found");
    assert_eq!(count(&app, &acct).await, 0, "nothing written by bad requests");
}

async fn other_accounts_xids_members_and_impressions_are_not_found(app: TestApp) {
    let (owner, caller) = (app.account().await, app.account().await);
    let (their_xid, _) = offer_on_channel(&app, &owner, "Theirs").await;
    let their_member = member(&app, &owner, "theirs").await;
    let theirs = post(&app, &owner, json!({"cookie_id": "c", "offer_xid": their_xid, "member_id": their_member})).await;
    let (my_xid, _) = offer_on_channel(&app, &caller, "Mine").await;

    let foreign_xid = json!({"impression": {"cookie_id": "c", "offer_xid": their_xid}});
    assert_eq!(
        app.post(&caller, "/v1.0/impressions", foreign_xid).await.error(404),
        "offer_xid names no offer on a channel"
    );
    let foreign_member = json!({"impression": {"cookie_id": "c", "offer_xid": my_xid, "member_id": their_member}});
    assert_eq!(app.post(&caller, "/v1.0/impressions", foreign_member).await.error(404), "member not found");
    let path = format!("/v1.0/impressions/{}", theirs["id"]);
    assert_eq!(app.delete(&caller, &path).await.error(404), "impression not found");

    assert_eq!(count(&app, &caller).await, 0, "nothing written for the caller");
    let filtered = app.get(&caller, &format!("/v1.0/impressions?offer_xid={their_xid}")).await;
    assert_eq!(filtered.body["impressions"], json!([]));
    let owners = app.get(&owner, "/v1.0/impressions").await;
    assert_eq!(owners.body["impressions"], json!([{"impression": theirs}]), "the owner's impression is untouched");
}

async fn paging_and_filters(app: TestApp) {
    let acct = app.account().await;
    let (email, _) = offer_on_channel(&app, &acct, "Email").await;
    let (sms, _) = offer_on_channel(&app, &acct, "SMS").await;
    let member = member(&app, &acct, "m").await;
    let mut ids = Vec::new();
    for (cookie, xid, member) in [("a", &email, Some(member)), ("b", &sms, None), ("a", &sms, Some(member))] {
        let created = post(&app, &acct, json!({"cookie_id": cookie, "offer_xid": xid, "member_id": member})).await;
        ids.push(created["id"].as_i64().unwrap());
    }
    let page = app.get(&acct, "/v1.0/impressions?per_page=1&page=2").await;
    page.spec("get", "/v1.0/impressions");
    assert_eq!(
        (&page.body["page"], &page.body["per_page"], &page.body["total_entries"], &page.body["total_pages"]),
        (&json!(2), &json!(1), &json!(3), &json!(3))
    );
    assert_eq!(page.body["impressions"][0]["impression"]["id"], ids[1]);
    assert_eq!(page.body["impressions"].as_array().unwrap().len(), 1);
    let beyond = app.get(&acct, "/v1.0/impressions?per_page=2&page=3").await;
    assert_eq!(
        (beyond.body["total_pages"].as_i64(), beyond.body["impressions"].as_array().map(Vec::len)),
        (Some(2), Some(0))
    );
    app.get(&acct, "/v1.0/impressions?per_page=abc").await.error(400);

    let listed_ids = |r: &crate::helpers::TestResponse| -> Vec<i64> {
        r.body["impressions"].as_array().unwrap().iter().map(|i| i["impression"]["id"].as_i64().unwrap()).collect()
    };
    for (query, expected) in [
        (format!("offer_xid={sms}"), vec![ids[1], ids[2]]),
        ("cookie_id=a".to_owned(), vec![ids[0], ids[2]]),
        (format!("member_id={member}"), vec![ids[0], ids[2]]),
        (format!("member_id={member}&offer_xid={email}"), vec![ids[0]]),
        ("cookie_id=".to_owned(), ids.clone()),
        ("member_id=-1".to_owned(), vec![]),
    ] {
        let filtered = app.get(&acct, &format!("/v1.0/impressions?{query}")).await;
        filtered.spec("get", "/v1.0/impressions");
        assert_eq!(listed_ids(&filtered), expected, "{query}");
        assert_eq!(filtered.body["total_entries"], expected.len(), "{query}");
    }
    assert_eq!(app.get(&acct, "/v1.0/impressions?member_id=x").await.error(400), "member_id must be an integer");
}

/// The generic `Idempotency-Key` handling covers this POST: a retry replays the first answer.
async fn idempotency_key_replays_the_creation(app: TestApp) {
    let acct = app.account().await;
    let (xid, _) = offer_on_channel(&app, &acct, "Email").await;
    let body = json!({"impression": {"cookie_id": "c", "offer_xid": xid}}).to_string();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let r = app
            .client
            .post(format!("{}/v1.0/impressions", app.base))
            .header("X-Auth-Token", &acct.token)
            .header("Idempotency-Key", "impression-1")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        answers.push(r.json::<Value>().await.unwrap());
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(count(&app, &acct).await, 1);
}
