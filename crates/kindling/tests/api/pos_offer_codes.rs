//! The POS Offer Codes tag: read-only lists of the codes an account's offers and campaigns
//! carry. An offer's or campaign's `pos_offer_code` registers the code once per account, in
//! the write's own transaction, described by the offer's name.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp, TestResponse};
use crate::offers::offer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    offers_register_their_codes,
    campaigns_register_their_codes,
    refused_writes_register_nothing,
    other_accounts_codes_are_not_visible,
    codes_page_and_are_read_only,
    sixteen_concurrent_offers_with_one_code_make_one_row,
);

/// Every code the account lists, as `{code: description}` pairs in id order.
async fn codes(app: &TestApp, acct: &TestAccount) -> Vec<(String, String)> {
    let listed = app.get(acct, "/v1.0/pos_offer_codes?per_page=500").await;
    listed.spec("get", "/v1.0/pos_offer_codes");
    let rows = listed.body["pos_offer_codes"].as_array().unwrap();
    assert_eq!(listed.body["total_entries"], rows.len());
    rows.iter()
        .map(|r| {
            let c = &r["pos_offer_code"];
            assert_eq!(c["account_id"], acct.id);
            (c["code"].as_str().unwrap().to_owned(), c["description"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(c, d)| (c.to_string(), d.to_string())).collect()
}

async fn put_offer(app: &TestApp, acct: &TestAccount, id: i64, body: Value) -> TestResponse {
    let updated = app.put(acct, &format!("/v1.0/offers/{id}"), json!({ "offer": body })).await;
    updated.spec("put", "/v1.0/offers/{offer_id}");
    updated
}

async fn offers_register_their_codes(app: TestApp) {
    let acct = app.account().await;
    let empty = app.get(&acct, "/v1.0/pos_offer_codes.json").await;
    empty.spec("get", "/v1.0/pos_offer_codes");
    assert_eq!(
        empty.body,
        json!({"page": 1, "per_page": 50, "total_entries": 0, "total_pages": 0, "pos_offer_codes": []})
    );

    let first = offer(&app, &acct, json!({"name": "Free Fries", "pos_offer_code": "FRIES-1"})).await;
    let listed = app.get(&acct, "/v1.0/pos_offer_codes").await;
    listed.spec("get", "/v1.0/pos_offer_codes");
    let code = listed.body["pos_offer_codes"][0]["pos_offer_code"].clone();
    let id = code["id"].as_i64().unwrap();
    assert_eq!(code, json!({"id": id, "account_id": acct.id, "code": "FRIES-1", "description": "Free Fries"}));
    let shown = app.get(&acct, &format!("/v1.0/pos_offer_codes/{id}.json")).await;
    shown.spec("get", "/v1.0/pos_offer_codes/{pos_offer_code_id}");
    assert_eq!(shown.body, json!({"pos_offer_code": code, "errors": {}}));

    // A second offer with the same code: still one row, still described by the first offer.
    let second = offer(&app, &acct, json!({"name": "More Fries", "pos_offer_code": "FRIES-1"})).await;
    assert_eq!(codes(&app, &acct).await, pairs(&[("FRIES-1", "Free Fries")]));
    // Blank, null or absent codes register nothing; neither does an update that leaves the
    // code alone, nor renaming the offer (the description is the first carrier's name).
    offer(&app, &acct, json!({"name": "No code", "pos_offer_code": ""})).await;
    offer(&app, &acct, json!({"name": "Spaces", "pos_offer_code": "   "})).await;
    offer(&app, &acct, json!({"name": "Null", "pos_offer_code": null})).await;
    put_offer(&app, &acct, first, json!({"name": "Free Fries (renamed)"})).await;
    assert_eq!(codes(&app, &acct).await, pairs(&[("FRIES-1", "Free Fries")]));

    // An update with a new code registers it, described by the offer's name as written.
    let updated = put_offer(&app, &acct, second, json!({"name": "Big Fries", "pos_offer_code": "FRIES-2"})).await;
    assert_eq!(updated.body["offer"]["pos_offer_code"], "FRIES-2");
    assert_eq!(codes(&app, &acct).await, pairs(&[("FRIES-1", "Free Fries"), ("FRIES-2", "Big Fries")]));
    // Dropping the code from every offer keeps both: old receipts may still name them.
    put_offer(&app, &acct, first, json!({"pos_offer_code": null})).await;
    put_offer(&app, &acct, second, json!({"pos_offer_code": ""})).await;
    // Codes are case-sensitive and kept as given.
    put_offer(&app, &acct, second, json!({"pos_offer_code": "fries-2"})).await;
    assert_eq!(
        codes(&app, &acct).await,
        pairs(&[("FRIES-1", "Free Fries"), ("FRIES-2", "Big Fries"), ("fries-2", "Big Fries")])
    );
    // Deleting the offers keeps them too.
    for id in [first, second] {
        app.delete(&acct, &format!("/v1.0/offers/{id}")).await.error_free();
    }
    assert_eq!(codes(&app, &acct).await.len(), 3);
    let shown = app.get(&acct, &format!("/v1.0/pos_offer_codes/{id}")).await;
    assert_eq!(shown.body["pos_offer_code"], code);
}

async fn campaigns_register_their_codes(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Spring Burger", "pos_offer_code": "BURGER"})).await;
    let body = json!({"campaign": {"offer_id": id, "channel_name": "Email", "pos_offer_code": "EMAIL-BURGER"}});
    let campaign = app.post(&acct, "/v1.0/campaigns", body).await;
    campaign.spec("post", "/v1.0/campaigns");
    let campaign_id = campaign.body["campaign"]["id"].as_i64().unwrap();
    assert_eq!(codes(&app, &acct).await, pairs(&[("BURGER", "Spring Burger"), ("EMAIL-BURGER", "Spring Burger")]));

    // An adopted campaign (a second POST for the same offer and channel) and one on another
    // channel carrying a known code add nothing.
    let again = json!({"campaign": {"offer_id": id, "channel_name": "Email", "pos_offer_code": "BURGER"}});
    app.post(&acct, "/v1.0/campaigns", again).await.spec("post", "/v1.0/campaigns");
    let sms = json!({"campaign": {"offer_id": id, "channel_name": "SMS", "pos_offer_code": "EMAIL-BURGER"}});
    app.post(&acct, "/v1.0/campaigns", sms).await.spec("post", "/v1.0/campaigns");
    assert_eq!(codes(&app, &acct).await.len(), 2);

    // An update registers a new code; a blank one registers nothing.
    let path = format!("/v1.0/campaigns/{campaign_id}");
    let updated = app.put(&acct, &path, json!({"campaign": {"pos_offer_code": "APP-BURGER"}})).await;
    updated.spec("put", "/v1.0/campaigns/{campaign_id}");
    assert_eq!(updated.body["campaign"]["pos_offer_code"], "APP-BURGER");
    app.put(&acct, &path, json!({"campaign": {"pos_offer_code": " "}})).await.error_free();
    app.put(&acct, &path, json!({"campaign": {"funding_source": "merchant"}})).await.error_free();
    assert_eq!(
        codes(&app, &acct).await,
        pairs(&[("BURGER", "Spring Burger"), ("EMAIL-BURGER", "Spring Burger"), ("APP-BURGER", "Spring Burger")])
    );
}

/// A write that is refused writes no code either: the registration is part of it.
async fn refused_writes_register_nothing(app: TestApp) {
    let (acct, other) = (app.account().await, app.account().await);
    let theirs = app.post(&other, "/v1.0/merchants", json!({"merchant": {"name": "Theirs"}})).await;
    let their_merchant = theirs.body["merchant"]["id"].as_i64().unwrap();
    let refused = app
        .post(
            &acct,
            "/v1.0/offers",
            json!({"offer": {"name": "X", "pos_offer_code": "NOPE", "merchant_id": their_merchant}}),
        )
        .await;
    refused.error(400);
    let id = offer(&app, &acct, json!({"name": "Kept"})).await;
    let refused = app
        .put(&acct, &format!("/v1.0/offers/{id}"), json!({"offer": {"pos_offer_code": "NOPE", "offer_type": -1}}))
        .await;
    refused.error(400);
    let unknown =
        json!({"campaign": {"offer_id": 8_000_000_000_000_i64, "channel_name": "Email", "pos_offer_code": "NOPE"}});
    app.post(&acct, "/v1.0/campaigns", unknown).await.error(400);
    let bad = json!({"campaign": {"offer_id": id, "channel_name": "Email", "pos_offer_code": "NOPE", "code_count": "x".repeat(33)}});
    app.post(&acct, "/v1.0/campaigns", bad).await.error(400);
    let long = json!({"offer": {"pos_offer_code": "x".repeat(256)}});
    app.put(&acct, &format!("/v1.0/offers/{id}"), long).await.error(400);
    let wrong_type = json!({"offer": {"pos_offer_code": 7}});
    app.put(&acct, &format!("/v1.0/offers/{id}"), wrong_type).await.error(400);
    assert_eq!(codes(&app, &acct).await, pairs(&[]), "nothing registered");
}

/// Codes are per account: another account's are neither listed nor found, and the same code
/// string registers separately in each account.
async fn other_accounts_codes_are_not_visible(app: TestApp) {
    let (owner, caller) = (app.account().await, app.account().await);
    offer(&app, &owner, json!({"name": "Theirs", "pos_offer_code": "SHARED"})).await;
    let their = app.get(&owner, "/v1.0/pos_offer_codes").await.body["pos_offer_codes"][0]["pos_offer_code"].clone();
    let path = format!("/v1.0/pos_offer_codes/{}", their["id"]);
    assert_eq!(app.get(&caller, &path).await.error(404), "pos_offer_code not found");
    assert_eq!(codes(&app, &caller).await, pairs(&[]));

    offer(&app, &caller, json!({"name": "Mine", "pos_offer_code": "SHARED"})).await;
    assert_eq!(codes(&app, &caller).await, pairs(&[("SHARED", "Mine")]));
    assert_eq!(app.get(&caller, &path).await.error(404), "pos_offer_code not found");
    assert_eq!(codes(&app, &owner).await, pairs(&[("SHARED", "Theirs")]), "the owner's list is untouched");
    assert_eq!(app.get(&owner, &path).await.body["pos_offer_code"], their);
}

async fn codes_page_and_are_read_only(app: TestApp) {
    let acct = app.account().await;
    for code in ["A", "B", "C"] {
        offer(&app, &acct, json!({"name": format!("Offer {code}"), "pos_offer_code": code})).await;
    }
    let page = app.get(&acct, "/v1.0/pos_offer_codes?per_page=2&page=2").await;
    page.spec("get", "/v1.0/pos_offer_codes");
    assert_eq!(
        (&page.body["page"], &page.body["per_page"], &page.body["total_entries"], &page.body["total_pages"]),
        (&json!(2), &json!(2), &json!(3), &json!(2))
    );
    assert_eq!(page.body["pos_offer_codes"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["pos_offer_codes"][0]["pos_offer_code"]["code"], "C");
    for bad in ["per_page=0", "page=x"] {
        app.get(&acct, &format!("/v1.0/pos_offer_codes?{bad}")).await.error(400);
    }
    for id in ["8000000000000", "0", "abc", "99999999999999999999"] {
        let message = app.get(&acct, &format!("/v1.0/pos_offer_codes/{id}")).await.error(404);
        assert!(message == "pos_offer_code not found" || message.starts_with("Not found"), "{id}: {message}");
    }
    // The spec has no call that writes a code.
    let id = app.get(&acct, "/v1.0/pos_offer_codes").await.body["pos_offer_codes"][0]["pos_offer_code"]["id"].clone();
    let body = Some(json!({"pos_offer_code": {"code": "D"}}).to_string());
    for (method, path) in [
        (Method::POST, "/v1.0/pos_offer_codes".to_owned()),
        (Method::PUT, format!("/v1.0/pos_offer_codes/{id}")),
        (Method::DELETE, format!("/v1.0/pos_offer_codes/{id}")),
    ] {
        let r = app.raw(Some(&acct.token), method, &path, body.clone()).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{path}: {}", r.text);
    }
    assert_eq!(codes(&app, &acct).await.len(), 3);
}

/// Sixteen offers created at once with one new code: every create succeeds and the code is
/// registered once (the unique index and `ON CONFLICT DO NOTHING`, on both databases).
async fn sixteen_concurrent_offers_with_one_code_make_one_row(app: TestApp) {
    let acct = app.account().await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (client, base, token) = (app.client.clone(), app.base.clone(), acct.token.clone());
            tokio::spawn(async move {
                let body = json!({"offer": {"name": format!("Racer {i}"), "pos_offer_code": "RACE"}});
                let r = client
                    .post(format!("{base}/v1.0/offers"))
                    .header("X-Auth-Token", token)
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap();
                (r.status(), r.text().await.unwrap())
            })
        })
        .collect();
    for task in tasks {
        let (status, text) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{text}");
    }
    let listed = codes(&app, &acct).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].0, "RACE");
    assert!(listed[0].1.starts_with("Racer "), "described by the offer that registered it: {listed:?}");
    let rows = "SELECT COUNT(*) FROM pos_offer_codes WHERE account_id = $1";
    assert_eq!(app.db.fetch_optional::<i64>(rows, &[acct.id.into()]).await.unwrap(), Some(1));
    let offers = app.get(&acct, "/v1.0/offers").await;
    assert_eq!(offers.body["total_entries"], 16);
}
