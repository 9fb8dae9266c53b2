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
    store_searches_read_only_matching_stores,
    campaign_adopts_a_linked_channel,
    linking_after_a_campaign_keeps_it,
    same_external_id_twice_is_the_same_campaign,
    a_different_external_id_on_the_row_is_a_conflict,
    channel_names_are_matched_as_sent,
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

/// A channel name is matched as sent: `"Email "` is its own channel, not `"Email"`, and a
/// campaign on it keeps its name through a round trip.
async fn channel_names_are_matched_as_sent(app: TestApp) {
    let acct = app.account().await;
    let id = offer(&app, &acct, json!({"name": "Padded"})).await;
    let email = channel(&app, &acct, "Email").await;
    let padded = channel(&app, &acct, "Email ").await;
    let body = json!({"campaign": {"offer_id": id, "channel_name": "Email "}});
    let created = app.post(&acct, "/v1.0/campaigns", body).await;
    created.spec("post", "/v1.0/campaigns");
    let campaign = &created.body["campaign"];
    assert_eq!((campaign["channel_id"].as_i64(), campaign["channel_name"].as_str()), (Some(padded), Some("Email ")));
    assert_ne!(Some(email), campaign["channel_id"].as_i64());
    let path = format!("/v1.0/campaigns/{}", campaign["id"]);
    let round_trip = json!({"campaign": {"offer_id": id, "channel_name": "Email ", "funding_source": "brand"}});
    app.put(&acct, &path, round_trip).await.error_free();
    let moved = app.put(&acct, &path, json!({"campaign": {"channel_name": "Email"}})).await;
    assert!(
        moved.body["errors"]["channel_name"].as_str().unwrap_or_default().starts_with("cannot change"),
        "{}",
        moved.text
    );
    assert_eq!(app.get(&acct, "/v1.0/channels").await.body["total_entries"], 2, "no channel was made");
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

/// Many stores, few matching: the search returns only stores where an active offer applies,
/// counts them across pages, and pages in the database's order (distance, then id; or
/// name in byte order, then id) whatever page is asked for.
async fn store_searches_read_only_matching_stores(app: TestApp) {
    let acct = app.account().await;
    let (q, r, other) =
        (merchant(&app, &acct, "Q").await, merchant(&app, &acct, "R").await, merchant(&app, &acct, "S").await);
    // Q's 24 stores lie due north of the origin, 1 km apart; their names run the other way.
    let mut q_stores = Vec::new();
    for i in 0..24 {
        q_stores.push(
            store(&app, &acct, q, &format!("Store {:02}", 23 - i), 39.0 + 0.009 * f64::from(i + 1), -105.0).await,
        );
    }
    // Two of Q's stores without coordinates: last by distance, and named so that byte order
    // ("Banana" < "Store" < "apple") differs from a locale's ("apple" < "Banana").
    let mut unplaced = Vec::new();
    for name in ["apple", "Banana"] {
        let created = app.post(&acct, &format!("/v1.0/merchants/{q}/stores"), json!({"store": {"name": name}})).await;
        unplaced.push(created.body["store"]["id"].as_i64().unwrap());
    }
    // Stores of other merchants, some nearer than any of Q's.
    let mut r_stores = Vec::new();
    for i in 0..20 {
        r_stores.push(store(&app, &acct, r, &format!("R {i}"), 39.0, -105.0 + 0.001 * f64::from(i)).await);
        store(&app, &acct, other, &format!("S {i}"), 39.0, -105.0).await;
    }
    let q_offer = offer(&app, &acct, json!({"name": "Q only", "merchant_id": q})).await;
    approve(&app, &acct, q_offer).await;

    let search = |query: &str| format!("/v1.0/merchants/stores/index?lat=39.0&lng=-105.0&{query}");
    let first = app.get(&acct, &search("per_page=10")).await;
    first.spec("get", "/v1.0/merchants/stores/index");
    assert_eq!(first.body["total_entries"], 26, "Q's stores only");
    assert_eq!(ids(&first.body), q_stores[..10]);
    assert_eq!(first.body["stores"][0]["store"]["nearby"]["distance"], 1001);
    assert_eq!(ids(&app.get(&acct, &search("per_page=10&page=2")).await.body), q_stores[10..20]);
    let last = app.get(&acct, &search("per_page=10&page=3")).await;
    let mut tail = q_stores[20..].to_vec();
    tail.extend(&unplaced);
    assert_eq!(ids(&last.body), tail, "stores without coordinates come last, by id");
    assert_eq!(last.body["stores"][5]["store"]["nearby"], Value::Null);
    assert_eq!(last.body["total_entries"], 26);
    assert!(ids(&app.get(&acct, &search("per_page=10&page=4")).await.body).is_empty());

    let by_name = app.get(&acct, &search("sort_by=name&per_page=5")).await;
    let mut expected = vec![unplaced[1]];
    expected.extend(q_stores.iter().rev().take(4));
    assert_eq!(ids(&by_name.body), expected, "Banana, Store 00, Store 01, ...");
    assert_eq!(by_name.body["total_entries"], 26);
    let by_name_last = app.get(&acct, &search("sort_by=name&per_page=5&page=6")).await;
    assert_eq!(ids(&by_name_last.body), [unplaced[0]], "apple sorts after Store 23 in byte order");

    // An offer of no merchant of its own, made eligible at R: R's stores only.
    let at_r = offer(&app, &acct, json!({"name": "At R"})).await;
    app.post(&acct, &format!("/v1.0/offers/{at_r}/merchants"), json!({"offer": {"merchant_ids": [r]}}))
        .await
        .error_free();
    approve(&app, &acct, at_r).await;
    let ch = channel(&app, &acct, "App").await;
    app.post(&acct, &format!("/v1.0/offers/{at_r}/channels"), json!({"offer": {"channel_ids": [ch]}}))
        .await
        .error_free();
    let r_only =
        app.get(&acct, &format!("/v1.0/offers/{at_r}/stores?lat=39.0&lng=-105.0&x_channel_id={ch}&per_page=50")).await;
    r_only.spec("get", "/v1.0/offers/{offer_id}/stores");
    assert_eq!(ids(&r_only.body), r_stores, "nearest first: R 0 stands on the origin");
    assert_eq!(r_only.body["total_entries"], 20);
    let both = app.get(&acct, &search("per_page=1")).await;
    assert_eq!(both.body["total_entries"], 46, "either offer: Q's and R's stores, never S's");
}
