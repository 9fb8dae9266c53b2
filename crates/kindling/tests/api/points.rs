//! The Loyalty Points tag: a member's card (by identifier) on a channel, transfers in and
//! out, a txid that never credits twice (also replayed concurrently), no balance below zero,
//! and bad input that writes nothing.

use crate::backend_tests;
use crate::credentials::{member, post_query};
use crate::helpers::{TestAccount, TestApp, TestResponse};
use crate::offers::channel;
use crate::zidentifiers::parallel;
use reqwest::Method;
use serde_json::json;

backend_tests!(
    transfers_and_balances,
    bad_input_writes_nothing,
    concurrent_replays_credit_once,
    identifiers_are_matched_as_sent
);

const STATUS: &str = "/v1.0/points/card_status";
const TRANSFER: &str = "/v1.0/points/transfer";

async fn balance(app: &TestApp, acct: &TestAccount, identifier: &str, channel: i64) -> i64 {
    let r = app.get(acct, &format!("{STATUS}?identifier={identifier}&channel_id={channel}")).await;
    r.spec("get", STATUS);
    assert_eq!(r.body["message"], format!("Card balance: {} points", r.body["balance"]));
    r.body["balance"].as_i64().unwrap()
}

async fn transfer(
    app: &TestApp,
    acct: &TestAccount,
    identifier: &str,
    channel: i64,
    points: i64,
    txid: &str,
) -> TestResponse {
    post_query(
        app,
        acct,
        &format!("{TRANSFER}?identifier={identifier}&points={points}&txid={txid}&channel_id={channel}"),
    )
    .await
}

async fn transfers(app: &TestApp, acct: &TestAccount) -> i64 {
    let sql = "SELECT COUNT(*) FROM points_transfers WHERE account_id = $1";
    app.db.fetch_optional::<i64>(sql, &[acct.id.into()]).await.unwrap().unwrap_or(0)
}

async fn transfers_and_balances(app: TestApp) {
    let acct = app.account().await;
    member(&app, &acct, "card-1").await;
    let app_channel = channel(&app, &acct, "App").await;
    let web = channel(&app, &acct, "Web").await;
    assert_eq!(balance(&app, &acct, "card-1", app_channel).await, 0);

    let credited = transfer(&app, &acct, "card-1", app_channel, 100, "tx-1").await;
    credited.spec("post", TRANSFER);
    assert_eq!(
        credited.body,
        json!({"message": "Transferred 100 points; card balance: 100 points", "balance": 100, "errors": {}})
    );
    assert_eq!(
        credited.headers["location"],
        format!("/v1.0/points/card_status?identifier=card-1&channel_id={app_channel}").as_str()
    );
    // A replay answers the first result and credits nothing.
    let replayed = transfer(&app, &acct, "card-1", app_channel, 100, "tx-1").await;
    replayed.spec("post", TRANSFER);
    assert_eq!(replayed.body, credited.body);
    assert_eq!(balance(&app, &acct, "card-1", app_channel).await, 100);

    // Spending, with the parameters in a JSON body (numbers as numbers or as text).
    let body = json!({"identifier": "card-1", "points": -30, "txid": "tx-2", "channel_id": app_channel});
    let spent = app.post(&acct, TRANSFER, body).await;
    spent.spec("post", TRANSFER);
    assert_eq!(spent.body["message"], "Transferred -30 points; card balance: 70 points");
    let body = json!({"identifier": "card-1", "points": "5", "txid": "tx-3", "channel_id": app_channel.to_string()});
    app.post(&acct, "/v1.0/points/transfer.json", body).await.spec("post", TRANSFER);
    assert_eq!(balance(&app, &acct, "card-1", app_channel).await, 75);

    // Below zero is refused and records nothing, so the txid stays free.
    let overdrawn = transfer(&app, &acct, "card-1", app_channel, -76, "tx-4").await;
    assert_eq!(
        overdrawn.error(422),
        "Insufficient points: the card has 75 points and no transfer may leave it below zero"
    );
    assert_eq!(balance(&app, &acct, "card-1", app_channel).await, 75);
    let emptied = transfer(&app, &acct, "card-1", app_channel, -75, "tx-4").await;
    emptied.spec("post", TRANSFER);
    assert_eq!(emptied.body["balance"], 0);
    // A new card cannot start below zero either.
    member(&app, &acct, "card-2").await;
    transfer(&app, &acct, "card-2", app_channel, -1, "tx-5").await.error(422);

    // A txid used for other points, card or channel is a conflict, not a replay.
    for (identifier, channel, points) in
        [("card-1", app_channel, 99), ("card-2", app_channel, 100), ("card-1", web, 100)]
    {
        let reused = transfer(&app, &acct, identifier, channel, points, "tx-1").await;
        assert_eq!(reused.error(409), "txid was already used for a transfer of other points, member or channel");
    }
    // Balances are per channel; txids are per account.
    assert_eq!(balance(&app, &acct, "card-1", web).await, 0);
    transfer(&app, &acct, "card-1", web, 7, "web-1").await.spec("post", TRANSFER);
    assert_eq!((balance(&app, &acct, "card-1", web).await, balance(&app, &acct, "card-1", app_channel).await), (7, 0));
    let other = app.account().await;
    member(&app, &other, "card-1").await;
    let their_channel = channel(&app, &other, "App").await;
    let theirs = transfer(&app, &other, "card-1", their_channel, 3, "tx-1").await;
    theirs.spec("post", TRANSFER);
    assert_eq!(theirs.body["balance"], 3);
    assert_eq!(transfers(&app, &acct).await, 5);
    // Points are the member's value: a card's member or channel cannot be deleted.
    let holder = app.get(&acct, "/v1.0/members/search?identifier=card-1").await;
    let holder = holder.error_free().body["member"]["id"].as_i64().unwrap();
    app.delete(&acct, &format!("/v1.0/members/{holder}")).await.error(409);
    app.delete(&acct, &format!("/v1.0/channels/{web}")).await.error(409);
    assert_eq!(balance(&app, &acct, "card-1", web).await, 7);
}

const RESERVED: &str = "txid must not start with pos: or void: (the point of sale's own transfers)";

async fn bad_input_writes_nothing(app: TestApp) {
    let acct = app.account().await;
    let other = app.account().await;
    member(&app, &acct, "card-1").await;
    member(&app, &other, "theirs").await;
    let ch = channel(&app, &acct, "App").await;
    let their_channel = channel(&app, &other, "App").await;
    let ok = format!("identifier=card-1&channel_id={ch}");
    for (query, status, message) in [
        (format!("channel_id={ch}&points=1&txid=t"), 400, "identifier is required".to_owned()),
        (format!("identifier=%20&channel_id={ch}&points=1&txid=t"), 400, "identifier is required".into()),
        ("identifier=card-1&points=1&txid=t".into(), 400, "channel_id is required".into()),
        ("identifier=card-1&channel_id=App&points=1&txid=t".into(), 400, "channel_id must be an integer".into()),
        (format!("{ok}&txid=t"), 400, "points is required".into()),
        (format!("{ok}&points=ten&txid=t"), 400, "points must be an integer".into()),
        (format!("{ok}&points=1.5&txid=t"), 400, "points must be an integer".into()),
        (format!("{ok}&points=99999999999999999999&txid=t"), 400, "points must be an integer".into()),
        (
            format!("{ok}&points=0&txid=t"),
            400,
            "points must be a non-zero integer between -1000000000 and 1000000000".into(),
        ),
        (
            format!("{ok}&points=1000000001&txid=t"),
            400,
            "points must be a non-zero integer between -1000000000 and 1000000000".into(),
        ),
        (
            format!("{ok}&points=-9223372036854775808&txid=t"),
            400,
            "points must be a non-zero integer between -1000000000 and 1000000000".into(),
        ),
        (format!("{ok}&points=1"), 400, "txid is required".into()),
        // The point of sale's own txids: a client's could make a ticket unsettleable.
        (format!("{ok}&points=1&txid=pos:1:2:3"), 400, RESERVED.into()),
        (format!("{ok}&points=1&txid=%20void:pos:1:2:3"), 400, RESERVED.into()),
        (format!("{ok}&points=1&txid={}", "x".repeat(256)), 400, "txid is too long (maximum is 255 characters)".into()),
        (
            format!("identifier={}&channel_id={ch}&points=1&txid=t", "x".repeat(256)),
            400,
            "identifier is too long (maximum is 255 characters)".into(),
        ),
        (
            format!("identifier=nobody&channel_id={ch}&points=1&txid=t"),
            404,
            "member not found with that identifier".into(),
        ),
        (
            format!("identifier=theirs&channel_id={ch}&points=1&txid=t"),
            404,
            "member not found with that identifier".into(),
        ),
        (format!("identifier=card-1&channel_id={their_channel}&points=1&txid=t"), 404, "channel not found".into()),
        ("identifier=card-1&channel_id=8000000000000&points=1&txid=t".into(), 404, "channel not found".into()),
    ] {
        let r = post_query(&app, &acct, &format!("{TRANSFER}?{query}")).await;
        assert_eq!(r.error(status), message, "{query}");
    }
    // Bodies: wrong types, malformed JSON, too large.
    for (body, message) in [
        (
            json!({"identifier": "card-1", "channel_id": ch, "points": true, "txid": "t"}).to_string(),
            "points must be an integer",
        ),
        (
            json!({"identifier": ["card-1"], "channel_id": ch, "points": 1, "txid": "t"}).to_string(),
            "identifier must be a string",
        ),
        (
            json!({"identifier": "card-1", "channel_id": ch, "points": 1.0, "txid": "t"}).to_string(),
            "points must be an integer",
        ),
        ("{\"identifier\": ".to_owned(), ""),
        ("[1, 2]".to_owned(), "request body must be a JSON object of parameters"),
    ] {
        let r = app.raw(Some(&acct.token), Method::POST, TRANSFER, Some(body.clone())).await;
        let error = r.error(400);
        assert!(error.starts_with(message), "{body}: {error}");
    }
    let huge = json!({"identifier": "card-1", "channel_id": ch, "points": 1, "txid": "x".repeat(3 << 20)}).to_string();
    app.raw(Some(&acct.token), Method::POST, TRANSFER, Some(huge)).await.error(413);
    for (query, status) in [
        (format!("channel_id={ch}"), 400),
        ("identifier=card-1".into(), 400),
        (format!("identifier=theirs&channel_id={ch}"), 404),
        (format!("identifier=card-1&channel_id={their_channel}"), 404),
    ] {
        app.get(&acct, &format!("{STATUS}?{query}")).await.error(status);
    }
    assert_eq!(transfers(&app, &acct).await, 0, "nothing written");
    assert_eq!(balance(&app, &acct, "card-1", ch).await, 0);
}

/// Sixteen concurrent sends of one transfer credit once and all answer the same.
async fn concurrent_replays_credit_once(app: TestApp) {
    let acct = app.account().await;
    member(&app, &acct, "card-1").await;
    let ch = channel(&app, &acct, "App").await;
    transfer(&app, &acct, "card-1", ch, 10, "seed").await.spec("post", TRANSFER);
    let path = format!("{TRANSFER}?identifier=card-1&points=25&txid=burst&channel_id={ch}");
    let answers = parallel(&app, &acct, Method::POST, &path, 16).await;
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(
            body,
            &json!({"message": "Transferred 25 points; card balance: 35 points", "balance": 35, "errors": {}})
        );
    }
    assert_eq!(balance(&app, &acct, "card-1", ch).await, 35);
    assert_eq!(transfers(&app, &acct).await, 2);
}

/// Members are stored by their identifier as sent, so `"pad "` and `"pad"` are two members
/// and each card is found by its own identifier, never by the other's trimmed form.
async fn identifiers_are_matched_as_sent(app: TestApp) {
    let acct = app.account().await;
    let app_channel = channel(&app, &acct, "App").await;
    member(&app, &acct, "pad").await;
    member(&app, &acct, "pad ").await;
    let padded = app
        .post(&acct, TRANSFER, json!({"identifier": "pad ", "points": 40, "txid": "p-1", "channel_id": app_channel}))
        .await;
    padded.spec("post", TRANSFER);
    transfer(&app, &acct, "pad", app_channel, 2, "p-2").await.spec("post", TRANSFER);
    assert_eq!(
        (balance(&app, &acct, "pad%20", app_channel).await, balance(&app, &acct, "pad", app_channel).await),
        (40, 2)
    );
    // Only a padded member: the unpadded identifier names nobody.
    member(&app, &acct, " solo").await;
    transfer(&app, &acct, "%20solo", app_channel, 5, "p-3").await.spec("post", TRANSFER);
    assert_eq!(balance(&app, &acct, "%20solo", app_channel).await, 5);
    let missing = app.get(&acct, &format!("{STATUS}?identifier=solo&channel_id={app_channel}")).await;
    missing.error(404);
}
