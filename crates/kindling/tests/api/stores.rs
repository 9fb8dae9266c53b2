//! A merchant's stores and store lists, and the store-list membership link set.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use crate::merchants::merchant;
use serde_json::json;

backend_tests!(
    store_crud,
    store_scoping_and_validation,
    store_list_crud_and_membership,
    store_list_integrity,
    store_list_of_the_most_ids_a_request_may_name
);

async fn store(app: &TestApp, acct: &TestAccount, merchant: i64, name: &str) -> i64 {
    let created = app.post(acct, &format!("/v1.0/merchants/{merchant}/stores"), json!({"store": {"name": name}})).await;
    created.spec("post", "/v1.0/merchants/{merchant_id}/stores");
    created.body["store"]["id"].as_i64().unwrap()
}

async fn store_crud(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let base = format!("/v1.0/merchants/{m}/stores");
    let body = json!({"store": {
        "name": "Downtown", "description": "Corner shop", "number": "0042", "phone": "555-0101", "site_id": "S-42",
        "location": {"address": "1 Main St", "city": "Denver", "state": "CO", "zip": 80202, "country": "US", "lat": 39.7392, "lng": "-104.9903"},
        "primary": {"name": "Lee"}
    }});
    let created = app.post(&acct, &format!("{base}.json"), body).await;
    created.spec("post", "/v1.0/merchants/{merchant_id}/stores");
    let s = &created.body["store"];
    let id = s["id"].as_i64().unwrap();
    assert_eq!(s["merchant_id"], m);
    assert_eq!(s["is_active"], true);
    assert_eq!(s["location"]["lat"], "39.7392", "coordinates are strings");
    assert_eq!(s["location"]["lng"], "-104.9903");
    assert_eq!(s["location"]["zip"], "80202");
    assert_eq!(s["contacts"]["primary"]["name"], "Lee");
    assert_eq!(s["nearby"], json!(null));

    let scoped = app.get(&acct, &format!("{base}/{id}")).await;
    scoped.spec("get", "/v1.0/merchants/{merchant_id}/stores/{store_id}");
    assert_eq!(&scoped.body["store"], s);
    let direct = app.get(&acct, &format!("/v1.0/merchants/stores/{id}.json")).await;
    direct.spec("get", "/v1.0/merchants/stores/{store_id}");
    assert_eq!(&direct.body["store"], s);

    let updated = app
        .put(&acct, &format!("{base}/{id}"), json!({"store": {"is_active": false, "location": {"city": "Boulder"}}}))
        .await;
    updated.spec("put", "/v1.0/merchants/{merchant_id}/stores/{store_id}");
    assert_eq!(updated.body["store"]["is_active"], false);
    assert_eq!(updated.body["store"]["location"]["city"], "Boulder");
    assert_eq!(updated.body["store"]["location"]["address"], "1 Main St", "partial location update");
    assert_eq!(updated.body["store"]["name"], "Downtown");

    store(&app, &acct, m, "Uptown").await;
    let all = app.get(&acct, &base).await;
    all.spec("get", "/v1.0/merchants/{merchant_id}/stores");
    assert_eq!(all.body["total_entries"], 2);
    let named = app.get(&acct, &format!("{base}?name=uPtO")).await;
    named.spec("get", "/v1.0/merchants/{merchant_id}/stores");
    assert_eq!(named.body["total_entries"], 1);
    assert_eq!(named.body["stores"][0]["store"]["name"], "Uptown");
    assert_eq!(app.get(&acct, &format!("{base}?name=%25")).await.body["total_entries"], 0, "wildcards are literal");

    app.delete(&acct, &format!("{base}/{id}")).await.spec("delete", "/v1.0/merchants/{merchant_id}/stores/{store_id}");
    app.get(&acct, &format!("/v1.0/merchants/stores/{id}")).await.error(404);
}

async fn store_scoping_and_validation(app: TestApp) {
    let acct = app.account().await;
    let (m1, m2) = (merchant(&app, &acct, "One").await, merchant(&app, &acct, "Two").await);
    let s1 = store(&app, &acct, m1, "One's store").await;
    // Through the wrong merchant the store does not exist.
    app.get(&acct, &format!("/v1.0/merchants/{m2}/stores/{s1}")).await.error(404);
    app.put(&acct, &format!("/v1.0/merchants/{m2}/stores/{s1}"), json!({"store": {"name": "x"}})).await.error(404);
    app.delete(&acct, &format!("/v1.0/merchants/{m2}/stores/{s1}")).await.error(404);
    // Another account sees neither the merchant nor the store.
    let other = app.account().await;
    assert_eq!(app.get(&other, &format!("/v1.0/merchants/{m1}/stores")).await.error(404), "merchant not found");
    app.post(&other, &format!("/v1.0/merchants/{m1}/stores"), json!({"store": {"name": "x"}})).await.error(404);
    app.get(&other, &format!("/v1.0/merchants/stores/{s1}")).await.error(404);
    app.get(&acct, "/v1.0/merchants/99999999/stores").await.error(404);

    let base = format!("/v1.0/merchants/{m1}/stores");
    for (body, field) in [
        (json!({"store": {}}), "name"),
        (json!({"store": {"name": "x", "location": {"lat": 91}}}), "location.lat"),
        (json!({"store": {"name": "x", "location": {"lng": -181}}}), "location.lng"),
    ] {
        let r = app.post(&acct, &base, body.clone()).await;
        r.error(400);
        assert!(r.body["errors"][field].is_string(), "{body}: {}", r.text);
    }
    for body in [
        json!({"store": {"name": "x", "location": {"lat": "north"}}}),
        json!({"store": {"name": "x", "is_active": 1}}),
        json!({"store": {"name": ["x"]}}),
        json!({"store": {"name": "x", "location": "Denver"}}),
    ] {
        app.post(&acct, &base, body).await.error(400);
    }
    // site_id is unique per account, number per merchant.
    app.post(&acct, &base, json!({"store": {"name": "A", "site_id": "S1", "number": "1"}})).await.error_free();
    let dup_site = app
        .post(&acct, &format!("/v1.0/merchants/{m2}/stores"), json!({"store": {"name": "B", "site_id": "S1"}}))
        .await;
    dup_site.error(400);
    assert_eq!(dup_site.body["errors"]["site_id"], "has already been taken");
    let dup_number = app.post(&acct, &base, json!({"store": {"name": "C", "number": "1"}})).await;
    dup_number.error(400);
    assert_eq!(dup_number.body["errors"]["number"], "has already been taken");
    app.post(&acct, &format!("/v1.0/merchants/{m2}/stores"), json!({"store": {"name": "D", "number": "1"}}))
        .await
        .error_free();
    assert_eq!(app.get(&acct, &base).await.body["total_entries"], 2, "nothing half-written");
}

async fn store_list_crud_and_membership(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let (s1, s2, s3) = (
        store(&app, &acct, m, "Alpha").await,
        store(&app, &acct, m, "Beta").await,
        store(&app, &acct, m, "Gamma").await,
    );
    let base = format!("/v1.0/merchants/{m}/store_lists");
    let created = app.post(&acct, &base, json!({"store_list": {"name": "Colorado"}})).await;
    created.spec("post", "/v1.0/merchants/{merchant_id}/store_lists");
    let list = created.body["store_list"]["id"].as_i64().unwrap();
    assert_eq!(created.body["store_list"], json!({"id": list, "name": "Colorado", "merchant_id": m, "store_ids": []}));

    let members = format!("/v1.0/merchants/store_lists/{list}/stores");
    let set = app.post(&acct, &format!("{members}.json"), json!({"store_list": {"store_ids": [s2, s1, s1]}})).await;
    set.spec("post", "/v1.0/merchants/store_lists/{store_list_id}/stores");
    assert_eq!(set.body, json!({"id": list, "store_ids": [s1, s2]}));
    let added = app.put(&acct, &members, json!({"store_list": {"store_ids": [s3]}})).await;
    added.spec("put", "/v1.0/merchants/store_lists/{store_list_id}/stores");
    assert_eq!(added.body["store_ids"], json!([s1, s2, s3]));
    let removed = app
        .raw(
            Some(&acct.token),
            reqwest::Method::DELETE,
            &members,
            Some(json!({"store_list": {"store_ids": [s1]}}).to_string()),
        )
        .await;
    removed.spec("delete", "/v1.0/merchants/store_lists/{store_list_id}/stores");
    assert_eq!(removed.body["store_ids"], json!([s2, s3]));
    let shown = app.get(&acct, &members).await;
    shown.spec("get", "/v1.0/merchants/store_lists/{store_list_id}/stores");
    assert_eq!(shown.body["store_ids"], json!([s2, s3]));
    assert_eq!(app.get(&acct, &format!("{members}?name=gam")).await.body["store_ids"], json!([s3]));
    let replaced = app.post(&acct, &members, json!({"store_list": {"store_ids": [s1]}})).await;
    assert_eq!(replaced.body["store_ids"], json!([s1]), "POST replaces the set");
    app.put(&acct, &members, json!({"store_list": {"store_ids": [s2, s3]}})).await.error_free();

    let one = app.get(&acct, &format!("{base}/{list}")).await;
    one.spec("get", "/v1.0/merchants/{merchant_id}/store_lists/{store_list_id}");
    assert_eq!(one.body["store_list"]["store_ids"], json!([s1, s2, s3]));
    let detailed = app.get(&acct, &format!("{base}/{list}/stores?per_page=2")).await;
    detailed.spec("get", "/v1.0/merchants/{merchant_id}/store_lists/{store_list_id}/stores");
    assert_eq!((detailed.body["total_entries"].as_i64(), detailed.body["total_pages"].as_i64()), (Some(3), Some(2)));
    assert_eq!(detailed.body["stores"][0]["store"]["name"], "Alpha");

    let renamed = app.put(&acct, &format!("{base}/{list}"), json!({"store_list": {"name": "Front Range"}})).await;
    renamed.spec("put", "/v1.0/merchants/{merchant_id}/store_lists/{store_list_id}");
    assert_eq!(renamed.body["store_list"]["name"], "Front Range");
    assert_eq!(renamed.body["store_list"]["store_ids"], json!([s1, s2, s3]));
    let listed = app.get(&acct, &base).await;
    listed.spec("get", "/v1.0/merchants/{merchant_id}/store_lists");
    assert_eq!(listed.body["store_lists"][0]["store_list"]["store_ids"], json!([s1, s2, s3]));

    // Deleting a store takes it out of its lists.
    app.delete(&acct, &format!("/v1.0/merchants/{m}/stores/{s1}")).await.error_free();
    assert_eq!(app.get(&acct, &members).await.body["store_ids"], json!([s2, s3]));
    app.delete(&acct, &format!("{base}/{list}"))
        .await
        .spec("delete", "/v1.0/merchants/{merchant_id}/store_lists/{store_list_id}");
    app.get(&acct, &members).await.error(404);
    app.get(&acct, &format!("{base}/{list}")).await.error(404);
}

async fn store_list_integrity(app: TestApp) {
    let acct = app.account().await;
    let (m1, m2) = (merchant(&app, &acct, "One").await, merchant(&app, &acct, "Two").await);
    let mine = store(&app, &acct, m1, "Mine").await;
    let theirs = store(&app, &acct, m2, "Other merchant's").await;
    let list =
        app.post(&acct, &format!("/v1.0/merchants/{m1}/store_lists"), json!({"store_list": {"name": "L"}})).await.body
            ["store_list"]["id"]
            .as_i64()
            .unwrap();
    let members = format!("/v1.0/merchants/store_lists/{list}/stores");
    app.post(&acct, &members, json!({"store_list": {"store_ids": [mine]}})).await.error_free();

    let wrong_merchant = app.put(&acct, &members, json!({"store_list": {"store_ids": [mine, theirs]}})).await;
    wrong_merchant.error(400);
    assert!(wrong_merchant.body["errors"]["store_ids"].as_str().unwrap().contains(&theirs.to_string()));
    app.post(&acct, &members, json!({"store_list": {"store_ids": [99999999]}})).await.error(400);
    let other = app.account().await;
    let foreign_merchant = merchant(&app, &other, "Foreign").await;
    let foreign = store(&app, &other, foreign_merchant, "Foreign store").await;
    app.put(&acct, &members, json!({"store_list": {"store_ids": [foreign]}})).await.error(400);
    for body in [
        json!({"store_list": {"store_ids": "1"}}),
        json!({"store_list": {"store_ids": [true]}}),
        json!({"store_list": {"store_ids": ["one"]}}),
        json!({"store_list": {}}),
        json!({"store_ids": [1]}),
    ] {
        app.put(&acct, &members, body).await.error(400);
    }
    assert_eq!(app.get(&acct, &members).await.body["store_ids"], json!([mine]), "nothing written");

    // The list is invisible to other accounts and through the wrong merchant.
    app.get(&other, &members).await.error(404);
    app.post(&other, &members, json!({"store_list": {"store_ids": [foreign]}})).await.error(404);
    app.get(&acct, &format!("/v1.0/merchants/{m2}/store_lists/{list}")).await.error(404);
    app.get(&acct, &format!("/v1.0/merchants/{m2}/store_lists/{list}/stores")).await.error(404);
    app.post(&acct, "/v1.0/merchants/store_lists/99999999/stores", json!({"store_list": {"store_ids": []}}))
        .await
        .error(404);
    app.post(&acct, &format!("/v1.0/merchants/{m1}/store_lists"), json!({"store_list": {}})).await.error(400);
}

/// A link set of 1,000 ids (the most one request may name) is checked, replaced, shrunk and
/// listed on both stores: each list is one bound parameter (`= ANY($N)` on PostgreSQL,
/// `json_each` on SQLite), whatever its length.
async fn store_list_of_the_most_ids_a_request_may_name(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let mut stores = Vec::new();
    for i in 0..1000 {
        stores.push(store(&app, &acct, m, &format!("Store {i:04}")).await);
    }
    let base = format!("/v1.0/merchants/{m}/store_lists");
    let list =
        app.post(&acct, &base, json!({"store_list": {"name": "All"}})).await.body["store_list"]["id"].as_i64().unwrap();
    let members = format!("/v1.0/merchants/store_lists/{list}/stores");

    let mut with_unknown = stores[..999].to_vec();
    with_unknown.push(99_999_999);
    app.post(&acct, &members, json!({"store_list": {"store_ids": with_unknown}})).await.error(400);
    assert_eq!(app.get(&acct, &members).await.body["store_ids"], json!([]), "nothing written");

    let set = app.post(&acct, &members, json!({"store_list": {"store_ids": stores}})).await;
    set.error_free();
    assert_eq!(set.body["store_ids"], json!(stores));
    let kept = &stores[250..750];
    let replaced = app.post(&acct, &members, json!({"store_list": {"store_ids": kept}})).await;
    assert_eq!(replaced.body["store_ids"], json!(kept), "the 500 ids outside the new set are unlinked");
    let removed = app
        .raw(
            Some(&acct.token),
            reqwest::Method::DELETE,
            &members,
            Some(json!({"store_list": {"store_ids": &stores[..500]}}).to_string()),
        )
        .await;
    assert_eq!(removed.body["store_ids"], json!(&stores[500..750]));
    let listed = app.get(&acct, &base).await;
    assert_eq!(listed.body["store_lists"][0]["store_list"]["store_ids"], json!(&stores[500..750]));
    let added = app.put(&acct, &members, json!({"store_list": {"store_ids": stores}})).await;
    assert_eq!(added.body["store_ids"], json!(stores), "the 250 linked already are kept, the rest added");
}
