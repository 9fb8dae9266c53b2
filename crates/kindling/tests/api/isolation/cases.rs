//! One case per operation the router serves, keyed by (method, path template): the query
//! string and body a caller sends, built from a `World`, and the status that a foreign id in
//! each of them gets. A foreign id in the path is always a 404 (docs/API-DESIGN.md: "an id
//! that belongs to another account" is "indistinguishable from missing").
//!
//! Foreign ids in a query or body are answered as the same id would be if it did not exist,
//! as documented per resource:
//! - 400 for an id a write references (link sets: "An id that does not exist in the account
//!   ... fails the whole request with 400"; `merchant_id`, `item_set_id`, `offer_id` of a body;
//!   the credential rules' "Offer not found or not eligible by channel" and "Member not found");
//! - 404 for a lookup by id or key (`members/search?identifier=`, `campaigns?external_id=`,
//!   `campaigns/search?channel_id=`, `offers/{id}/stores?x_channel_id=`,
//!   `credentials/eligible?member_id=` names the member; an impression's `offer_xid` and
//!   `member_id`; the offer engine's `x_channel_id`, `activities/offers?member_id=` and a
//!   points card's `identifier` and `channel_id`);
//!   `member_id`; an offer state's transfer `token`, `member_identifier` of a void; the
//!   reports' `channel_id` and `bi_storelist`; an issuance's `campaign_id` (xid) and
//!   `member_id`);
//! - 422 for the member privacy operations' `member_identifier` and `credential_identifier`,
//!   as the spec answers a member it cannot locate;
//! - the success code for a link set's `DELETE`: removing an id that is not in the set is a
//!   no-op answered with the unchanged set, for a foreign id as for an unknown one;
//! - 200 for a list filter, which then matches nothing of the caller's (`GET /offers?merchant_id=`,
//!   `GET /credentials?member_id=`, `GET /impressions?offer_xid=&member_id=`,
//!   `GET /members/offer_states?token=&credential_identifier=`, a member's states'
//!   `channel_id`, the offer activity report's `offer_id`), and for
//!   `credentials/eligible`'s offer and channel, which answer `is_eligible: false` exactly as
//!   for an unknown offer.

use super::world::World;
use reqwest::Method;
use serde_json::{json, Value};

pub type Query = fn(&World) -> String;
pub type Body = fn(&World) -> Value;

/// One request shape of an operation.
pub struct Variant {
    pub query: Query,
    pub body: Option<Body>,
}

pub struct Case {
    pub method: Method,
    pub template: &'static str,
    pub variants: Vec<Variant>,
    /// The keys of the world that the query or body carry, with the status a foreign one gets.
    pub refs: &'static [(&'static str, u16)],
    /// Why an operation with no id in its path takes no id in its query or body either.
    pub no_foreign_id: Option<&'static str>,
}

fn no_query(_: &World) -> String {
    String::new()
}

fn op(method: Method, template: &'static str) -> Case {
    Case { method, template, variants: vec![Variant { query: no_query, body: None }], refs: &[], no_foreign_id: None }
}

impl Case {
    fn query(mut self, query: Query) -> Self {
        self.variants.last_mut().unwrap().query = query;
        self
    }

    fn body(mut self, body: Body) -> Self {
        self.variants.last_mut().unwrap().body = Some(body);
        self
    }

    /// Another request shape (e.g. a body naming a different kind of owner).
    fn or_body(mut self, body: Body) -> Self {
        self.variants.push(Variant { query: no_query, body: Some(body) });
        self
    }

    fn refs(mut self, refs: &'static [(&'static str, u16)]) -> Self {
        self.refs = refs;
        self
    }

    fn no_foreign_id(mut self, why: &'static str) -> Self {
        self.no_foreign_id = Some(why);
        self
    }
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

/// The world key a path parameter names (`None`: not an id, filled by `fixed_param`).
pub fn param_key(template: &str, param: &str) -> Option<&'static str> {
    let maker = template.starts_with("/v1.0/manufacturers");
    Some(match param {
        "merchant_id" => "merchant",
        "store_id" => "store",
        "store_list_id" => "store_list",
        "manufacturer_id" => "manufacturer",
        "item_id" if maker => "maker_item",
        "item_id" => "item",
        "item_set_id" if maker => "maker_set",
        "item_set_id" => "item_set",
        "offer_id" => "offer",
        "channel_id" => "channel",
        "member_id" => "member",
        "member_list_id" => "member_list",
        "eligible_item_set_id" => "eligible_item_set",
        "credential_id" => "credential",
        "campaign_id" => "campaign",
        "impression_id" => "impression",
        "counter_id" => "counter",
        "event_id" => "event",
        "pos_offer_code_id" => "pos_offer_code",
        "zid" => "zid",
        "offer_state_id" => "offer_state",
        _ => return None,
    })
}

/// Values of path parameters that are not ids. `archive` is the one action that would
/// change a leaked offer for good.
pub fn fixed_param(param: &str) -> &'static str {
    match param {
        "action" => "archive",
        "lat" => "39.74",
        "lng" => "-104.99",
        other => panic!("path parameter {{{other}}} has no world key and no fixed value: add it to param_key"),
    }
}

const POINT: Query = |_| "?lat=39.74&lng=-104.99".into();
const PRIVACY_SUBJECT: Query = |w| {
    format!("?member_identifier={}&credential_identifier={}", w.text("member_identifier"), w.text("offer_state_code"))
};
const PRIVACY_REFS: &[(&str, u16)] = &[("member_identifier", 422), ("offer_state_code", 422)];

/// The merchant reports' window: 1970 to 2100, in epoch seconds.
const EPOCHS: Query = |_| "?from=0&to=4102444800".into();

/// The offer activity report's window (at most 30 days): the fortnight either side of now.
fn report_window() -> (kindling_domain::Timestamp, kindling_domain::Timestamp) {
    let now = kindling_domain::Timestamp::now();
    (now.plus_seconds(-15 * 86_400), now.plus_seconds(15 * 86_400))
}
const OWNERS: &[(&str, u16)] = &[("merchant", 400), ("manufacturer", 400), ("item_set", 400), ("maker_set", 400)];

pub fn cases() -> Vec<Case> {
    vec![
        // Members
        op(GET, "/v1.0/members"),
        op(POST, "/v1.0/members").no_foreign_id("a member references nothing; identifiers are per account"),
        op(GET, "/v1.0/members/search")
            .query(|w| format!("?identifier={}", w.text("member_identifier")))
            .refs(&[("member_identifier", 404)]),
        op(GET, "/v1.0/members/{member_id}"),
        op(PUT, "/v1.0/members/{member_id}").body(|_| json!({"member": {"notification_mode": "email"}})),
        op(DELETE, "/v1.0/members/{member_id}"),
        // The offer engine: zidentifiers, check-ins, activity feeds (member ids in the path or
        // the query name the member: 404), loyalty points (a card is an identifier × channel)
        op(GET, "/v1.0/members/{member_id}/offers/{offer_id}/zidentifiers")
            .query(|w| format!("?x_channel_id={}", w.id("channel")))
            .refs(&[("channel", 404)]),
        op(GET, "/v1.0/members/zidentifiers/{zid}"),
        op(POST, "/v1.0/members/{member_id}/stores/{store_id}/check-in")
            .query(|_| "?check_in[lat]=39.7392&check_in[lng]=-104.9903".into()),
        op(GET, "/v1.0/members/{member_id}/stores/{store_id}")
            .query(|w| format!("?x_channel_id={}", w.id("channel")))
            .refs(&[("channel", 404)]),
        op(GET, "/v1.0/activities/offers").query(|w| format!("?member_id={}", w.id("member"))).refs(&[("member", 404)]),
        op(GET, "/v1.0/members/{member_id}/activities/redemptions"),
        op(GET, "/v1.0/members/{member_id}/stores/{store_id}/activities/redemptions"),
        op(GET, "/v1.0/points/card_status")
            .query(|w| format!("?identifier={}&channel_id={}", w.text("member_identifier"), w.id("channel")))
            .refs(&[("member_identifier", 404), ("channel", 404)]),
        op(POST, "/v1.0/points/transfer")
            .query(|w| {
                format!("?identifier={}&points=5&txid=isolation&channel_id={}", w.text("member_identifier"), w.id("channel"))
            })
            .or_body(|w| {
                json!({"identifier": w.text("member_identifier"), "points": 5, "txid": "isolation",
                    "channel_id": w.id("channel")})
            })
            .refs(&[("member_identifier", 404), ("channel", 404)]),
        // Merchants, stores, store lists and the store searches
        op(GET, "/v1.0/merchants"),
        op(POST, "/v1.0/merchants").no_foreign_id("a merchant references nothing"),
        op(GET, "/v1.0/merchants/{merchant_id}"),
        op(PUT, "/v1.0/merchants/{merchant_id}").body(|_| json!({"merchant": {"name": "renamed"}})),
        op(DELETE, "/v1.0/merchants/{merchant_id}"),
        op(GET, "/v1.0/merchants/stores/{store_id}"),
        op(GET, "/v1.0/merchants/stores/index").query(POINT),
        op(GET, "/v1.0/merchants/stores/nearby/index").query(POINT),
        op(GET, "/v1.0/merchants/stores/nearby/{lat}/{lng}/index"),
        op(GET, "/v1.0/merchants/{merchant_id}/stores/{store_id}/offers"),
        op(GET, "/v1.0/merchants/{merchant_id}/offers"),
        op(GET, "/v1.0/merchants/{merchant_id}/stores"),
        op(POST, "/v1.0/merchants/{merchant_id}/stores").body(|_| json!({"store": {"name": "new"}})),
        op(GET, "/v1.0/merchants/{merchant_id}/stores/{store_id}"),
        op(PUT, "/v1.0/merchants/{merchant_id}/stores/{store_id}").body(|_| json!({"store": {"name": "renamed"}})),
        op(DELETE, "/v1.0/merchants/{merchant_id}/stores/{store_id}"),
        op(GET, "/v1.0/merchants/{merchant_id}/store_lists"),
        op(POST, "/v1.0/merchants/{merchant_id}/store_lists").body(|_| json!({"store_list": {"name": "new"}})),
        op(GET, "/v1.0/merchants/{merchant_id}/store_lists/{store_list_id}"),
        op(PUT, "/v1.0/merchants/{merchant_id}/store_lists/{store_list_id}")
            .body(|_| json!({"store_list": {"name": "renamed"}})),
        op(DELETE, "/v1.0/merchants/{merchant_id}/store_lists/{store_list_id}"),
        op(GET, "/v1.0/merchants/{merchant_id}/store_lists/{store_list_id}/stores"),
        op(GET, "/v1.0/merchants/store_lists/{store_list_id}/stores"),
        op(POST, "/v1.0/merchants/store_lists/{store_list_id}/stores")
            .body(|w| json!({"store_list": {"store_ids": [w.id("store")]}}))
            .refs(&[("store", 400)]),
        op(PUT, "/v1.0/merchants/store_lists/{store_list_id}/stores")
            .body(|w| json!({"store_list": {"store_ids": [w.id("store")]}}))
            .refs(&[("store", 400)]),
        op(DELETE, "/v1.0/merchants/store_lists/{store_list_id}/stores")
            .body(|w| json!({"store_list": {"store_ids": [w.id("store")]}}))
            .refs(&[("store", 200)]),
        // Merchant items and item sets
        op(GET, "/v1.0/merchants/{merchant_id}/items"),
        op(POST, "/v1.0/merchants/{merchant_id}/items").body(|_| json!({"item": {"name": "new", "code": "N"}})),
        op(GET, "/v1.0/merchants/{merchant_id}/items/{item_id}"),
        op(PUT, "/v1.0/merchants/{merchant_id}/items/{item_id}").body(|_| json!({"item": {"name": "renamed"}})),
        op(DELETE, "/v1.0/merchants/{merchant_id}/items/{item_id}"),
        op(GET, "/v1.0/merchants/{merchant_id}/item_sets"),
        op(POST, "/v1.0/merchants/{merchant_id}/item_sets")
            .body(|w| json!({"item_set": {"name": "new", "item_ids": [w.id("item")]}}))
            .refs(&[("item", 400)]),
        op(GET, "/v1.0/merchants/{merchant_id}/item_sets/{item_set_id}"),
        op(PUT, "/v1.0/merchants/{merchant_id}/item_sets/{item_set_id}")
            .body(|w| json!({"item_set": {"item_ids": [w.id("item")]}}))
            .refs(&[("item", 400)]),
        op(DELETE, "/v1.0/merchants/{merchant_id}/item_sets/{item_set_id}"),
        op(GET, "/v1.0/merchants/{merchant_id}/item_sets/{item_set_id}/items"),
        // Manufacturers
        op(GET, "/v1.0/manufacturers"),
        op(POST, "/v1.0/manufacturers").no_foreign_id("a manufacturer references nothing"),
        op(GET, "/v1.0/manufacturers/{manufacturer_id}"),
        op(PUT, "/v1.0/manufacturers/{manufacturer_id}").body(|_| json!({"manufacturer": {"name": "renamed"}})),
        op(DELETE, "/v1.0/manufacturers/{manufacturer_id}"),
        op(GET, "/v1.0/manufacturers/{manufacturer_id}/merchants"),
        op(POST, "/v1.0/manufacturers/{manufacturer_id}/merchants")
            .body(|w| json!({"manufacturer": {"merchant_ids": [w.id("merchant")]}}))
            .refs(&[("merchant", 400)]),
        op(PUT, "/v1.0/manufacturers/{manufacturer_id}/merchants")
            .body(|w| json!({"manufacturer": {"merchant_ids": [w.id("merchant")]}}))
            .refs(&[("merchant", 400)]),
        op(DELETE, "/v1.0/manufacturers/{manufacturer_id}/merchants")
            .body(|w| json!({"manufacturer": {"merchant_ids": [w.id("merchant")]}}))
            .refs(&[("merchant", 201)]),
        op(GET, "/v1.0/manufacturers/{manufacturer_id}/items"),
        op(POST, "/v1.0/manufacturers/{manufacturer_id}/items").body(|_| json!({"item": {"name": "new", "code": "N"}})),
        op(GET, "/v1.0/manufacturers/{manufacturer_id}/items/{item_id}"),
        op(PUT, "/v1.0/manufacturers/{manufacturer_id}/items/{item_id}").body(|_| json!({"item": {"name": "renamed"}})),
        op(DELETE, "/v1.0/manufacturers/{manufacturer_id}/items/{item_id}"),
        op(GET, "/v1.0/manufacturers/{manufacturer_id}/item_sets"),
        op(POST, "/v1.0/manufacturers/{manufacturer_id}/item_sets")
            .body(|w| json!({"item_set": {"name": "new", "item_ids": [w.id("maker_item")]}}))
            .refs(&[("maker_item", 400)]),
        op(GET, "/v1.0/manufacturers/{manufacturer_id}/item_sets/{item_set_id}"),
        op(PUT, "/v1.0/manufacturers/{manufacturer_id}/item_sets/{item_set_id}")
            .body(|w| json!({"item_set": {"item_ids": [w.id("maker_item")]}}))
            .refs(&[("maker_item", 400)]),
        op(DELETE, "/v1.0/manufacturers/{manufacturer_id}/item_sets/{item_set_id}"),
        op(GET, "/v1.0/manufacturers/{manufacturer_id}/item_sets/{item_set_id}/items"),
        // Offers and their links
        op(GET, "/v1.0/offers").query(|w| format!("?merchant_id={}", w.id("merchant"))).refs(&[("merchant", 200)]),
        op(POST, "/v1.0/offers")
            .body(|w| {
                json!({"offer": {"name": "new", "merchant_id": w.id("merchant"), "manufacturer_id": w.id("manufacturer"),
                    "required_item_set_id": w.id("item_set"), "redemption_item_set_id": w.id("maker_set")}})
            })
            .refs(OWNERS),
        op(GET, "/v1.0/offers/{offer_id}"),
        op(PUT, "/v1.0/offers/{offer_id}")
            .body(|w| {
                json!({"offer": {"merchant_id": w.id("merchant"), "manufacturer_id": w.id("manufacturer"),
                    "required_item_set_id": w.id("item_set"), "redemption_item_set_id": w.id("maker_set")}})
            })
            .refs(OWNERS),
        op(DELETE, "/v1.0/offers/{offer_id}"),
        op(PUT, "/v1.0/offers/{offer_id}/actions/{action}"),
        op(GET, "/v1.0/offers/{offer_id}/channels"),
        op(POST, "/v1.0/offers/{offer_id}/channels")
            .body(|w| json!({"offer": {"channel_ids": [w.id("channel")]}}))
            .refs(&[("channel", 400)]),
        op(PUT, "/v1.0/offers/{offer_id}/channels")
            .body(|w| json!({"offer": {"channel_ids": [w.id("channel")]}}))
            .refs(&[("channel", 400)]),
        op(DELETE, "/v1.0/offers/{offer_id}/channels")
            .body(|w| json!({"offer": {"channel_ids": [w.id("channel")]}}))
            .refs(&[("channel", 201)]),
        op(GET, "/v1.0/offers/{offer_id}/channels/{channel_id}"),
        op(PUT, "/v1.0/offers/{offer_id}/channels/{channel_id}")
            .body(|_| json!({"eligible_channel": {"allow_return_later": false}})),
        op(GET, "/v1.0/offers/{offer_id}/member_lists"),
        op(POST, "/v1.0/offers/{offer_id}/member_lists")
            .body(|w| json!({"offer": {"member_list_ids": [w.id("member_list")]}}))
            .refs(&[("member_list", 400)]),
        op(PUT, "/v1.0/offers/{offer_id}/member_lists")
            .body(|w| json!({"offer": {"member_list_ids": [w.id("member_list")]}}))
            .refs(&[("member_list", 400)]),
        op(DELETE, "/v1.0/offers/{offer_id}/member_lists")
            .body(|w| json!({"offer": {"member_list_ids": [w.id("member_list")]}}))
            .refs(&[("member_list", 201)]),
        op(GET, "/v1.0/offers/{offer_id}/merchants"),
        op(POST, "/v1.0/offers/{offer_id}/merchants")
            .body(|w| json!({"offer": {"merchant_ids": [w.id("merchant")]}}))
            .refs(&[("merchant", 400)]),
        op(PUT, "/v1.0/offers/{offer_id}/merchants")
            .body(|w| json!({"offer": {"merchant_ids": [w.id("merchant")]}}))
            .refs(&[("merchant", 400)]),
        op(DELETE, "/v1.0/offers/{offer_id}/merchants")
            .body(|w| json!({"offer": {"merchant_ids": [w.id("merchant")]}}))
            .refs(&[("merchant", 200)]),
        op(GET, "/v1.0/offers/{offer_id}/store_lists"),
        op(POST, "/v1.0/offers/{offer_id}/store_lists")
            .body(|w| json!({"offer": {"store_list_ids": [w.id("store_list")]}}))
            .refs(&[("store_list", 400)]),
        op(PUT, "/v1.0/offers/{offer_id}/store_lists")
            .body(|w| json!({"offer": {"store_list_ids": [w.id("store_list")]}}))
            .refs(&[("store_list", 400)]),
        op(DELETE, "/v1.0/offers/{offer_id}/store_lists")
            .body(|w| json!({"offer": {"store_list_ids": [w.id("store_list")]}}))
            .refs(&[("store_list", 200)]),
        op(GET, "/v1.0/offers/{offer_id}/stores")
            .query(|w| format!("?lat=39.74&lng=-104.99&x_channel_id={}", w.id("channel")))
            .refs(&[("channel", 404)]),
        op(GET, "/v1.0/offers/{offer_id}/eligible_item_sets"),
        op(POST, "/v1.0/offers/{offer_id}/eligible_item_sets")
            .body(|w| json!({"eligible_item_set": {"item_set_id": w.id("account_set")}}))
            .refs(&[("account_set", 400)]),
        op(GET, "/v1.0/offers/{offer_id}/eligible_item_sets/{eligible_item_set_id}"),
        op(PUT, "/v1.0/offers/{offer_id}/eligible_item_sets/{eligible_item_set_id}")
            .body(|w| json!({"eligible_item_set": {"item_set_id": w.id("account_set"), "req_qty": 2}}))
            .refs(&[("account_set", 400)]),
        op(DELETE, "/v1.0/offers/{offer_id}/eligible_item_sets/{eligible_item_set_id}"),
        op(GET, "/v1.0/offers/{offer_id}/passbook_configuration"),
        op(POST, "/v1.0/offers/{offer_id}/passbook_configuration")
            .body(|_| json!({"passbook_configuration": {"team_identifier": "T"}})),
        op(PUT, "/v1.0/offers/{offer_id}/passbook_configuration")
            .body(|_| json!({"passbook_configuration": {"team_identifier": "T"}})),
        op(DELETE, "/v1.0/offers/{offer_id}/passbook_configuration"),
        // Credentials: ids in the query string, as the guide sends them
        op(GET, "/v1.0/credentials")
            .query(|w| format!("?member_id={}&offer_id={}&store_id={}", w.id("member"), w.id("offer"), w.id("store")))
            .refs(&[("member", 200), ("offer", 200), ("store", 200)]),
        op(POST, "/v1.0/credentials")
            .query(|w| {
                format!(
                    "?member_id={}&offer_id={}&channel_id={}&store_id={}",
                    w.id("member"),
                    w.id("offer"),
                    w.id("channel"),
                    w.id("store")
                )
            })
            .or_body(|w| {
                json!({"credential": {"member_id": w.id("member"), "offer_ids": [w.id("offer")],
                    "channel_id": w.id("channel"), "store_id": w.id("store")}})
            })
            .refs(&[("member", 400), ("offer", 400), ("channel", 400), ("store", 400)]),
        op(GET, "/v1.0/credentials/eligible")
            .query(|w| format!("?member_id={}&offer_id={}&channel_id={}", w.id("member"), w.id("offer"), w.id("channel")))
            .refs(&[("member", 404), ("offer", 200), ("channel", 200)]),
        op(GET, "/v1.0/credentials/{credential_id}"),
        op(PUT, "/v1.0/credentials/{credential_id}")
            .query(|w| format!("?channel_id={}&offer_ids={}&store_id={}", w.id("channel"), w.id("offer"), w.id("store")))
            .or_body(|w| {
                json!({"credential": {"channel_id": w.id("channel"), "offer_ids": [w.id("offer")], "store_id": w.id("store")}})
            })
            .refs(&[("channel", 400), ("offer", 400), ("store", 400)]),
        op(DELETE, "/v1.0/credentials/{credential_id}"),
        op(PUT, "/v1.0/credentials/{credential_id}/redeem")
            .query(|w| format!("?store_id={}", w.id("store")))
            .refs(&[("store", 400)]),
        op(PUT, "/v1.0/credentials/{credential_id}/void"),
        // Offer wallet: a transfer names the state by its token, a search by token or code
        op(GET, "/v1.0/members/offer_states")
            .query(|w| format!("?token={}&credential_identifier={}", w.text("offer_state_token"), w.text("offer_state_code")))
            .refs(&[("offer_state_token", 200), ("offer_state_code", 200)]),
        op(GET, "/v1.0/members/{member_id}/offer_states")
            .query(|w| format!("?channel_id={}", w.id("channel")))
            .refs(&[("channel", 200)]),
        op(POST, "/v1.0/members/{member_id}/offer_states")
            .query(|w| format!("?channel_id={}&offer_id={}", w.id("channel"), w.id("offer")))
            .or_body(|w| json!({"offer_state": {"token": w.text("offer_state_token")}}))
            .refs(&[("channel", 400), ("offer", 400), ("offer_state_token", 404)]),
        op(POST, "/v1.0/members/offer_states/issue")
            .body(|w| json!({"offer_state": {"campaign_id": w.text("xid"), "member_id": w.id("member")}}))
            .refs(&[("xid", 404), ("member", 404)]),
        op(GET, "/v1.0/members/{member_id}/offer_states/{offer_state_id}"),
        op(PUT, "/v1.0/members/{member_id}/offer_states/{offer_state_id}")
            .body(|_| json!({"offer_state": {"external_ref_id": "changed"}})),
        op(POST, "/v1.0/members/{member_id}/offer_states/{offer_state_id}/void"),
        op(POST, "/v1.0/members/offer_states/{offer_state_id}/void")
            .query(|w| format!("?member_identifier={}", w.text("member_identifier")))
            .refs(&[("member_identifier", 404)]),
        // Impressions: the body names the offer×channel by xid
        op(GET, "/v1.0/impressions")
            .query(|w| format!("?offer_xid={}&member_id={}", w.text("xid"), w.id("member")))
            .refs(&[("xid", 200), ("member", 200)]),
        op(POST, "/v1.0/impressions")
            .body(|w| json!({"impression": {"cookie_id": "visitor", "offer_xid": w.text("xid"), "member_id": w.id("member")}}))
            .refs(&[("xid", 404), ("member", 404)]),
        op(DELETE, "/v1.0/impressions/{impression_id}"),
        // Reports: a foreign channel or store list is not found; an offer is a filter
        op(GET, "/v1.0/reports/offer_activity")
            .query(|w| {
                let (from, to) = report_window();
                format!(
                    "?from_reported_datetime={from}&to_reported_datetime={to}&channel_id={}&offer_id={}",
                    w.id("channel"),
                    w.id("offer")
                )
            })
            .refs(&[("channel", 404), ("offer", 200)]),
        op(GET, "/v1.0/reports/redemptions")
            .query(|w| format!("?from_business_date=2000-01-01&to_business_date=2100-01-01&bi_storelist={}", w.id("store_list")))
            .refs(&[("store_list", 404)]),
        op(GET, "/v1.0/reports/account_level").query(EPOCHS),
        op(GET, "/v1.0/merchants/{merchant_id}/reports/full").query(EPOCHS),
        op(GET, "/v1.0/merchants/{merchant_id}/reports/impressions").query(EPOCHS),
        // Channels, campaigns, member lists
        op(GET, "/v1.0/channels"),
        op(POST, "/v1.0/channels").no_foreign_id("a channel references nothing"),
        op(GET, "/v1.0/channels/{channel_id}"),
        op(PUT, "/v1.0/channels/{channel_id}").body(|_| json!({"channel": {"allow_sms_keyword": true}})),
        op(DELETE, "/v1.0/channels/{channel_id}"),
        op(GET, "/v1.0/campaigns").query(|w| format!("?external_id={}", w.text("external_id"))).refs(&[("external_id", 404)]),
        op(POST, "/v1.0/campaigns")
            .body(|w| json!({"campaign": {"offer_id": w.id("offer"), "channel_name": "new channel"}}))
            .refs(&[("offer", 400)]),
        op(GET, "/v1.0/campaigns/search").query(|w| format!("?channel_id={}", w.id("channel"))).refs(&[("channel", 404)]),
        op(GET, "/v1.0/campaigns/{campaign_id}"),
        op(PUT, "/v1.0/campaigns/{campaign_id}").body(|_| json!({"campaign": {"funding_source": "merchant"}})),
        op(DELETE, "/v1.0/campaigns/{campaign_id}"),
        op(GET, "/v1.0/member_lists"),
        op(POST, "/v1.0/member_lists").no_foreign_id("a member list is created empty"),
        op(GET, "/v1.0/member_lists/{member_list_id}"),
        op(PUT, "/v1.0/member_lists/{member_list_id}").body(|_| json!({"member_list": {"name": "renamed"}})),
        op(DELETE, "/v1.0/member_lists/{member_list_id}"),
        op(GET, "/v1.0/member_lists/{member_list_id}/members"),
        op(POST, "/v1.0/member_lists/{member_list_id}/members")
            .body(|w| json!({"member_list": {"member_ids": [w.id("member")]}}))
            .refs(&[("member", 400)]),
        op(PUT, "/v1.0/member_lists/{member_list_id}/members")
            .body(|w| json!({"member_list": {"member_ids": [w.id("member")]}}))
            .refs(&[("member", 400)]),
        op(DELETE, "/v1.0/member_lists/{member_list_id}/members")
            .body(|w| json!({"member_list": {"member_ids": [w.id("member")]}}))
            .refs(&[("member", 200)]),
        // Account-wide items and item sets
        op(GET, "/v1.0/items"),
        op(POST, "/v1.0/items").no_foreign_id("an account-wide item has no owner"),
        op(GET, "/v1.0/items/{item_id}"),
        op(PUT, "/v1.0/items/{item_id}").body(|_| json!({"item": {"name": "renamed"}})),
        op(DELETE, "/v1.0/items/{item_id}"),
        op(GET, "/v1.0/item_sets"),
        op(POST, "/v1.0/item_sets")
            .body(|w| json!({"item_set": {"name": "new", "merchant_id": w.id("merchant"), "item_ids": [w.id("item")]}}))
            .or_body(|w| {
                json!({"item_set": {"name": "new", "manufacturer_id": w.id("manufacturer"), "item_ids": [w.id("maker_item")]}})
            })
            .or_body(|w| json!({"item_set": {"name": "new", "item_ids": [w.id("account_item")]}}))
            .refs(&[("merchant", 400), ("item", 400), ("manufacturer", 400), ("maker_item", 400), ("account_item", 400)]),
        op(GET, "/v1.0/item_sets/{item_set_id}"),
        op(PUT, "/v1.0/item_sets/{item_set_id}")
            .body(|w| json!({"item_set": {"item_ids": [w.id("item")]}}))
            .refs(&[("item", 400)]),
        op(DELETE, "/v1.0/item_sets/{item_set_id}"),
        op(GET, "/v1.0/item_sets/{item_set_id}/items"),
        // Counters, events and POS offer codes (registered by the world's offer)
        op(GET, "/v1.0/counters"),
        op(POST, "/v1.0/counters").no_foreign_id("a counter references nothing"),
        op(GET, "/v1.0/counters/{counter_id}"),
        op(PUT, "/v1.0/counters/{counter_id}").body(|_| json!({"counter": {"name": 7}})),
        op(DELETE, "/v1.0/counters/{counter_id}"),
        op(GET, "/v1.0/events"),
        op(POST, "/v1.0/events").no_foreign_id("an event references nothing"),
        op(GET, "/v1.0/events/{event_id}"),
        op(PUT, "/v1.0/events/{event_id}").body(|_| json!({"event": {"name": "renamed"}})),
        op(DELETE, "/v1.0/events/{event_id}"),
        op(GET, "/v1.0/pos_offer_codes"),
        op(GET, "/v1.0/pos_offer_codes/{pos_offer_code_id}"),
        // Member privacy names the member by identifier and/or a credential's code
        op(GET, "/v1.0/privacy/member/export").query(PRIVACY_SUBJECT).refs(PRIVACY_REFS),
        op(POST, "/v1.0/privacy/member/delete_request").query(PRIVACY_SUBJECT).refs(PRIVACY_REFS),
    ]
}
