//! One of every resource in an account, linked the way a real account links them, with the
//! ids the isolation cases put in paths, query strings and bodies.

use crate::helpers::{TestAccount, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// An account's resources by key (`"offer"`, `"maker_item"`, ...), and `marker`, a random
/// string in every name of the account, so another account's answer can be searched for it.
#[derive(Clone)]
pub struct World {
    pub marker: String,
    ids: BTreeMap<&'static str, i64>,
    text: BTreeMap<&'static str, String>,
}

impl World {
    pub fn id(&self, key: &str) -> i64 {
        *self.ids.get(key).unwrap_or_else(|| panic!("no id {key} in the world"))
    }

    pub fn text(&self, key: &str) -> &str {
        self.text.get(key).unwrap_or_else(|| panic!("no text {key} in the world"))
    }

    pub fn keys(&self) -> Vec<&'static str> {
        self.ids.keys().chain(self.text.keys()).copied().collect()
    }

    /// This world with one resource (`key`) taken from `other`.
    pub fn with(&self, other: &World, key: &'static str) -> World {
        let mut mixed = self.clone();
        if let Some(id) = other.ids.get(key) {
            mixed.ids.insert(key, *id);
        }
        if let Some(text) = other.text.get(key) {
            mixed.text.insert(key, text.clone());
        }
        mixed
    }

    /// The same keys naming nothing that exists: ids far above any sequence, fresh strings.
    pub fn phantom(like: &World) -> World {
        let marker = format!("phantom{}", kindling_domain::secret::new_xid());
        let ids = like.ids.keys().enumerate().map(|(i, k)| (*k, 8_000_000_000_000 + i as i64)).collect();
        // A text the server drew (an xid) has no marker: the phantom's is marked instead.
        let text = like
            .text
            .iter()
            .map(|(k, v)| match v.contains(&like.marker) {
                true => (*k, v.replace(&like.marker, &marker)),
                false => (*k, format!("{marker}{v}")),
            })
            .collect();
        World { marker, ids, text }
    }
}

async fn create(app: &TestApp, acct: &TestAccount, path: &str, key: &str, body: Value) -> i64 {
    let created = app.post(acct, path, json!({ key: body })).await;
    created.error_free();
    created.body[key]["id"].as_i64().unwrap_or_else(|| panic!("POST {path}: no {key}.id in {}", created.text))
}

/// Creates every resource in the account: an approved, active reward offer owned by a
/// merchant and a manufacturer, eligible at a store list and for a member list, on a channel
/// (through a campaign, whose xid an impression names), with an eligible item set, passbook
/// settings, a POS offer code, an open credential and the member's zidentifier for the offer;
/// and a counter and an event.
pub async fn build(app: &TestApp, acct: &TestAccount) -> World {
    let m = format!("secret{}", kindling_domain::secret::new_xid());
    let mut ids = BTreeMap::new();
    let mut text = BTreeMap::new();
    let merchant = create(app, acct, "/v1.0/merchants", "merchant", json!({"name": format!("{m} merchant")})).await;
    ids.insert("merchant", merchant);
    let store = create(
        app,
        acct,
        &format!("/v1.0/merchants/{merchant}/stores"),
        "store",
        json!({"name": format!("{m} store"), "number": "42", "location": {"lat": 39.7392, "lng": -104.9903}}),
    )
    .await;
    ids.insert("store", store);
    let store_list = create(
        app,
        acct,
        &format!("/v1.0/merchants/{merchant}/store_lists"),
        "store_list",
        json!({"name": format!("{m} store list")}),
    )
    .await;
    ids.insert("store_list", store_list);
    app.post(
        acct,
        &format!("/v1.0/merchants/store_lists/{store_list}/stores"),
        json!({"store_list": {"store_ids": [store]}}),
    )
    .await
    .error_free();
    let item = create(
        app,
        acct,
        &format!("/v1.0/merchants/{merchant}/items"),
        "item",
        json!({"name": format!("{m} item"), "code": "I1"}),
    )
    .await;
    ids.insert("item", item);
    let item_set = create(
        app,
        acct,
        &format!("/v1.0/merchants/{merchant}/item_sets"),
        "item_set",
        json!({"name": format!("{m} item set"), "item_ids": [item]}),
    )
    .await;
    ids.insert("item_set", item_set);
    let maker = create(app, acct, "/v1.0/manufacturers", "manufacturer", json!({"name": format!("{m} maker")})).await;
    ids.insert("manufacturer", maker);
    app.post(
        acct,
        &format!("/v1.0/manufacturers/{maker}/merchants"),
        json!({"manufacturer": {"merchant_ids": [merchant]}}),
    )
    .await
    .error_free();
    let maker_item = create(
        app,
        acct,
        &format!("/v1.0/manufacturers/{maker}/items"),
        "item",
        json!({"name": format!("{m} maker item"), "code": "M1"}),
    )
    .await;
    ids.insert("maker_item", maker_item);
    let maker_set = create(
        app,
        acct,
        &format!("/v1.0/manufacturers/{maker}/item_sets"),
        "item_set",
        json!({"name": format!("{m} maker set"), "item_ids": [maker_item]}),
    )
    .await;
    ids.insert("maker_set", maker_set);
    let account_item =
        create(app, acct, "/v1.0/items", "item", json!({"name": format!("{m} loose item"), "code": "L1"})).await;
    ids.insert("account_item", account_item);
    let account_set = create(
        app,
        acct,
        "/v1.0/item_sets",
        "item_set",
        json!({"name": format!("{m} account set"), "item_ids": [account_item, item]}),
    )
    .await;
    ids.insert("account_set", account_set);

    let identifier = format!("{m}-member");
    let member = create(app, acct, "/v1.0/members", "member", json!({"identifier": identifier})).await;
    ids.insert("member", member);
    text.insert("member_identifier", identifier);
    let member_list =
        create(app, acct, "/v1.0/member_lists", "member_list", json!({"name": format!("{m} member list")})).await;
    ids.insert("member_list", member_list);
    app.post(
        acct,
        &format!("/v1.0/member_lists/{member_list}/members"),
        json!({"member_list": {"member_ids": [member]}}),
    )
    .await
    .error_free();

    let channel_name = format!("{m} channel");
    let channel =
        create(app, acct, "/v1.0/channels", "channel", json!({"name": channel_name, "allow_hmac": true})).await;
    ids.insert("channel", channel);
    let offer = create(
        app,
        acct,
        "/v1.0/offers",
        "offer",
        json!({"name": format!("{m} offer"), "merchant_id": merchant, "manufacturer_id": maker, "is_reward": true,
               "expires_at": "2099-01-01T00:00:00Z", "required_item_set_id": item_set, "redemption_item_set_id": maker_set,
               "pos_offer_code": format!("{m}-pos")}),
    )
    .await;
    ids.insert("offer", offer);
    // The offer's `pos_offer_code` registered the account's one POS offer code.
    let codes = app.get(acct, "/v1.0/pos_offer_codes").await;
    ids.insert("pos_offer_code", codes.body["pos_offer_codes"][0]["pos_offer_code"]["id"].as_i64().unwrap());
    ids.insert("counter", create(app, acct, "/v1.0/counters", "counter", json!({"name": 42})).await);
    ids.insert("event", create(app, acct, "/v1.0/events", "event", json!({"name": format!("{m} event")})).await);
    for (kind, key, id) in [
        ("merchants", "merchant_ids", merchant),
        ("store_lists", "store_list_ids", store_list),
        ("member_lists", "member_list_ids", member_list),
    ] {
        app.post(acct, &format!("/v1.0/offers/{offer}/{kind}"), json!({"offer": {key: [id]}})).await.error_free();
    }
    // The campaign is the offer's link to the channel (created here by naming the channel).
    let external_id = format!("{m}-campaign");
    let campaign = app
        .post(
            acct,
            "/v1.0/campaigns",
            json!({"campaign": {"offer_id": offer, "channel_name": channel_name, "external_id": external_id,
                   "eligible_store_numbers": ["42"]}}),
        )
        .await;
    campaign.error_free();
    ids.insert("campaign", campaign.body["campaign"]["id"].as_i64().unwrap());
    text.insert("external_id", external_id);
    let xid = campaign.body["campaign"]["xid"].as_str().unwrap().to_owned();
    let impression = create(
        app,
        acct,
        "/v1.0/impressions",
        "impression",
        json!({"cookie_id": format!("{m}-cookie"), "offer_xid": xid, "member_id": member,
               "annotations": {"note": format!("{m} note")}}),
    )
    .await;
    ids.insert("impression", impression);
    text.insert("xid", xid);
    crate::offers::approve(app, acct, offer).await;
    let eligible = create(
        app,
        acct,
        &format!("/v1.0/offers/{offer}/eligible_item_sets"),
        "eligible_item_set",
        json!({"item_set_id": account_set}),
    )
    .await;
    ids.insert("eligible_item_set", eligible);
    app.post(
        acct,
        &format!("/v1.0/offers/{offer}/passbook_configuration"),
        json!({"passbook_configuration": {"team_identifier": format!("{m} team")}}),
    )
    .await
    .error_free();
    let credential = create(
        app,
        acct,
        &format!("/v1.0/credentials?member_id={member}&offer_id={offer}&channel_id={channel}&store_id={store}"),
        "credential",
        json!({"annotations": {"note": format!("{m} note")}}),
    )
    .await;
    ids.insert("credential", credential);
    // The member's zidentifier for the offer on the channel (made by its first GET).
    let zid =
        app.get(acct, &format!("/v1.0/members/{member}/offers/{offer}/zidentifiers?x_channel_id={channel}")).await;
    let zid = zid.error_free().body["z_identifier"]["zid"].as_str().unwrap().parse().unwrap();
    ids.insert("zid", zid);
    let saved = app
        .post(
            acct,
            &format!("/v1.0/members/{member}/offer_states?channel_id={channel}&offer_id={offer}"),
            json!({"offer_state": {"external_ref_id": format!("{m} ref")}}),
        )
        .await;
    saved.error_free();
    let state = &saved.body["offer_state"];
    ids.insert("offer_state", state["offer_state_id"].as_i64().unwrap());
    text.insert("offer_state_token", state["token"].as_str().unwrap().to_owned());
    text.insert("offer_state_code", state["credential_identifier"].as_str().unwrap().to_owned());
    World { marker: m, ids, text }
}
