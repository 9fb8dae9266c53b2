//! Campaigns (the offer×channel row seen with campaign fields) and the store searches that
//! depend on active offers.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use crate::merchants::merchant;
use crate::offers::{approve, channel, offer};
use serde_json::{json, Value};

backend_tests!(
    campaign_crud,
    campaign_search_lists_active_rewards,
    store_searches_follow_active_offers,
    campaign_adopts_a_linked_channel,
    linking_after_a_campaign_keeps_it,
    same_external_id_twice_is_the_same_campaign,
    a_different_external_id_on_the_row_is_a_conflict,
);

async fn campaign_crud(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q").await;
    app.post(&acct, &format!("/v1.0/merchants/{m}/stores"), json!({"store": {"name": "S", "number": "42"}}))
        .await
        .error_free();
    let id = offer(&app, &acct, json!({"name": "Fries", "merchant_id": m, "max_redemptions_per_member": 3, "expires_at": "2031-01-01T00:00:00Z"})).await;
    let body = json!({"campaign": {"offer_id": id, "channel_name": "Spring Email", "external_id": "ext-1", "code_count": "100",
        "funding_source": "brand", "start_display_at": "2030-01-01T00:00:00Z", "eligible_store_numbers": [42], "security": "none"}});
    let created = app.post(&acct, "/v1.0/campaigns", body.clone()).await;
    created.spec("post", "/v1.0/campaigns");
    let c = &created.body["campaign"];
    let cid = c["id"].as_i64().unwrap();
    assert_eq!(
        (c["offer_id"].as_i64(), c["channel_name"].as_str(), c["external_id"].as_str()),
        (Some(id), Some("Spring Email"), Some("ext-1"))
    );
    assert_eq!(c["eligible_store_numbers"], json!(["42"]), "numbers come back as strings");
    assert_eq!(c["eligible_store_ids"].as_array().unwrap().len(), 1);
    assert_eq!(c["max_redemptions_per_member"], "3");
    assert_eq!(c["expiration_date"], "2031-01-01T00:00:00Z");
    let xid = c["xid"].as_str().unwrap().to_owned();
    // The channel was created, and the campaign is the offer's link to it.
    let channels = app.get(&acct, "/v1.0/channels").await;
    assert_eq!(channels.body["channels"][0]["channel"]["name"], "Spring Email");
    let shown = app.get(&acct, &format!("/v1.0/offers/{id}")).await;
    assert_eq!(shown.body["offer"]["channels"][0]["channel"]["xid"], xid.as_str());

    let by_external = app.get(&acct, "/v1.0/campaigns?external_id=ext-1").await;
    by_external.spec("get", "/v1.0/campaigns");
    assert_eq!(by_external.body["campaign"]["id"], cid);
    app.get(&acct, "/v1.0/campaigns?external_id=nope").await.error(404);
    let listed = app.get(&acct, "/v1.0/campaigns").await;
    assert_eq!(listed.body["total_entries"], 1);
    app.get(&acct, &format!("/v1.0/campaigns/{cid}")).await.spec("get", "/v1.0/campaigns/{campaign_id}");
    let updated = app
        .put(
            &acct,
            &format!("/v1.0/campaigns/{cid}"),
            json!({"campaign": {"funding_source": "merchant", "allow_return_later": false}}),
        )
        .await;
    updated.spec("put", "/v1.0/campaigns/{campaign_id}");
    assert_eq!(
        (updated.body["campaign"]["funding_source"].as_str(), updated.body["campaign"]["allow_return_later"].as_bool()),
        (Some("merchant"), Some(false))
    );
    assert_eq!(updated.body["campaign"]["external_id"], "ext-1");

    // The same offer and channel hold one campaign: posting it again adopts it (see
    // campaign_adoption below); an existing channel is reused.
    let again = app.post(&acct, "/v1.0/campaigns", body).await;
    again.spec("post", "/v1.0/campaigns");
    assert_eq!(again.body["campaign"]["id"], cid);
    let other_offer = offer(&app, &acct, json!({"name": "Shake"})).await;
    let reuse = app
        .post(
            &acct,
            "/v1.0/campaigns",
            json!({"campaign": {"offer_id": other_offer, "channel_name": "Spring Email", "external_id": "ext-1"}}),
        )
        .await;
    reuse.error(400);
    assert_eq!(reuse.body["errors"]["external_id"], "has already been taken");
    let ok = app
        .post(&acct, "/v1.0/campaigns", json!({"campaign": {"offer_id": other_offer, "channel_name": "Spring Email"}}))
        .await;
    ok.spec("post", "/v1.0/campaigns");
    assert_eq!(app.get(&acct, "/v1.0/channels").await.body["total_entries"], 1);
    for bad in [
        json!({}),
        json!({"offer_id": id}),
        json!({"channel_name": "x"}),
        json!({"offer_id": 99999999, "channel_name": "x"}),
        json!({"offer_id": id, "channel_name": "y", "start_display_at": "soon"}),
        json!({"offer_id": id, "channel_name": "y", "eligible_store_numbers": "42"}),
    ] {
        app.post(&acct, "/v1.0/campaigns", json!({"campaign": bad})).await.error(400);
    }
    let other = app.account().await;
    app.get(&other, &format!("/v1.0/campaigns/{cid}")).await.error(404);
    app.post(&other, "/v1.0/campaigns", json!({"campaign": {"offer_id": id, "channel_name": "x"}})).await.error(400);
    app.delete(&acct, &format!("/v1.0/campaigns/{cid}")).await.spec("delete", "/v1.0/campaigns/{campaign_id}");
    app.get(&acct, &format!("/v1.0/campaigns/{cid}")).await.error(404);
    assert_eq!(app.get(&acct, &format!("/v1.0/offers/{id}")).await.body["offer"]["channels"], json!([]));
}

async fn campaign_search_lists_active_rewards(app: TestApp) {
    let acct = app.account().await;
    let ch = channel(&app, &acct, "App").await;
    let reward =
        offer(&app, &acct, json!({"name": "Reward", "is_reward": true, "expires_at": "2099-01-01T00:00:00Z"})).await;
    let plain = offer(&app, &acct, json!({"name": "Plain"})).await;
    let pending = offer(&app, &acct, json!({"name": "Pending reward", "is_reward": true})).await;
    let expired =
        offer(&app, &acct, json!({"name": "Old reward", "is_reward": true, "expires_at": "2001-01-01T00:00:00Z"}))
            .await;
    for id in [reward, plain, pending, expired] {
        app.post(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [ch]}}))
            .await
            .error_free();
    }
    for id in [reward, plain, expired] {
        approve(&app, &acct, id).await;
    }
    let found = app.get(&acct, &format!("/v1.0/campaigns/search?channel_id={ch}")).await;
    found.spec("get", "/v1.0/campaigns/search");
    let list = found.body.as_array().expect("a bare array");
    assert_eq!(list.len(), 1, "{}", found.text);
    assert_eq!(list[0]["campaign_name"], "Reward");
    assert_eq!(list[0]["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(list[0]["campaign_id"].as_str().unwrap().len(), 7, "the campaign's xid");
    app.get(&acct, "/v1.0/campaigns/search").await.error(400);
    app.get(&acct, "/v1.0/campaigns/search?channel_id=x").await.error(400);
    app.get(&acct, "/v1.0/campaigns/search?channel_id=99999999").await.error(404);
}

async fn store(app: &TestApp, acct: &TestAccount, m: i64, name: &str, lat: f64, lng: f64) -> i64 {
    let r = app
        .post(
            acct,
            &format!("/v1.0/merchants/{m}/stores"),
            json!({"store": {"name": name, "location": {"lat": lat, "lng": lng}}}),
        )
        .await;
    r.body["store"]["id"].as_i64().unwrap()
}

fn ids(v: &Value) -> Vec<i64> {
    v["stores"].as_array().unwrap().iter().map(|s| s["store"]["id"].as_i64().unwrap()).collect()
}

async fn store_searches_follow_active_offers(app: TestApp) {
    let acct = app.account().await;
    let (q, r) = (merchant(&app, &acct, "Q").await, merchant(&app, &acct, "R").await);
    let denver = store(&app, &acct, q, "Denver", 39.7392, -104.9903).await;
    let boulder = store(&app, &acct, q, "Boulder", 40.01499, -105.27055).await;
    let nyc = store(&app, &acct, r, "New York", 40.7128, -74.006).await;
    let search = "/v1.0/merchants/stores/index?lat=39.75&lng=-105.0";
    // No active offer anywhere: no stores.
    let none = app.get(&acct, search).await;
    none.spec("get", "/v1.0/merchants/stores/index");
    assert_eq!(none.body["total_entries"], 0);

    let ch = channel(&app, &acct, "App").await;
    let deal = offer(&app, &acct, json!({"name": "Q deal", "merchant_id": q})).await;
    app.post(&acct, &format!("/v1.0/offers/{deal}/channels"), json!({"offer": {"channel_ids": [ch]}}))
        .await
        .error_free();
    assert_eq!(app.get(&acct, search).await.body["total_entries"], 0, "pending offers are not active");
    approve(&app, &acct, deal).await;
    let found = app.get(&acct, search).await;
    found.spec("get", "/v1.0/merchants/stores/index");
    assert_eq!(ids(&found.body), [denver, boulder], "Q's stores, nearest first");
    let nearest = &found.body["stores"][0]["store"]["nearby"];
    assert_eq!((nearest["lat"].as_str(), nearest["lng"].as_str()), (Some("39.75"), Some("-105")));
    let d = nearest["distance"].as_i64().unwrap();
    assert!((1_000..3_000).contains(&d), "distance in meters: {d}");
    let by_name = app.get(&acct, "/v1.0/merchants/stores/nearby/index?lat=39.75&lng=-105.0&sort_by=name").await;
    by_name.spec("get", "/v1.0/merchants/stores/nearby/index");
    assert_eq!(ids(&by_name.body), [boulder, denver]);
    let from_nyc = app.get(&acct, "/v1.0/merchants/stores/nearby/40.7/-74.0/index").await;
    from_nyc.spec("get", "/v1.0/merchants/stores/nearby/{lat}/{lng}/index");
    assert_eq!(ids(&from_nyc.body), [denver, boulder], "Denver lies east of Boulder");
    assert_eq!(app.get(&acct, &format!("{search}&by_tag_ids=1")).await.body["total_entries"], 0, "no store has tags");

    // A store list narrows the offer to the listed stores; an eligible merchant widens it.
    let list =
        app.post(&acct, &format!("/v1.0/merchants/{q}/store_lists"), json!({"store_list": {"name": "CO"}})).await.body
            ["store_list"]["id"]
            .as_i64()
            .unwrap();
    app.post(
        &acct,
        &format!("/v1.0/merchants/store_lists/{list}/stores"),
        json!({"store_list": {"store_ids": [boulder]}}),
    )
    .await
    .error_free();
    app.post(&acct, &format!("/v1.0/offers/{deal}/store_lists"), json!({"offer": {"store_list_ids": [list]}}))
        .await
        .error_free();
    assert_eq!(ids(&app.get(&acct, search).await.body), [boulder]);
    let everywhere = offer(&app, &acct, json!({"name": "Anywhere"})).await;
    approve(&app, &acct, everywhere).await;
    assert_eq!(
        ids(&app.get(&acct, search).await.body),
        [denver, boulder, nyc],
        "an unrestricted offer applies everywhere"
    );

    let at_store = app.get(&acct, &format!("/v1.0/merchants/{q}/stores/{denver}/offers")).await;
    at_store.spec("get", "/v1.0/merchants/{merchant_id}/stores/{store_id}/offers");
    assert_eq!(at_store.body, json!({"offer_ids": [everywhere]}));
    assert_eq!(
        app.get(&acct, &format!("/v1.0/merchants/{q}/stores/{boulder}/offers")).await.body,
        json!({"offer_ids": [deal, everywhere]})
    );
    app.get(&acct, &format!("/v1.0/merchants/{r}/stores/{denver}/offers")).await.error(404);

    let offer_stores =
        app.get(&acct, &format!("/v1.0/offers/{deal}/stores?lat=39.75&lng=-105.0&x_channel_id={ch}")).await;
    offer_stores.spec("get", "/v1.0/offers/{offer_id}/stores");
    assert_eq!(ids(&offer_stores.body), [boulder]);
    app.get(&acct, &format!("/v1.0/offers/{deal}/stores?lat=39.75&lng=-105.0")).await.error(400);
    app.get(&acct, &format!("/v1.0/offers/{everywhere}/stores?lat=39.75&lng=-105.0&x_channel_id={ch}"))
        .await
        .error(404);
    app.put(&acct, &format!("/v1.0/offers/{deal}/actions/suspend"), json!({})).await.error_free();
    assert_eq!(
        app.get(&acct, &format!("/v1.0/offers/{deal}/stores?lat=39.75&lng=-105.0&x_channel_id={ch}")).await.body
            ["total_entries"],
        0
    );

    for bad in ["lat=91&lng=0", "lat=north&lng=0", "lng=0", ""] {
        app.get(&acct, &format!("/v1.0/merchants/stores/index?{bad}")).await.error(400);
    }
    app.get(&acct, "/v1.0/merchants/stores/nearby/x/y/index").await.error(400);
    let other = app.account().await;
    assert_eq!(app.get(&other, search).await.body["total_entries"], 0, "other accounts see none of it");
}

/// `POST /v1.0/campaigns` after the guide's `POST /offers/{id}/channels`: the link is the
/// campaign, so it is adopted (same row, same xid) with the given fields, answered 200.
async fn campaign_adopts_a_linked_channel(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Linked first"})).await;
    let ch = channel(&app, &acct, "Email").await;
    app.post(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [ch]}})).await.error_free();
    let xid =
        app.get(&acct, &format!("/v1.0/offers/{id}")).await.body["offer"]["channels"][0]["channel"]["xid"].clone();
    let body = json!({"campaign": {"offer_id": id, "channel_name": "Email", "external_id": "ext-linked",
        "funding_source": "brand", "allow_return_later": false}});
    let created = app.post(&acct, "/v1.0/campaigns", body).await;
    created.spec("post", "/v1.0/campaigns");
    let c = &created.body["campaign"];
    assert_eq!((c["channel_id"].as_i64(), &c["xid"]), (Some(ch), &xid), "the linked row is the campaign");
    assert_eq!(
        (c["external_id"].as_str(), c["funding_source"].as_str(), c["allow_return_later"].as_bool()),
        (Some("ext-linked"), Some("brand"), Some(false))
    );
    assert_eq!(app.get(&acct, "/v1.0/campaigns").await.body["total_entries"], 1);
    assert_eq!(app.get(&acct, "/v1.0/channels").await.body["total_entries"], 1);
}

/// Linking the channel after the campaign exists keeps the campaign row and its fields.
async fn linking_after_a_campaign_keeps_it(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Campaign first"})).await;
    let created = app
        .post(
            &acct,
            "/v1.0/campaigns",
            json!({"campaign": {"offer_id": id, "channel_name": "Email", "external_id": "ext-first"}}),
        )
        .await;
    created.spec("post", "/v1.0/campaigns");
    let (cid, ch) = (created.body["campaign"]["id"].clone(), created.body["campaign"]["channel_id"].as_i64().unwrap());
    let linked = app.post(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [ch]}})).await;
    linked.error_free();
    let again = app
        .post(
            &acct,
            "/v1.0/campaigns",
            json!({"campaign": {"offer_id": id, "channel_name": "Email", "funding_source": "merchant"}}),
        )
        .await;
    again.spec("post", "/v1.0/campaigns");
    assert_eq!(again.body["campaign"]["id"], cid);
    assert_eq!(
        (again.body["campaign"]["external_id"].as_str(), again.body["campaign"]["funding_source"].as_str()),
        (Some("ext-first"), Some("merchant")),
        "fields not given are kept"
    );
    assert_eq!(app.get(&acct, "/v1.0/campaigns").await.body["total_entries"], 1);
}

async fn same_external_id_twice_is_the_same_campaign(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Twice"})).await;
    let body = json!({"campaign": {"offer_id": id, "channel_name": "Email", "external_id": "ext-twice"}});
    let first = app.post(&acct, "/v1.0/campaigns", body.clone()).await;
    first.spec("post", "/v1.0/campaigns");
    let second = app.post(&acct, "/v1.0/campaigns", body).await;
    second.spec("post", "/v1.0/campaigns");
    assert_eq!(first.body["campaign"], second.body["campaign"]);
    assert_eq!(app.get(&acct, "/v1.0/campaigns").await.body["total_entries"], 1);
}

async fn a_different_external_id_on_the_row_is_a_conflict(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Clash"})).await;
    let first = app
        .post(
            &acct,
            "/v1.0/campaigns",
            json!({"campaign": {"offer_id": id, "channel_name": "Email", "external_id": "ext-a"}}),
        )
        .await;
    first.spec("post", "/v1.0/campaigns");
    let clash = app
        .post(
            &acct,
            "/v1.0/campaigns",
            json!({"campaign": {"offer_id": id, "channel_name": "Email", "external_id": "ext-b"}}),
        )
        .await;
    let message = clash.error(409);
    assert!(message.contains("ext-a") && message.contains("ext-b"), "{message}");
    let kept = app.get(&acct, &format!("/v1.0/campaigns/{}", first.body["campaign"]["id"])).await;
    assert_eq!(kept.body["campaign"]["external_id"], "ext-a", "the refused request changed nothing");
}
