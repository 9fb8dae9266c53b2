//! Merchants (and their refusal to be deleted while stores, lists or items hang off them).

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use serde_json::{json, Value};

backend_tests!(merchant_crud, merchant_validation_and_isolation, merchant_delete_refused_while_in_use);

pub async fn merchant(app: &TestApp, acct: &TestAccount, name: &str) -> i64 {
    let created = app.post(acct, "/v1.0/merchants", json!({"merchant": {"name": name}})).await;
    created.spec("post", "/v1.0/merchants");
    created.body["merchant"]["id"].as_i64().unwrap()
}

async fn merchant_crud(app: TestApp) {
    let acct = app.account().await;
    let body = json!({"merchant": {
        "name": "Q Burger", "logo": "https://cdn.example.com/q.png", "billing_arrangement": "monthly",
        "supports_barcode": true, "redemption_identifier_type": 1,
        "primary": {"name": "Pat", "phone": "555-0100", "email": "pat@example.com"},
        "secondary": {"name": "Sam"}
    }});
    let created = app.post(&acct, "/v1.0/merchants.json", body).await;
    created.spec("post", "/v1.0/merchants");
    let m = &created.body["merchant"];
    let id = m["id"].as_i64().unwrap();
    assert_eq!(m["name"], "Q Burger");
    assert_eq!(m["is_active"], true, "active by default");
    assert_eq!(m["supports_barcode"], true);
    assert_eq!(m["redemption_identifier_type"], 1);
    assert_eq!(m["account_id"], acct.id);
    assert_eq!(m["contacts"]["primary"], json!({"name": "Pat", "phone": "555-0100", "email": "pat@example.com"}));
    assert_eq!(m["contacts"]["secondary"]["name"], "Sam");
    assert_eq!(m["channels"], json!([]));
    assert!(m["location"].is_object());
    assert_eq!(created.headers["location"], format!("/v1.0/merchants/{id}").as_str());

    let path = format!("/v1.0/merchants/{id}");
    let shown = app.get(&acct, &path).await;
    shown.spec("get", "/v1.0/merchants/{merchant_id}");
    assert_eq!(&shown.body["merchant"], m);

    let updated =
        app.put(&acct, &path, json!({"merchant": {"is_active": false, "redemption_identifier_type": "0"}})).await;
    updated.spec("put", "/v1.0/merchants/{merchant_id}");
    assert_eq!(updated.body["merchant"]["is_active"], false);
    assert_eq!(updated.body["merchant"]["redemption_identifier_type"], 0);
    assert_eq!(updated.body["merchant"]["name"], "Q Burger", "partial update");
    assert_eq!(updated.body["merchant"]["contacts"], m["contacts"]);

    merchant(&app, &acct, "Second").await;
    let listed = app.get(&acct, "/v1.0/merchants").await;
    listed.spec("get", "/v1.0/merchants");
    assert_eq!(listed.body["total_entries"], 2);
    assert_eq!(listed.body["merchants"][0]["merchant"]["id"], id);

    app.delete(&acct, &path).await.spec("delete", "/v1.0/merchants/{merchant_id}");
    app.get(&acct, &path).await.error(404);
    assert_eq!(app.get(&acct, "/v1.0/merchants").await.body["total_entries"], 1);
}

async fn merchant_validation_and_isolation(app: TestApp) {
    let acct = app.account().await;
    for (body, field) in [
        (json!({"merchant": {}}), "name"),
        (json!({"merchant": {"name": " "}}), "name"),
        (json!({"merchant": {"name": "x", "redemption_identifier_type": 9}}), "redemption_identifier_type"),
        (json!({"merchant": {"name": "x", "primary": {"email": "e".repeat(300)}}}), "primary.email"),
    ] {
        let r = app.post(&acct, "/v1.0/merchants", body.clone()).await;
        r.error(400);
        assert!(r.body["errors"][field].is_string(), "{body}: {}", r.text);
    }
    for body in [
        json!({"merchant": {"name": 5}}),
        json!({"merchant": {"name": "x", "is_active": "yes"}}),
        json!({"merchant": {"name": "x", "primary": "Pat"}}),
        json!({"merchant": {"name": "x", "redemption_identifier_type": "one"}}),
        json!({"merchants": {"name": "x"}}),
    ] {
        app.post(&acct, "/v1.0/merchants", body).await.error(400);
    }
    assert_eq!(app.get(&acct, "/v1.0/merchants").await.body["total_entries"], 0, "nothing written");

    let id = merchant(&app, &acct, "Mine").await;
    let other = app.account().await;
    let path = format!("/v1.0/merchants/{id}");
    app.get(&other, &path).await.error(404);
    app.put(&other, &path, json!({"merchant": {"name": "Stolen"}})).await.error(404);
    app.delete(&other, &path).await.error(404);
    assert_eq!(app.get(&other, "/v1.0/merchants").await.body["total_entries"], 0);
    assert_eq!(app.get(&acct, &path).await.body["merchant"]["name"], "Mine");
    app.get(&acct, "/v1.0/merchants/999999999").await.error(404);
    app.put(&acct, &path, json!({"merchant": {"name": ""}})).await.error(400);
}

async fn merchant_delete_refused_while_in_use(app: TestApp) {
    let acct = app.account().await;
    let id = merchant(&app, &acct, "Busy").await;
    let path = format!("/v1.0/merchants/{id}");
    let store = app.post(&acct, &format!("{path}/stores"), json!({"store": {"name": "Main St"}})).await;
    let store_id = store.body["store"]["id"].as_i64().unwrap();
    let refused = app.delete(&acct, &path).await;
    assert!(refused.error(409).contains("still has stores"), "{}", refused.text);
    app.delete(&acct, &format!("{path}/stores/{store_id}")).await.error_free();

    let cases: [(&str, Value); 3] = [
        ("store_lists", json!({"store_list": {"name": "L"}})),
        ("items", json!({"item": {"name": "Fries", "code": "F1"}})),
        ("item_sets", json!({"item_set": {"name": "Sides"}})),
    ];
    for (kind, body) in cases {
        let key = kind.trim_end_matches('s');
        let child = app.post(&acct, &format!("{path}/{kind}"), body).await;
        let child_id = child.body[key]["id"].as_i64().unwrap_or_else(|| panic!("{}", child.text));
        app.delete(&acct, &path).await.error(409);
        app.delete(&acct, &format!("{path}/{kind}/{child_id}")).await.error_free();
    }
    app.delete(&acct, &path).await.spec("delete", "/v1.0/merchants/{merchant_id}");
}
