//! Manufacturers, items and item sets at account, merchant and manufacturer scope.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use crate::merchants::merchant;
use serde_json::{json, Value};

backend_tests!(
    manufacturer_crud_and_merchants,
    manufacturer_redemption_identifier_type_is_a_string,
    items_at_every_scope,
    item_search_and_validation,
    item_sets_and_membership,
    item_set_integrity,
);

async fn manufacturer(app: &TestApp, acct: &TestAccount, name: &str) -> i64 {
    let created = app.post(acct, "/v1.0/manufacturers", json!({"manufacturer": {"name": name}})).await;
    created.spec("post", "/v1.0/manufacturers");
    created.body["manufacturer"]["id"].as_i64().unwrap()
}

async fn item(app: &TestApp, acct: &TestAccount, base: &str, name: &str, code: &str) -> i64 {
    let created = app.post(acct, base, json!({"item": {"name": name, "code": code}})).await;
    let template = match base.split('/').nth(2) {
        Some("merchants") => "/v1.0/merchants/{merchant_id}/items",
        Some("manufacturers") => "/v1.0/manufacturers/{manufacturer_id}/items",
        _ => "/v1.0/items",
    };
    created.spec("post", template);
    created.body["item"]["id"].as_i64().unwrap()
}

fn ids(body: &Value, key: &str, singular: &str) -> Vec<i64> {
    body[key].as_array().unwrap().iter().map(|r| r[singular]["id"].as_i64().unwrap()).collect()
}

async fn manufacturer_crud_and_merchants(app: TestApp) {
    let acct = app.account().await;
    let body = json!({"manufacturer": {"name": "Acme Foods", "description": "Snacks", "redemption_identifier_type": "1",
        "billing_arrangement": "net30", "primary": {"email": "acme@example.com"}}});
    let created = app.post(&acct, "/v1.0/manufacturers", body).await;
    created.spec("post", "/v1.0/manufacturers");
    let m = &created.body["manufacturer"];
    let id = m["id"].as_i64().unwrap();
    assert_eq!(
        (m["name"].as_str(), m["description"].as_str(), m["is_active"].as_bool()),
        (Some("Acme Foods"), Some("Snacks"), Some(true))
    );
    assert_eq!(m["contacts"]["primary"]["email"], "acme@example.com");
    assert_eq!(m["redemption_identifier_type"], "1", "kept as the string given");
    assert_eq!((m["merchant_ids"].clone(), m["merchants"].clone()), (json!([]), json!([])));
    let path = format!("/v1.0/manufacturers/{id}");
    app.get(&acct, &path).await.spec("get", "/v1.0/manufacturers/{manufacturer_id}");
    let updated = app.put(&acct, &path, json!({"manufacturer": {"is_active": false}})).await;
    updated.spec("put", "/v1.0/manufacturers/{manufacturer_id}");
    assert_eq!(
        (updated.body["manufacturer"]["is_active"].as_bool(), updated.body["manufacturer"]["name"].as_str()),
        (Some(false), Some("Acme Foods"))
    );
    app.get(&acct, "/v1.0/manufacturers").await.spec("get", "/v1.0/manufacturers");

    let (q, r) = (merchant(&app, &acct, "Q").await, merchant(&app, &acct, "R").await);
    let links = format!("{path}/merchants");
    let set = app.post(&acct, &links, json!({"manufacturer": {"merchant_ids": [q]}})).await;
    set.spec("post", "/v1.0/manufacturers/{manufacturer_id}/merchants");
    assert_eq!(set.body["manufacturer"], json!({"id": id, "merchant_ids": [q]}));
    let added = app.put(&acct, &links, json!({"manufacturer": {"merchant_ids": [r]}})).await;
    added.spec("put", "/v1.0/manufacturers/{manufacturer_id}/merchants");
    assert_eq!(added.body["manufacturer"]["merchant_ids"], json!([q, r]));
    let shown = app.get(&acct, &links).await;
    shown.spec("get", "/v1.0/manufacturers/{manufacturer_id}/merchants");
    let full = app.get(&acct, &path).await;
    full.spec("get", "/v1.0/manufacturers/{manufacturer_id}");
    assert_eq!(full.body["manufacturer"]["merchant_ids"], json!([q, r]));
    assert_eq!(
        full.body["manufacturer"]["merchants"][1]["merchant"]["name"], "R",
        "merchants embedded as merchant_response"
    );
    let removed = app
        .raw(
            Some(&acct.token),
            reqwest::Method::DELETE,
            &links,
            Some(json!({"manufacturer": {"merchant_ids": [q]}}).to_string()),
        )
        .await;
    removed.spec("delete", "/v1.0/manufacturers/{manufacturer_id}/merchants");
    assert_eq!(removed.body["manufacturer"]["merchant_ids"], json!([r]));
    let other = app.account().await;
    let foreign = merchant(&app, &other, "Foreign").await;
    app.put(&acct, &links, json!({"manufacturer": {"merchant_ids": [foreign]}})).await.error(400);
    app.get(&other, &links).await.error(404);
    app.get(&other, &path).await.error(404);
    // Deleting a linked merchant just unlinks it.
    app.delete(&acct, &format!("/v1.0/merchants/{r}")).await.error_free();
    assert_eq!(app.get(&acct, &links).await.body["manufacturer"]["merchant_ids"], json!([]));

    // A manufacturer with items cannot be deleted until they are gone.
    let it = item(&app, &acct, &format!("{path}/items"), "Chips", "C1").await;
    assert!(app.delete(&acct, &path).await.error(409).contains("items"));
    app.delete(&acct, &format!("{path}/items/{it}"))
        .await
        .spec("delete", "/v1.0/manufacturers/{manufacturer_id}/items/{item_id}");
    app.delete(&acct, &path).await.spec("delete", "/v1.0/manufacturers/{manufacturer_id}");
    let too_long = "x".repeat(256);
    for body in
        [json!({"manufacturer": {}}), json!({"manufacturer": {"name": "x", "redemption_identifier_type": too_long}})]
    {
        app.post(&acct, "/v1.0/manufacturers", body).await.error(400);
    }
}

async fn items_at_every_scope(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q").await;
    let x = manufacturer(&app, &acct, "Acme").await;
    let account_item = item(&app, &acct, "/v1.0/items", "Napkin", "N1").await;
    let merchant_item = item(&app, &acct, &format!("/v1.0/merchants/{m}/items"), "Burger", "B1").await;
    let maker_item = item(&app, &acct, &format!("/v1.0/manufacturers/{x}/items"), "Chips", "C1").await;

    let r = app.get(&acct, &format!("/v1.0/items/{account_item}")).await;
    r.spec("get", "/v1.0/items/{item_id}");
    assert_eq!(
        r.body["item"],
        json!({"id": account_item, "name": "Napkin", "code": "N1", "merchant_id": null, "manufacturer_id": null})
    );
    let r = app.get(&acct, &format!("/v1.0/merchants/{m}/items/{merchant_item}")).await;
    r.spec("get", "/v1.0/merchants/{merchant_id}/items/{item_id}");
    assert_eq!(r.body["item"]["merchant_id"], m);
    let r = app.get(&acct, &format!("/v1.0/manufacturers/{x}/items/{maker_item}")).await;
    r.spec("get", "/v1.0/manufacturers/{manufacturer_id}/items/{item_id}");
    assert_eq!(r.body["item"]["manufacturer_id"], x);

    // The account sees every item; a scope sees only its own.
    let all = app.get(&acct, "/v1.0/items").await;
    all.spec("get", "/v1.0/items");
    assert_eq!(ids(&all.body, "stores", "item"), [account_item, merchant_item, maker_item], "spec list key `stores`");
    assert_eq!(all.body["items"], all.body["stores"]);
    let mine = app.get(&acct, &format!("/v1.0/merchants/{m}/items")).await;
    mine.spec("get", "/v1.0/merchants/{merchant_id}/items");
    assert_eq!(ids(&mine.body, "stores", "item"), [merchant_item]);
    let makers = app.get(&acct, &format!("/v1.0/manufacturers/{x}/items")).await;
    makers.spec("get", "/v1.0/manufacturers/{manufacturer_id}/items");
    assert_eq!(ids(&makers.body, "stores", "item"), [maker_item]);
    app.get(&acct, &format!("/v1.0/merchants/{m}/items/{maker_item}")).await.error(404);
    app.get(&acct, &format!("/v1.0/manufacturers/{x}/items/{merchant_item}")).await.error(404);

    let updated = app
        .put(&acct, &format!("/v1.0/merchants/{m}/items/{merchant_item}"), json!({"item": {"name": "Cheeseburger"}}))
        .await;
    updated.spec("put", "/v1.0/merchants/{merchant_id}/items/{item_id}");
    assert_eq!(
        (updated.body["item"]["name"].as_str(), updated.body["item"]["code"].as_str()),
        (Some("Cheeseburger"), Some("B1"))
    );
    app.put(&acct, &format!("/v1.0/manufacturers/{x}/items/{maker_item}"), json!({"item": {"code": "C2"}}))
        .await
        .spec("put", "/v1.0/manufacturers/{manufacturer_id}/items/{item_id}");
    app.put(&acct, &format!("/v1.0/items/{account_item}"), json!({"item": {"code": "N2"}}))
        .await
        .spec("put", "/v1.0/items/{item_id}");
    app.delete(&acct, &format!("/v1.0/merchants/{m}/items/{maker_item}")).await.error(404);
    app.delete(&acct, &format!("/v1.0/merchants/{m}/items/{merchant_item}"))
        .await
        .spec("delete", "/v1.0/merchants/{merchant_id}/items/{item_id}");
    app.delete(&acct, &format!("/v1.0/items/{account_item}")).await.spec("delete", "/v1.0/items/{item_id}");
    assert_eq!(ids(&app.get(&acct, "/v1.0/items").await.body, "items", "item"), [maker_item]);

    let other = app.account().await;
    app.get(&other, &format!("/v1.0/items/{maker_item}")).await.error(404);
    app.get(&other, &format!("/v1.0/manufacturers/{x}/items")).await.error(404);
    app.post(&other, &format!("/v1.0/merchants/{m}/items"), json!({"item": {"name": "a", "code": "b"}}))
        .await
        .error(404);
}

async fn item_search_and_validation(app: TestApp) {
    let acct = app.account().await;
    item(&app, &acct, "/v1.0/items", "Medium Fries", "F-M").await;
    item(&app, &acct, "/v1.0/items", "Large Fries", "F-L").await;
    item(&app, &acct, "/v1.0/items", "Burger", "B").await;
    let by_name = app.get(&acct, "/v1.0/items?name=FRIES").await;
    by_name.spec("get", "/v1.0/items");
    assert_eq!(by_name.body["total_entries"], 2);
    let by_code = app.get(&acct, "/v1.0/items.json?code=F-L").await;
    assert_eq!(by_code.body["items"][0]["item"]["name"], "Large Fries");
    assert_eq!(app.get(&acct, "/v1.0/items?code=F").await.body["total_entries"], 0, "code matches exactly");
    assert_eq!(app.get(&acct, "/v1.0/items?name=fries&code=F-M").await.body["total_entries"], 1);

    for (body, fields) in [
        (json!({"item": {}}), vec!["name", "code"]),
        (json!({"item": {"name": "x"}}), vec!["code"]),
        (json!({"item": {"code": "x"}}), vec!["name"]),
        (json!({"item": {"name": "x", "code": " "}}), vec!["code"]),
    ] {
        let r = app.post(&acct, "/v1.0/items", body.clone()).await;
        r.error(400);
        for field in fields {
            assert!(r.body["errors"][field].is_string(), "{body}: {}", r.text);
        }
    }
    app.post(&acct, "/v1.0/items", json!({"item": {"name": "x", "code": ["1"]}})).await.error(400);
    // A numeric code is taken as text (POS codes are strings).
    let numeric = app.post(&acct, "/v1.0/items", json!({"item": {"name": "Soda", "code": 42}})).await;
    numeric.spec("post", "/v1.0/items");
    assert_eq!(numeric.body["item"]["code"], "42");
    assert_eq!(app.get(&acct, "/v1.0/items").await.body["total_entries"], 4);
}

async fn item_sets_and_membership(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q").await;
    let x = manufacturer(&app, &acct, "Acme").await;
    let base = format!("/v1.0/merchants/{m}");
    let (fries, shake) = (
        item(&app, &acct, &format!("{base}/items"), "Fries", "F").await,
        item(&app, &acct, &format!("{base}/items"), "Shake", "S").await,
    );

    let created = app
        .post(
            &acct,
            &format!("{base}/item_sets"),
            json!({"item_set": {"name": "Sides", "item_ids": [shake, fries], "set_type": 1}}),
        )
        .await;
    created.spec("post", "/v1.0/merchants/{merchant_id}/item_sets");
    let set = &created.body["item_set"];
    let id = set["id"].as_i64().unwrap();
    assert_eq!(set["merchant_id"], m);
    assert_eq!(set["item_ids"], json!([fries, shake]));
    assert_eq!(set["set_type"], 1);
    let shown = app.get(&acct, &format!("{base}/item_sets/{id}")).await;
    shown.spec("get", "/v1.0/merchants/{merchant_id}/item_sets/{item_set_id}");
    let members = app.get(&acct, &format!("{base}/item_sets/{id}/items")).await;
    members.spec("get", "/v1.0/merchants/{merchant_id}/item_sets/{item_set_id}/items");
    assert_eq!(ids(&members.body, "stores", "item"), [fries, shake]);
    let same = app.get(&acct, &format!("/v1.0/item_sets/{id}/items")).await;
    same.spec("get", "/v1.0/item_sets/{item_set_id}/items");
    assert_eq!(same.body["items"], members.body["items"]);

    let updated = app.put(&acct, &format!("{base}/item_sets/{id}"), json!({"item_set": {"item_ids": [shake]}})).await;
    updated.spec("put", "/v1.0/merchants/{merchant_id}/item_sets/{item_set_id}");
    assert_eq!(updated.body["item_set"]["item_ids"], json!([shake]), "PUT item_ids replaces membership");
    assert_eq!(updated.body["item_set"]["name"], "Sides");
    let renamed = app.put(&acct, &format!("/v1.0/item_sets/{id}"), json!({"item_set": {"name": "Drinks"}})).await;
    renamed.spec("put", "/v1.0/item_sets/{item_set_id}");
    assert_eq!(renamed.body["item_set"]["item_ids"], json!([shake]), "membership kept when item_ids absent");
    app.get(&acct, &format!("{base}/item_sets")).await.spec("get", "/v1.0/merchants/{merchant_id}/item_sets");
    app.get(&acct, "/v1.0/item_sets").await.spec("get", "/v1.0/item_sets");

    // A manufacturer's set, and an account-wide set naming its manufacturer in the body.
    let chips = item(&app, &acct, &format!("/v1.0/manufacturers/{x}/items"), "Chips", "C").await;
    let maker_set = app
        .post(
            &acct,
            &format!("/v1.0/manufacturers/{x}/item_sets"),
            json!({"item_set": {"name": "Snacks", "item_ids": [chips]}}),
        )
        .await;
    maker_set.spec("post", "/v1.0/manufacturers/{manufacturer_id}/item_sets");
    assert_eq!(maker_set.body["item_set"]["manufacturer_name"], "Acme");
    let maker_set_id = maker_set.body["item_set"]["id"].as_i64().unwrap();
    let p = format!("/v1.0/manufacturers/{x}/item_sets/{maker_set_id}");
    app.get(&acct, &p).await.spec("get", "/v1.0/manufacturers/{manufacturer_id}/item_sets/{item_set_id}");
    app.get(&acct, &format!("{p}/items"))
        .await
        .spec("get", "/v1.0/manufacturers/{manufacturer_id}/item_sets/{item_set_id}/items");
    app.put(&acct, &p, json!({"item_set": {"set_type": 2}}))
        .await
        .spec("put", "/v1.0/manufacturers/{manufacturer_id}/item_sets/{item_set_id}");
    app.get(&acct, &format!("/v1.0/manufacturers/{x}/item_sets"))
        .await
        .spec("get", "/v1.0/manufacturers/{manufacturer_id}/item_sets");
    let account_set = app
        .post(&acct, "/v1.0/item_sets", json!({"item_set": {"name": "Any", "manufacturer_id": x, "item_ids": [chips]}}))
        .await;
    account_set.spec("post", "/v1.0/item_sets");
    assert_eq!(account_set.body["item_set"]["manufacturer_id"], x);
    assert_eq!(account_set.body["item_set"]["merchant_id"], json!(null));
    let account_set_id = account_set.body["item_set"]["id"].as_i64().unwrap();
    app.get(&acct, &format!("/v1.0/item_sets/{account_set_id}")).await.spec("get", "/v1.0/item_sets/{item_set_id}");

    // Deleting an item takes it out of its sets; deleting sets.
    app.delete(&acct, &format!("{base}/items/{shake}")).await.error_free();
    assert_eq!(app.get(&acct, &format!("/v1.0/item_sets/{id}")).await.body["item_set"]["item_ids"], json!([]));
    app.delete(&acct, &format!("{base}/item_sets/{id}"))
        .await
        .spec("delete", "/v1.0/merchants/{merchant_id}/item_sets/{item_set_id}");
    app.delete(&acct, &p).await.spec("delete", "/v1.0/manufacturers/{manufacturer_id}/item_sets/{item_set_id}");
    app.delete(&acct, &format!("/v1.0/item_sets/{account_set_id}"))
        .await
        .spec("delete", "/v1.0/item_sets/{item_set_id}");
    assert_eq!(app.get(&acct, "/v1.0/item_sets").await.body["total_entries"], 0);
}

async fn item_set_integrity(app: TestApp) {
    let acct = app.account().await;
    let (m1, m2) = (merchant(&app, &acct, "One").await, merchant(&app, &acct, "Two").await);
    let theirs = item(&app, &acct, &format!("/v1.0/merchants/{m2}/items"), "Theirs", "T").await;
    let loose = item(&app, &acct, "/v1.0/items", "Loose", "L").await;
    let base = format!("/v1.0/merchants/{m1}/item_sets");
    // A merchant's set only holds that merchant's items.
    for ids in [json!([theirs]), json!([loose]), json!([99999999])] {
        let r = app.post(&acct, &base, json!({"item_set": {"name": "S", "item_ids": ids}})).await;
        r.error(400);
        assert!(r.body["errors"]["item_ids"].is_string());
    }
    assert_eq!(app.get(&acct, &base).await.body["total_entries"], 0, "failed create leaves no set behind");
    // The account-wide set may hold any of the account's items, but not another account's.
    let any =
        app.post(&acct, "/v1.0/item_sets", json!({"item_set": {"name": "Any", "item_ids": [theirs, loose]}})).await;
    any.spec("post", "/v1.0/item_sets");
    let other = app.account().await;
    let foreign = item(&app, &other, "/v1.0/items", "Foreign", "F").await;
    let any_id = any.body["item_set"]["id"].as_i64().unwrap();
    app.put(&acct, &format!("/v1.0/item_sets/{any_id}"), json!({"item_set": {"item_ids": [foreign]}})).await.error(400);
    assert_eq!(
        app.get(&acct, &format!("/v1.0/item_sets/{any_id}")).await.body["item_set"]["item_ids"],
        json!([theirs, loose])
    );
    // Body references must exist in the account.
    let unknown = app.post(&acct, "/v1.0/item_sets", json!({"item_set": {"name": "X", "merchant_id": 99999999}})).await;
    unknown.error(400);
    assert!(unknown.body["errors"]["merchant_id"].is_string());
    let foreign_merchant = merchant(&app, &other, "Foreign").await;
    app.post(&acct, "/v1.0/item_sets", json!({"item_set": {"name": "X", "merchant_id": foreign_merchant}}))
        .await
        .error(400);
    for body in [
        json!({"item_set": {}}),
        json!({"item_set": {"name": "x", "item_ids": "1,2"}}),
        json!({"item_set": {"name": "x", "set_type": -1}}),
        json!({"item_set": {"name": "x", "merchant_id": "one"}}),
    ] {
        app.post(&acct, "/v1.0/item_sets", body).await.error(400);
    }
    app.get(&other, &format!("/v1.0/item_sets/{any_id}")).await.error(404);
    app.get(&other, &format!("/v1.0/item_sets/{any_id}/items")).await.error(404);
    app.get(&acct, &format!("/v1.0/merchants/{m1}/item_sets/{any_id}")).await.error(404);
    app.get(&acct, &format!("/v1.0/merchants/{m1}/item_sets/{any_id}/items")).await.error(404);
}

/// The spec types a manufacturer's `redemption_identifier_type` as a nullable string: any
/// string, `""` and `null` are kept as given (it was refused unless it parsed as 0 or 1).
async fn manufacturer_redemption_identifier_type_is_a_string(app: TestApp) {
    let acct = app.account().await;
    let created = app
        .post(
            &acct,
            "/v1.0/manufacturers",
            json!({"manufacturer": {"name": "Upc Co", "redemption_identifier_type": "upc"}}),
        )
        .await;
    created.spec("post", "/v1.0/manufacturers");
    assert_eq!(created.body["manufacturer"]["redemption_identifier_type"], "upc");
    let path = format!("/v1.0/manufacturers/{}", created.body["manufacturer"]["id"]);
    for (given, stored) in [
        (json!(""), json!("")),
        (json!("Ünïcode ✓ 条码"), json!("Ünïcode ✓ 条码")),
        (json!(null), json!(null)),
        (json!(7), json!("7")),
    ] {
        let updated = app.put(&acct, &path, json!({"manufacturer": {"redemption_identifier_type": given}})).await;
        updated.spec("put", "/v1.0/manufacturers/{manufacturer_id}");
        assert_eq!(updated.body["manufacturer"]["redemption_identifier_type"], stored);
        let shown = app.get(&acct, &path).await;
        shown.spec("get", "/v1.0/manufacturers/{manufacturer_id}");
        assert_eq!(shown.body["manufacturer"]["redemption_identifier_type"], stored);
    }
    let kept = app.put(&acct, &path, json!({"manufacturer": {"is_active": false}})).await;
    assert_eq!(kept.body["manufacturer"]["redemption_identifier_type"], "7", "absent keeps the stored value");
    let bare = app.post(&acct, "/v1.0/manufacturers", json!({"manufacturer": {"name": "Bare"}})).await;
    bare.spec("post", "/v1.0/manufacturers");
    assert_eq!(bare.body["manufacturer"]["redemption_identifier_type"], json!(null));
    app.get(&acct, "/v1.0/manufacturers").await.spec("get", "/v1.0/manufacturers");
}
