//! The Reports tag: redemptions, offer activity, unique impressions, the merchant and
//! account-level reports, each over data seeded through the API (times moved with SQL only
//! where a report buckets by day), with every parameter rule and other accounts' ids.

use crate::backend_tests;
use crate::credentials::{member, post_query, put_query};
use crate::helpers::{TestAccount, TestApp, TestResponse};
use crate::merchants::merchant;
use crate::offers::{approve, channel, offer};
use kindling_domain::Timestamp;
use serde_json::{json, Value};

backend_tests!(
    redemptions_report,
    redemptions_report_rules,
    offer_activity_report,
    offer_activity_report_rules,
    impressions_report,
    merchant_and_account_level_reports,
    merchant_report_rules,
    reports_run_a_fixed_number_of_statements,
    reports_show_the_point_of_sale_ticket,
);

/// 2030-01-01T00:00:00Z: the day reports bucket moved rows into.
const DAY1: i64 = 1_893_456_000;
const DAY: i64 = 86_400;

async fn store(app: &TestApp, acct: &TestAccount, merchant: i64, name: &str, number: &str) -> i64 {
    let created = app
        .post(acct, &format!("/v1.0/merchants/{merchant}/stores"), json!({"store": {"name": name, "number": number}}))
        .await;
    created.error_free().body["store"]["id"].as_i64().unwrap()
}

/// An approved offer on `channel`, with its campaign xid.
async fn offer_on(app: &TestApp, acct: &TestAccount, channel: i64, body: Value) -> (i64, String) {
    let id = offer(app, acct, body).await;
    app.post(acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [channel]}}))
        .await
        .error_free();
    approve(app, acct, id).await;
    let campaigns = app.get(acct, "/v1.0/campaigns?per_page=100").await;
    let xid = campaigns.body["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["campaign"])
        .find(|c| c["offer_id"] == id && c["channel_id"] == channel)
        .map(|c| c["xid"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no campaign for offer {id}: {}", campaigns.text));
    (id, xid)
}

/// Issues a credential for the offer on the channel (at `store`, if any); returns (id, code).
async fn issue(app: &TestApp, acct: &TestAccount, m: i64, o: i64, c: i64, store: Option<i64>) -> (i64, String) {
    let at = store.map(|s| format!("&store_id={s}")).unwrap_or_default();
    let issued =
        post_query(app, acct, &format!("/v1.0/credentials?member_id={m}&offer_id={o}&channel_id={c}{at}")).await;
    let credential = &issued.error_free().body["credential"];
    (credential["id"].as_i64().unwrap(), credential["identifier"].as_str().unwrap().to_owned())
}

async fn redeem(app: &TestApp, acct: &TestAccount, credential: i64) {
    put_query(app, acct, &format!("/v1.0/credentials/{credential}/redeem")).await.error_free();
}

async fn void(app: &TestApp, acct: &TestAccount, credential: i64) {
    put_query(app, acct, &format!("/v1.0/credentials/{credential}/void")).await.error_free();
}

/// Moves a credential's redemptions to `at` (and that day's business date).
async fn redeemed_at(app: &TestApp, credential: i64, at: i64) {
    let date = kindling_domain::time::business_date(Timestamp::from_unix(at), None);
    app.db
        .execute(
            "UPDATE redemptions SET redeemed_at = $1, business_date = $2 WHERE credential_id = $3",
            &[at.into(), date.into(), credential.into()],
        )
        .await
        .unwrap();
}

fn ids(rows: &Value, key: &str) -> Vec<i64> {
    rows.as_array().unwrap().iter().map(|r| r[key].as_i64().unwrap()).collect()
}

fn today() -> String {
    kindling_domain::time::business_date(Timestamp::now(), None)
}

fn around_now() -> (String, String) {
    let now = Timestamp::now().unix();
    (Timestamp::from_unix(now - 3600).to_string(), Timestamp::from_unix(now + 3600).to_string())
}

/// A merchant with two stores (the first in a store list), two offers on one channel, two
/// members and four redeemed credentials (the last voided afterwards):
/// c1 = (m1, A, store 1), c2 = (m2, A, store 2), c3 = (m1, B, no store), c4 = (m2, B) voided.
struct Seeded {
    merchant: i64,
    stores: [i64; 2],
    list: i64,
    channel: i64,
    offers: [(i64, String); 2],
    members: [i64; 2],
    credentials: [(i64, String); 4],
}

async fn seed(app: &TestApp, acct: &TestAccount) -> Seeded {
    let merchant = merchant(app, acct, "Q Burger").await;
    let stores =
        [store(app, acct, merchant, "Downtown", "101").await, store(app, acct, merchant, "Uptown", "102").await];
    let list = app
        .post(acct, &format!("/v1.0/merchants/{merchant}/store_lists"), json!({"store_list": {"name": "Core"}}))
        .await
        .body["store_list"]["id"]
        .as_i64()
        .unwrap();
    app.post(
        acct,
        &format!("/v1.0/merchants/store_lists/{list}/stores"),
        json!({"store_list": {"store_ids": [stores[0]]}}),
    )
    .await
    .error_free();
    let channel = channel(app, acct, "Reports App").await;
    let offers = [
        offer_on(app, acct, channel, json!({"name": "Free Fries", "merchant_id": merchant})).await,
        offer_on(app, acct, channel, json!({"name": "Free Shake"})).await,
    ];
    let members = [member(app, acct, "ann").await, member(app, acct, "bob").await];
    let (a, b) = (offers[0].0, offers[1].0);
    let credentials = [
        issue(app, acct, members[0], a, channel, Some(stores[0])).await,
        issue(app, acct, members[1], a, channel, Some(stores[1])).await,
        issue(app, acct, members[0], b, channel, None).await,
        issue(app, acct, members[1], b, channel, None).await,
    ];
    for (id, _) in &credentials {
        redeem(app, acct, *id).await;
    }
    void(app, acct, credentials[3].0).await;
    Seeded { merchant, stores, list, channel, offers, members, credentials }
}

async fn redemptions(app: &TestApp, acct: &TestAccount, query: &str) -> TestResponse {
    let r = app.get(acct, &format!("/v1.0/reports/redemptions{query}")).await;
    if r.status == 200 {
        r.spec("get", "/v1.0/reports/redemptions");
    }
    r
}

async fn redemptions_report(app: TestApp) {
    let acct = app.account().await;
    let s = seed(&app, &acct).await;
    let (from, to) = around_now();
    let by_time =
        redemptions(&app, &acct, &format!("?from_redemption_datetime={from}&to_redemption_datetime={to}")).await;
    let rows = &by_time.body["redemptions"];
    // The voided redemption is not reported.
    assert_eq!(rows.as_array().unwrap().len(), 3, "{}", by_time.text);
    let (c1, code1) = &s.credentials[0];
    let first = &rows[0];
    let redeemed = first["redemption_datetime"].as_str().unwrap();
    assert!(redeemed.ends_with('Z') && redeemed.len() == 20, "{redeemed}");
    let expected = json!({
        "id": first["id"], "pos_transaction_id": null, "pos_offer_code": null, "operator_id": null,
        "member_id": s.members[0], "credential_identifier": code1, "store_name": "Downtown", "store_number": "101",
        "store_id": s.stores[0], "offer_id": s.offers[0].0, "offer_name": "Free Fries", "channel_id": s.channel,
        "channel_name": "Reports App", "purchase_amount": null, "value": null, "transaction_items": [],
        "business_date": today(), "redemption_datetime": redeemed, "customer_identifier": "ann",
        "campaign_id": s.offers[0].1, "campaign_name": "Free Fries"});
    assert_eq!(first, &expected);
    assert_eq!(ids(rows, "member_id"), [s.members[0], s.members[1], s.members[0]]);
    assert_eq!(rows[2]["store_id"], json!(null));
    assert_eq!(rows[2]["campaign_id"], json!(s.offers[1].1));

    // Business dates: dates or date-times (their date as written).
    let day = today();
    let by_date = redemptions(&app, &acct, &format!("?from_business_date={day}&to_business_date={day}")).await;
    assert_eq!(by_date.body, by_time.body);
    let as_times =
        redemptions(&app, &acct, &format!("?from_business_date={day}T00:00:00Z&to_business_date={day}T23:59:59Z"))
            .await;
    assert_eq!(as_times.body, by_time.body);

    // Only the store list's stores.
    let listed = redemptions(
        &app,
        &acct,
        &format!("?from_redemption_datetime={from}&to_redemption_datetime={to}&bi_storelist={}", s.list),
    )
    .await;
    assert_eq!(ids(&listed.body["redemptions"], "store_id"), [s.stores[0]]);

    // A redemption moved to 2030-01-01 leaves today's window and enters that day's.
    redeemed_at(&app, *c1, DAY1 + 3600).await;
    let today_rows = redemptions(&app, &acct, &format!("?from_business_date={day}&to_business_date={day}")).await;
    assert_eq!(today_rows.body["redemptions"].as_array().unwrap().len(), 2);
    let moved = redemptions(&app, &acct, "?from_business_date=2030-01-01&to_business_date=2030-01-01").await;
    assert_eq!(ids(&moved.body["redemptions"], "member_id"), [s.members[0]]);
    assert_eq!(moved.body["redemptions"][0]["business_date"], "2030-01-01");
    assert_eq!(moved.body["redemptions"][0]["redemption_datetime"], "2030-01-01T01:00:00Z");
    let edges = redemptions(
        &app,
        &acct,
        "?from_redemption_datetime=2030-01-01T01:00:00Z&to_redemption_datetime=2030-01-01T01:00:00Z",
    )
    .await;
    assert_eq!(edges.body["redemptions"].as_array().unwrap().len(), 1, "both ends are included");
    // An offset's unencoded `+` arrives as a space and is read as the `+` it was.
    let offset = redemptions(
        &app,
        &acct,
        "?from_redemption_datetime=2030-01-01T02:00:00+01:00&to_redemption_datetime=2030-01-01T02:00:00+01:00",
    )
    .await;
    assert_eq!(offset.body["redemptions"].as_array().unwrap().len(), 1, "{}", offset.text);
    let empty = redemptions(&app, &acct, "?from_business_date=2029-12-31&to_business_date=2029-12-31").await;
    assert_eq!(empty.body, json!({"redemptions": []}));

    // Another account sees none of it.
    let other = app.account().await;
    let theirs = redemptions(&app, &other, "?from_business_date=2000-01-01&to_business_date=2100-01-01").await;
    assert_eq!(theirs.body, json!({"redemptions": []}));
}

async fn redemptions_report_rules(app: TestApp) {
    let acct = app.account().await;
    let s = seed(&app, &acct).await;
    let both = "?from_business_date=2030-01-01&to_business_date=2030-01-02\
                &from_redemption_datetime=2030-01-01T00:00:00Z&to_redemption_datetime=2030-01-02T00:00:00Z";
    assert_eq!(
        redemptions(&app, &acct, both).await.error(422),
        "give business dates or redemption date-times, not both"
    );
    assert_eq!(
        redemptions(&app, &acct, "?from_business_date=2030-01-02&to_business_date=2030-01-01").await.error(422),
        "the window ends before it starts"
    );
    redemptions(
        &app,
        &acct,
        "?from_redemption_datetime=2030-01-02T00:00:00Z&to_redemption_datetime=2030-01-01T00:00:00Z",
    )
    .await
    .error(422);
    assert!(redemptions(&app, &acct, "").await.error(400).starts_with("one pair of dates is required"));
    assert!(redemptions(&app, &acct, "?bi_storelist=1&from_business_date=").await.error(400).starts_with("one pair"));
    assert_eq!(
        redemptions(&app, &acct, "?from_business_date=2030-01-01").await.error(400),
        "from_business_date and to_business_date must be given together"
    );
    redemptions(&app, &acct, "?to_redemption_datetime=2030-01-01T00:00:00Z").await.error(400);
    assert_eq!(
        redemptions(&app, &acct, "?from_business_date=2030-1-1&to_business_date=2030-01-02").await.error(400),
        "from_business_date must be a date (YYYY-MM-DD)"
    );
    redemptions(&app, &acct, "?from_redemption_datetime=soon&to_redemption_datetime=later").await.error(400);
    redemptions(&app, &acct, "?from_business_date=%00&to_business_date=2030-01-01").await.error(400);
    redemptions(&app, &acct, "?from_business_date=%FF&to_business_date=2030-01-01").await.error(400);
    let window = "?from_business_date=2030-01-01&to_business_date=2030-01-02";
    assert_eq!(
        redemptions(&app, &acct, &format!("{window}&bi_storelist=Core")).await.error(400),
        "bi_storelist must be an integer"
    );
    assert_eq!(
        redemptions(&app, &acct, &format!("{window}&bi_storelist=99999999")).await.error(404),
        "store list not found"
    );
    let other = app.account().await;
    redemptions(&app, &other, &format!("{window}&bi_storelist={}", s.list)).await.error(404);
    redemptions(&app, &acct, &format!("{window}&bi_storelist={}", s.list))
        .await
        .spec("get", "/v1.0/reports/redemptions");
}

async fn activity(app: &TestApp, acct: &TestAccount, query: &str) -> TestResponse {
    let r = app.get(acct, &format!("/v1.0/reports/offer_activity{query}")).await;
    if r.status == 200 {
        r.spec("get", "/v1.0/reports/offer_activity");
    }
    r
}

fn types(rows: &Value) -> Vec<&str> {
    rows.as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect()
}

async fn offer_activity_report(app: TestApp) {
    let acct = app.account().await;
    let s = seed(&app, &acct).await;
    let (from, to) = around_now();
    let reported = format!("?from_reported_datetime={from}&to_reported_datetime={to}");
    let all = activity(&app, &acct, &format!("{reported}&channel_id={}", s.channel)).await;
    // Issued four, redeemed four, voided one, in that order.
    assert_eq!(
        types(&all.body),
        ["issue", "issue", "issue", "issue", "redeem", "redeem", "redeem", "redeem", "void"],
        "{}",
        all.text
    );
    let (c1, code1) = &s.credentials[0];
    let redeem = &all.body[4];
    let at = redeem["reported_at"].as_str().unwrap();
    assert_eq!(
        redeem,
        &json!({"id": redeem["id"], "credential_identifier": code1, "reported_at": at, "processed_at": at,
            "business_date": format!("{}T00:00:00Z", today()), "type": "redeem", "offer_id": s.offers[0].0,
            "channel_id": s.channel, "member": {"id": s.members[0].to_string(), "identifier": "ann"},
            "offer_state": null})
    );
    // The channel by name; filters.
    let by_name = activity(&app, &acct, &format!("{reported}&channel_name=Reports%20App")).await;
    assert_eq!(by_name.body, all.body);
    let c = s.channel;
    let redeems = activity(&app, &acct, &format!("{reported}&channel_id={c}&type=redeem")).await;
    assert_eq!(types(&redeems.body), ["redeem"; 4]);
    let expired = activity(&app, &acct, &format!("{reported}&channel_id={c}&type=expire")).await;
    assert_eq!(expired.body, json!([]));
    let of_a = activity(&app, &acct, &format!("{reported}&channel_id={c}&offer_id={}", s.offers[0].0)).await;
    assert_eq!(types(&of_a.body), ["issue", "issue", "redeem", "redeem"]);
    let campaign = activity(&app, &acct, &format!("{reported}&channel_id={c}&campaign_xid={}", s.offers[1].1)).await;
    assert_eq!(ids(&campaign.body, "offer_id"), [s.offers[1].0; 5]);
    let code = activity(&app, &acct, &format!("{reported}&channel_id={c}&credential_identifier={code1}")).await;
    assert_eq!(types(&code.body), ["issue", "redeem"]);
    let combined =
        activity(&app, &acct, &format!("{reported}&channel_id={c}&type=void&offer_id={}", s.offers[1].0)).await;
    assert_eq!(types(&combined.body), ["void"]);
    let quiet = channel(&app, &acct, "Quiet").await;
    assert_eq!(activity(&app, &acct, &format!("{reported}&channel_id={quiet}")).await.body, json!([]));

    // Priority: reported, then processed, then business; the first pair given is used.
    let past = "from_reported_datetime=2020-01-01T00:00:00Z&to_reported_datetime=2020-01-02T00:00:00Z";
    let processed = format!("from_processed_datetime={from}&to_processed_datetime={to}");
    let day = today();
    let business = format!("from_business_date={day}&to_business_date={day}");
    let reported_wins = activity(&app, &acct, &format!("?{past}&{processed}&{business}&channel_id={c}")).await;
    assert_eq!(reported_wins.body, json!([]));
    let processed_only = activity(&app, &acct, &format!("?{processed}&channel_id={c}")).await;
    assert_eq!(processed_only.body, all.body);
    let business_only = activity(&app, &acct, &format!("?{business}&channel_id={c}")).await;
    assert_eq!(business_only.body, all.body);
    let past_processed = "from_processed_datetime=2020-01-01T00:00:00Z&to_processed_datetime=2020-01-02T00:00:00Z";
    assert_eq!(activity(&app, &acct, &format!("?{past_processed}&{business}&channel_id={c}")).await.body, json!([]));

    // Moving c1's activities to 2030-01-01 moves them between windows (business dates too).
    app.db
        .execute(
            "UPDATE offer_activities SET reported_at = $1, processed_at = $1 WHERE credential_id = $2",
            &[(DAY1 + 600).into(), (*c1).into()],
        )
        .await
        .unwrap();
    assert_eq!(activity(&app, &acct, &format!("{reported}&channel_id={c}")).await.body.as_array().unwrap().len(), 7);
    let moved =
        activity(&app, &acct, &format!("?from_business_date=2030-01-01&to_business_date=2030-01-01&channel_id={c}"))
            .await;
    assert_eq!(types(&moved.body), ["issue", "redeem"]);
    assert_eq!(moved.body[0]["business_date"], "2030-01-01T00:00:00Z");
    let edges = activity(
        &app,
        &acct,
        &format!(
            "?from_reported_datetime=2030-01-01T00:10:00Z&to_reported_datetime=2030-01-01T00:10:00Z&channel_id={c}"
        ),
    )
    .await;
    assert_eq!(edges.body.as_array().unwrap().len(), 2, "both ends are included");

    // Another account: its own channel sees nothing of ours; ours is not found.
    let other = app.account().await;
    let theirs = channel(&app, &other, "Reports App").await;
    assert_eq!(activity(&app, &other, &format!("{reported}&channel_id={theirs}")).await.body, json!([]));
    assert_eq!(activity(&app, &other, &format!("{reported}&channel_name=Reports%20App")).await.body, json!([]));
    assert_eq!(activity(&app, &other, &format!("{reported}&channel_id={c}")).await.error(404), "channel not found");
}

async fn offer_activity_report_rules(app: TestApp) {
    let acct = app.account().await;
    let c = channel(&app, &acct, "Web").await;
    let ok = |r: TestResponse| assert_eq!(r.body, json!([]), "{}", r.text);
    let day = "from_reported_datetime=2030-01-01T00:00:00Z&to_reported_datetime=2030-01-02T00:00:00Z";
    assert_eq!(activity(&app, &acct, &format!("?{day}")).await.error(400), "channel_id or channel_name is required");
    assert!(activity(&app, &acct, &format!("?channel_id={c}"))
        .await
        .error(400)
        .starts_with("one pair of dates is required"));
    assert_eq!(
        activity(&app, &acct, &format!("?from_processed_datetime=2030-01-01T00:00:00Z&channel_id={c}"))
            .await
            .error(400),
        "from_processed_datetime and to_processed_datetime must be given together"
    );
    // A lone half is refused even beside a complete pair of higher priority.
    activity(&app, &acct, &format!("?{day}&to_business_date=2030-01-01&channel_id={c}")).await.error(400);
    // 30 days is the longest window: 30 × 24 hours, or 30 business dates.
    let thirty = "from_reported_datetime=2030-01-01T00:00:00Z&to_reported_datetime=2030-01-31T00:00:00Z";
    ok(activity(&app, &acct, &format!("?{thirty}&channel_id={c}")).await);
    let longer = "from_reported_datetime=2030-01-01T00:00:00Z&to_reported_datetime=2030-01-31T00:00:01Z";
    assert_eq!(
        activity(&app, &acct, &format!("?{longer}&channel_id={c}")).await.error(400),
        "the date window must not exceed 30 days"
    );
    ok(activity(&app, &acct, &format!("?from_business_date=2030-01-01&to_business_date=2030-01-30&channel_id={c}"))
        .await);
    activity(&app, &acct, &format!("?from_business_date=2030-01-01&to_business_date=2030-01-31&channel_id={c}"))
        .await
        .error(400);
    let processed_long = "from_processed_datetime=2030-01-01T00:00:00Z&to_processed_datetime=2030-03-01T00:00:00Z";
    activity(&app, &acct, &format!("?{processed_long}&channel_id={c}")).await.error(400);
    assert_eq!(
        activity(
            &app,
            &acct,
            &format!(
                "?from_reported_datetime=2030-01-02T00:00:00Z&to_reported_datetime=2030-01-01T00:00:00Z&channel_id={c}"
            )
        )
        .await
        .error(400),
        "the date window ends before it starts"
    );
    assert_eq!(
        activity(&app, &acct, &format!("?from_reported_datetime=yesterday&to_reported_datetime=today&channel_id={c}"))
            .await
            .error(400),
        "from_reported_datetime must be an ISO 8601 date-time"
    );
    activity(&app, &acct, &format!("?from_business_date=2030-02-30&to_business_date=2030-03-01&channel_id={c}"))
        .await
        .error(400);
    assert!(activity(&app, &acct, &format!("?{day}&channel_id={c}&type=redeemed"))
        .await
        .error(400)
        .starts_with("type must be"));
    assert_eq!(
        activity(&app, &acct, &format!("?{day}&channel_id=web")).await.error(400),
        "channel_id must be an integer"
    );
    activity(&app, &acct, &format!("?{day}&channel_id={c}&offer_id=x")).await.error(400);
    assert_eq!(activity(&app, &acct, &format!("?{day}&channel_id=99999999")).await.error(404), "channel not found");
    activity(&app, &acct, &format!("?{day}&channel_name=Nowhere")).await.error(404);
    // Text a database cannot take, and bytes that are not UTF-8.
    for bad in ["channel_name=A%00B", "channel_id=1&credential_identifier=%00", "channel_id=1&campaign_xid=x%00"] {
        assert_eq!(
            activity(&app, &acct, &format!("?{day}&{bad}")).await.error(400),
            "query parameters must not contain NUL characters"
        );
    }
    activity(&app, &acct, &format!("?from_business_date=%FF&to_business_date=%FE&channel_id={c}")).await.error(400);
    let long = "x".repeat(4000);
    ok(activity(&app, &acct, &format!("?{day}&channel_id={c}&credential_identifier={long}&campaign_xid={long}")).await);
    for kind in ["redeem", "expire", "issue", "void", "suspend", "unsuspend"] {
        ok(activity(&app, &acct, &format!("?{day}&channel_id={c}&type={kind}")).await);
    }
}

async fn impressions_report(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let elsewhere = merchant(&app, &acct, "Elsewhere").await;
    let c = channel(&app, &acct, "Email").await;
    let (a, xa) = offer_on(&app, &acct, c, json!({"name": "Free Fries", "merchant_id": m})).await;
    // B belongs to another merchant but is eligible at this one.
    let (b, xb) = offer_on(&app, &acct, c, json!({"name": "Free Shake", "merchant_id": elsewhere})).await;
    app.post(&acct, &format!("/v1.0/offers/{b}/merchants"), json!({"offer": {"merchant_ids": [m]}})).await.error_free();
    let (_, xo) = offer_on(&app, &acct, c, json!({"name": "Other", "merchant_id": elsewhere})).await;
    // (cookie, xid, when): k1 twice on day 1 counts once; k1 on day 2 again; B once; the other
    // merchant's offer and a view after the window do not count.
    let views = [
        ("k1", &xa, DAY1 + 100),
        ("k1", &xa, DAY1 + 200),
        ("k2", &xa, DAY1 + 300),
        ("k1", &xa, DAY1 + DAY + 5),
        ("k3", &xb, DAY1 + DAY + 6),
        ("k9", &xo, DAY1 + 400),
        ("k4", &xa, DAY1 + 3 * DAY),
    ];
    for (cookie, xid, at) in views {
        let created =
            app.post(&acct, "/v1.0/impressions", json!({"impression": {"cookie_id": cookie, "offer_xid": xid}})).await;
        let id = created.error_free().body["impression"]["id"].as_i64().unwrap();
        app.db.execute("UPDATE impressions SET created_at = $1 WHERE id = $2", &[at.into(), id.into()]).await.unwrap();
    }
    let path = format!("/v1.0/merchants/{m}/reports/impressions");
    let report = app.get(&acct, &format!("{path}?from={DAY1}&to={}", DAY1 + 2 * DAY - 1)).await;
    report.spec("get", "/v1.0/merchants/{merchant_id}/reports/impressions");
    assert_eq!(
        report.body,
        json!({"data": [{"report": {"impressions": {
            "data_items": [[["2030-01-01", "2"], ["2030-01-02", "1"]], [["2030-01-02", "1"]]],
            "series": [{"name": "Free Fries", "value": "2"}, {"name": "Free Shake", "value": "1"}]}}}]})
    );
    assert!(a < b);
    let first_day = app.get(&acct, &format!("{path}?from={DAY1}&to={}", DAY1 + 100)).await;
    first_day.spec("get", "/v1.0/merchants/{merchant_id}/reports/impressions");
    assert_eq!(
        first_day.body["data"][0]["report"]["impressions"],
        json!({"data_items": [[["2030-01-01", "1"]]], "series": [{"name": "Free Fries", "value": "1"}]})
    );
    // Days follow the account's time zone: in Denver the first three views fall on Dec 31.
    app.put(&acct, "/v1.0/account", json!({"account": {"time_zone": "America/Denver"}})).await.error_free();
    let denver = app.get(&acct, &format!("{path}?from={DAY1}&to={}", DAY1 + 2 * DAY - 1)).await;
    assert_eq!(
        denver.body["data"][0]["report"]["impressions"]["data_items"],
        json!([[["2029-12-31", "2"], ["2030-01-01", "1"]], [["2030-01-01", "1"]]])
    );
    let none = app.get(&acct, &format!("/v1.0/merchants/{elsewhere}/reports/impressions?from=0&to=1")).await;
    none.spec("get", "/v1.0/merchants/{merchant_id}/reports/impressions");
    assert_eq!(none.body, json!({"data": [{"report": {"impressions": {"data_items": [], "series": []}}}]}));

    // Landing-page views count too: a returning visitor once, a new one again.
    let lm = merchant(&app, &acct, "Landing Merchant").await;
    let page = crate::landing::landing(&app, &acct, json!({"name": "Landing", "merchant_id": lm})).await;
    let page_path = format!("/{}", page.xid);
    let first = crate::landing::view(&app, &page_path, None).await;
    assert_eq!(first.status, 200);
    crate::landing::view(&app, &page_path, Some(&first.cookie())).await;
    crate::landing::view(&app, &page_path, None).await;
    let now = Timestamp::now().unix();
    let viewed = app
        .get(&acct, &format!("/v1.0/merchants/{lm}/reports/impressions?from={}&to={}", now - 3600, now + 3600))
        .await;
    viewed.spec("get", "/v1.0/merchants/{merchant_id}/reports/impressions");
    assert_eq!(viewed.body["data"][0]["report"]["impressions"]["series"], json!([{"name": "Landing", "value": "2"}]));

    // Rules.
    assert_eq!(
        app.get(&acct, &format!("{path}?from={DAY1}")).await.error(400),
        "from and to are required, together (epoch seconds)"
    );
    app.get(&acct, &path).await.error(400);
    assert_eq!(
        app.get(&acct, &format!("{path}?from=2030-01-01&to=1")).await.error(400),
        "from must be an integer (epoch seconds)"
    );
    assert_eq!(app.get(&acct, &format!("{path}?from=5&to=4")).await.error(400), "the window ends before it starts");
    let other = app.account().await;
    assert_eq!(app.get(&other, &format!("{path}?from=0&to=1")).await.error(404), "merchant not found");
    app.get(&acct, "/v1.0/merchants/99999999/reports/impressions?from=0&to=1").await.error(404);
    app.get(&acct, "/v1.0/merchants/abc/reports/impressions?from=0&to=1").await.error(404);
}

async fn full(app: &TestApp, acct: &TestAccount, merchant: i64, from: i64, to: i64) -> Value {
    let r = app.get(acct, &format!("/v1.0/merchants/{merchant}/reports/full?from={from}&to={to}")).await;
    r.spec("get", "/v1.0/merchants/{merchant_id}/reports/full");
    r.body
}

async fn account_level(app: &TestApp, acct: &TestAccount, from: i64, to: i64) -> Value {
    let r = app.get(acct, &format!("/v1.0/reports/account_level?from={from}&to={to}")).await;
    r.spec("get", "/v1.0/reports/account_level");
    r.body
}

/// The merchant_report fields Kindling cannot compute without a point-of-sale ticket among
/// the redemptions, or does not record.
fn unknown_fields(report: &Value) {
    for key in ["total_purchase_amount", "average_purchase", "average_items_per_transaction", "number_of_items"] {
        assert_eq!(report[key], json!(null), "{key}");
    }
    for key in [
        "total_purchase_amount_by_location",
        "total_purchase_amount_by_merchant",
        "average_items_per_transaction_per_location",
        "average_purchase_by_location",
        "item_counts",
        "customer_age_groups",
        "customer_genders",
    ] {
        assert_eq!(report[key], json!({}), "{key}");
    }
}

async fn merchant_and_account_level_reports(app: TestApp) {
    let acct = app.account().await;
    let s = seed(&app, &acct).await;
    let (m, [s1, s2], c) = (s.merchant, s.stores, s.channel);
    let [(a, xa), (b, _)] = s.offers.clone();
    let [ann, bob] = s.members;
    // Another merchant's store: B redeemed there counts for that merchant.
    let n = merchant(&app, &acct, "Shake Shack").await;
    let s3 = store(&app, &acct, n, "Pier", "301").await;
    let c5 = issue(&app, &acct, ann, a, c, Some(s1)).await.0;
    let c6 = issue(&app, &acct, bob, b, c, Some(s3)).await.0;
    for id in [c5, c6] {
        redeem(&app, &acct, id).await;
    }
    // Day 1: c1 (ann, A, s1), c2 (bob, A, s2); day 2: c5 (ann, A, s1), c3 (ann, B, no store:
    // no merchant), c6 (bob, B at s3: merchant n). c4 is voided.
    let [c1, c2, c3, c4] = s.credentials.clone().map(|(id, _)| id);
    for (id, at) in [
        (c1, DAY1 + 10),
        (c2, DAY1 + 20),
        (c5, DAY1 + DAY + 30),
        (c3, DAY1 + DAY + 40),
        (c6, DAY1 + DAY + 50),
        (c4, DAY1 + 60),
    ] {
        redeemed_at(&app, id, at).await;
    }
    let window = (DAY1, DAY1 + 2 * DAY - 1);
    let body = full(&app, &acct, m, window.0, window.1).await;
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    let report = &data[0];
    assert_eq!(report["total_redemptions"], 3);
    assert_eq!(report["redemptions_by_date"], json!({"2030-01-01": "2", "2030-01-02": "1"}));
    assert_eq!(report["redemptions_by_location"], json!({s1.to_string(): 2, s2.to_string(): 1}));
    assert_eq!(report["redemptions_by_merchant"], json!({m.to_string(): 3}));
    assert_eq!(report["redemptions_by_offer"], json!({a.to_string(): {"2030-01-01": 2, "2030-01-02": 1}}));
    assert_eq!(report["customers_by_period"], json!({"2030-01-01": 2, "2030-01-02": 1}));
    // ann redeemed twice, bob once.
    assert_eq!(report["customer_frequency"], json!({"1": 1, "2": 1}));
    unknown_fields(report);
    let rows = &report["data"];
    assert_eq!(ids(rows, "credential_id"), [c1, c2, c5]);
    let row = &rows[0];
    assert_eq!(
        (&row["merchant_id"], &row["account_id"], &row["member_id"], &row["store_id"], &row["store_name"]),
        (&json!(m), &json!(acct.id), &json!(ann), &json!(s1), &json!("Downtown"))
    );
    assert_eq!(
        (&row["offer_id"], &row["offer_name"], &row["channel_id"], &row["channel_name"], &row["customer_identifier"]),
        (&json!(a), &json!("Free Fries"), &json!(c), &json!("Reports App"), &json!("ann"))
    );
    assert_eq!(
        (&row["business_date"], &row["redemption_datetime"], &row["campaign_id"], &row["campaign_name"]),
        (&json!("2030-01-01T00:00:00Z"), &json!("2030-01-01T00:00:10Z"), &json!(xa), &json!("Free Fries"))
    );
    assert_eq!((&row["credential_identifier"], &row["store_number"]), (&json!(s.credentials[0].1), &json!("101")));
    for key in ["items", "transaction_items", "item_groups", "redeemed_items", "impression_ids"] {
        assert_eq!(row[key], json!([]), "{key}");
    }
    for key in ["purchase_amount", "customer_age", "customer_gender", "pos_transaction_id", "offer_state_id"] {
        assert_eq!(row[key], json!(null), "{key}");
    }

    // The first day only; an empty window is one report of nothing.
    let day1 = full(&app, &acct, m, DAY1, DAY1 + DAY - 1).await;
    assert_eq!(day1["data"][0]["total_redemptions"], 2);
    let nothing = full(&app, &acct, m, 0, 1).await;
    let empty = &nothing["data"][0];
    assert_eq!((&empty["total_redemptions"], &empty["data"]), (&json!(0), &json!([])));
    assert_eq!((&empty["redemptions_by_date"], &empty["customer_frequency"]), (&json!({}), &json!({})));

    // Account level: one report per merchant, by id, then the redemptions of no merchant.
    let all = account_level(&app, &acct, window.0, window.1).await;
    let reports = all["data"].as_array().unwrap();
    assert_eq!(reports.len(), 3, "{all}");
    assert_eq!(reports[0], *report);
    assert_eq!(reports[1]["total_redemptions"], 1);
    assert_eq!(reports[1]["redemptions_by_merchant"], json!({n.to_string(): 1}));
    assert_eq!(reports[1]["redemptions_by_location"], json!({s3.to_string(): 1}));
    assert_eq!(ids(&reports[1]["data"], "credential_id"), [c6]);
    assert_eq!(reports[2]["total_redemptions"], 1);
    assert_eq!(reports[2]["redemptions_by_merchant"], json!({}));
    assert_eq!(reports[2]["redemptions_by_location"], json!({}));
    assert_eq!(reports[2]["redemptions_by_offer"], json!({b.to_string(): {"2030-01-02": 1}}));
    assert_eq!(reports[2]["data"][0]["merchant_id"], json!(null));
    assert_eq!(account_level(&app, &acct, 0, 1).await, json!({"data": []}));

    // Another account sees nothing of these.
    let other = app.account().await;
    assert_eq!(account_level(&app, &other, window.0, window.1).await, json!({"data": []}));
}

async fn merchant_report_rules(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let path = format!("/v1.0/merchants/{m}/reports/full");
    for p in [path.as_str(), "/v1.0/reports/account_level"] {
        assert_eq!(
            app.get(&acct, &format!("{p}?from=1")).await.error(400),
            "from and to are required, together (epoch seconds)"
        );
        app.get(&acct, &format!("{p}?to=1")).await.error(400);
        app.get(&acct, p).await.error(400);
        assert_eq!(
            app.get(&acct, &format!("{p}?from=1&to=x")).await.error(400),
            "to must be an integer (epoch seconds)"
        );
        app.get(&acct, &format!("{p}?from=1.5&to=2")).await.error(400);
        assert_eq!(app.get(&acct, &format!("{p}?from=2&to=1")).await.error(400), "the window ends before it starts");
    }
    let other = app.account().await;
    assert_eq!(app.get(&other, &format!("{path}?from=0&to=1")).await.error(404), "merchant not found");
    app.get(&acct, "/v1.0/merchants/99999999/reports/full?from=0&to=1").await.error(404);
    full(&app, &acct, m, 0, 1).await;
}

/// A report's path, its query over one row and over eight, and how to count its rows.
type Measured = (String, [String; 2], fn(&Value) -> usize);

/// Each report runs the same number of statements over one row as over nine (measured on a
/// separate `kindling serve` process, as tests/api/statements.rs does for list pages).
async fn reports_run_a_fixed_number_of_statements(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Many").await;
    let c = channel(&app, &acct, "App").await;
    let stores = [store(&app, &acct, m, "One", "1").await, store(&app, &acct, m, "Two", "2").await];
    let offers = [
        offer_on(&app, &acct, c, json!({"name": "First", "merchant_id": m})).await,
        offer_on(&app, &acct, c, json!({"name": "Second", "merchant_id": m})).await,
    ];
    let mut credentials = Vec::new();
    for i in 0..9 {
        let person = member(&app, &acct, &format!("member-{i}")).await;
        let (o, xid) = &offers[i % 2];
        let (id, _) = issue(&app, &acct, person, *o, c, Some(stores[i % 2])).await;
        redeem(&app, &acct, id).await;
        credentials.push(id);
        let view = json!({"impression": {"cookie_id": format!("cookie-{i}"), "offer_xid": xid}});
        let id = app.post(&acct, "/v1.0/impressions", view).await.body["impression"]["id"].as_i64().unwrap();
        if i == 0 {
            app.db
                .execute("UPDATE impressions SET created_at = $1 WHERE id = $2", &[DAY1.into(), id.into()])
                .await
                .unwrap();
        }
    }
    // The first credential's redemption and activities move to 2030-01-01; the rest stay now.
    redeemed_at(&app, credentials[0], DAY1).await;
    app.db
        .execute(
            "UPDATE offer_activities SET reported_at = $1, processed_at = $1 WHERE credential_id = $2",
            &[DAY1.into(), credentials[0].into()],
        )
        .await
        .unwrap();

    let server = crate::cli::Server::start(&app.url).await;
    let client = reqwest::Client::new();
    let base = server.base.as_str();
    let scrape_alone = crate::statements::fewest(&client, base, async || {}).await;
    let now = Timestamp::now().unix();
    let (from, to) = around_now();
    let one_day = ("2030-01-01T00:00:00Z", "2030-01-01T23:59:59Z");
    let epochs = [(DAY1, DAY1 + DAY - 1), (now - 3600, now + 3600)];
    let reports: [Measured; 5] = [
        (
            "/v1.0/reports/redemptions".to_owned(),
            [(one_day.0, one_day.1), (from.as_str(), to.as_str())]
                .map(|(f, t)| format!("?from_redemption_datetime={f}&to_redemption_datetime={t}")),
            |b| b["redemptions"].as_array().unwrap().len(),
        ),
        (
            "/v1.0/reports/offer_activity".to_owned(),
            [(one_day.0, one_day.1), (from.as_str(), to.as_str())].map(|(f, t)| {
                format!("?from_reported_datetime={f}&to_reported_datetime={t}&channel_id={c}&type=redeem")
            }),
            |b| b.as_array().unwrap().len(),
        ),
        ("/v1.0/reports/account_level".to_owned(), epochs.map(|(f, t)| format!("?from={f}&to={t}")), |b| {
            b["data"][0]["data"].as_array().unwrap().len()
        }),
        (format!("/v1.0/merchants/{m}/reports/full"), epochs.map(|(f, t)| format!("?from={f}&to={t}")), |b| {
            b["data"][0]["data"].as_array().unwrap().len()
        }),
        (format!("/v1.0/merchants/{m}/reports/impressions"), epochs.map(|(f, t)| format!("?from={f}&to={t}")), |b| {
            let items = b["data"][0]["report"]["impressions"]["data_items"].as_array().unwrap();
            let days = items.iter().flat_map(|days| days.as_array().unwrap());
            days.map(|day| day[1].as_str().unwrap().parse::<usize>().unwrap()).sum()
        }),
    ];
    for (path, queries, rows) in reports {
        let mut counts = Vec::new();
        for (query, expected) in queries.iter().zip([1, 8]) {
            let url = format!("{base}{path}{query}");
            let statements = crate::statements::fewest(&client, base, async || {
                let response = client.get(&url).header("X-Auth-Token", &acct.token).send().await.unwrap();
                assert_eq!(response.status(), 200, "{url}");
                let body: Value = response.json().await.unwrap();
                assert_eq!(rows(&body), expected, "{url}: {body}");
            })
            .await;
            counts.push(statements - scrape_alone);
        }
        assert_eq!(counts[0], counts[1], "{path}: statements over one row, then over eight");
        assert!((1..=4).contains(&counts[0]), "{path}: {} statements", counts[0]);
    }
}

/// A redemption made at a point-of-sale ticket shows the ticket in both reports: the point
/// of sale's own transaction id, the operator, the lines as rung up (their sum is the
/// purchase amount), and the discount this redemption gave; a code of the same member
/// redeemed through the API keeps them null and `[]`. A voided ticket's redemption goes.
async fn reports_show_the_point_of_sale_ticket(app: TestApp) {
    let acct = app.account().await;
    let s = crate::pos::shop(&app, &acct, json!({})).await;
    let (_, code) = crate::pos::code(&app, &acct, &s, s.member).await;
    let mut closing = crate::pos::meal();
    closing["operator_id"] = json!("op-7");
    let settled = crate::pos::finalize(&app, &acct, &s, &code, "t-report", closing).await;
    assert_eq!(settled.status, 200, "{}", settled.text);
    let ticket = settled.body["transaction_id"].as_i64().unwrap();
    let (_, second) = crate::pos::code(&app, &acct, &s, s.member).await;
    let basket = json!({"items": [crate::pos::item("1", "BURGER", 1, 899), crate::pos::item("2", "FRIES", 2, 698)]});
    let settled = crate::pos::finalize(&app, &acct, &s, &second, "t-report-2", basket).await;
    assert_eq!(settled.status, 200, "{}", settled.text);
    let (plain, _) = crate::pos::code(&app, &acct, &s, s.member).await;
    redeem(&app, &acct, plain).await;

    let line = |name: &str, code: &str, price: i64| {
        json!({"name": name, "item_code": code, "quantity": 1, "ext_price": price,
            "transaction_type": null, "extra_data": null})
    };
    let at_ticket = json!({"pos_transaction_id": "t-report", "operator_id": "op-7", "purchase_amount": 1248,
        "value": 349, "transaction_items": [line("burger", "BURGER", 899), line("fries", "FRIES", 349)]});
    let without = json!({"pos_transaction_id": null, "operator_id": null, "purchase_amount": null, "value": null,
        "transaction_items": []});
    let expect = |row: &Value, fields: &Value| {
        for (field, value) in fields.as_object().unwrap() {
            assert_eq!(&row[field], value, "{field}: {row}");
        }
    };
    let (from, to) = around_now();
    let window = format!("?from_redemption_datetime={from}&to_redemption_datetime={to}");
    let listed = redemptions(&app, &acct, &window).await;
    let rows = listed.body["redemptions"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{}", listed.text);
    expect(&rows[0], &at_ticket);
    assert_eq!((&rows[1]["purchase_amount"], &rows[1]["transaction_items"][1]["quantity"]), (&json!(1597), &json!(2)));
    expect(&rows[2], &without);

    let now = Timestamp::now().unix();
    let level = account_level(&app, &acct, now - 3600, now + 3600).await;
    // The ticket's store's merchant's report, then that of redemptions of no merchant.
    let reports = level["data"].as_array().unwrap();
    assert_eq!(reports.len(), 2, "{level}");
    expect(&reports[0]["data"][0], &at_ticket);
    expect(&reports[1]["data"][0], &without);
    // The merchant's two tickets: 12.48 and 15.97 rung up, two and three items.
    let merchant = reports[0]["data"][0]["merchant_id"].as_i64().unwrap();
    let (store, merchant) = (s.store.to_string(), merchant.to_string());
    let totals = json!({"total_purchase_amount": 2845, "average_purchase": 1422.5,
        "average_items_per_transaction": 2.5, "number_of_items": 5,
        "total_purchase_amount_by_location": {&store: 2845}, "total_purchase_amount_by_merchant": {&merchant: 2845},
        "average_purchase_by_location": {&store: 1422.5}, "average_items_per_transaction_per_location": {&store: 2.5}});
    expect(&reports[0], &totals);
    // No ticket among the other report's redemptions: nothing to total.
    unknown_fields(&reports[1]);

    // The portal's CSV of the same rows ends with the ticket's columns.
    let viewer = crate::portal::user(&app, &acct, kindling_domain::portal::Role::Viewer, &[]).await;
    let mut portal = crate::portal::Portal::signed_in(&app, &viewer).await;
    let csv = portal.get(&format!("/admin/reports/redemptions.csv?from={}&to={}", today(), today())).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{}", csv.text);
    assert!(lines[0].ends_with(",campaign_id,pos_transaction_id,operator_id,purchase_amount,value"), "{}", lines[0]);
    assert!(lines[1].ends_with(",t-report,op-7,1248,349"), "{}", lines[1]);
    assert!(lines[3].ends_with(",,,,"), "{}", lines[3]);

    app.post(&acct, &format!("/v1.0/transactions/{ticket}/void"), json!({})).await.error_free();
    let after = redemptions(&app, &acct, &window).await;
    assert_eq!(after.body["redemptions"].as_array().unwrap().len(), 2, "{}", after.text);
    expect(&after.body["redemptions"][1], &without);
    let level = account_level(&app, &acct, now - 3600, now + 3600).await;
    let one = json!({"total_purchase_amount": 1597, "average_purchase": 1597.0, "number_of_items": 3});
    expect(&level["data"][0], &one);
}
