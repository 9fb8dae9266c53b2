//! Member Privacy: the export of everything held about a member, the lookup rules, deletion
//! requests (open credentials voided at once), and the anonymization job run with an injected
//! clock: not before the retention, once after it, once across concurrent and restarted
//! workers, and never in another account.

use crate::backend_tests;
use crate::credentials::{issue, member, post_query, put_query, setup, Setup};
use crate::helpers::{while_held, TestAccount, TestApp, TestResponse};
use kindling_domain::{AccountId, Timestamp};
use kindling_workers::privacy::{self, Clock, Config};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;

backend_tests!(
    export_shows_everything_held,
    export_lists_the_members_tickets,
    lookup_rules,
    delete_request_voids_open_credentials,
    anonymized_after_the_retention,
    workers_anonymize_once_and_after_a_restart,
    other_accounts_are_never_touched,
    retention_is_set_with_the_cli,
    concurrent_requests_void_once,
    a_racing_redemption_is_never_voided,
    anonymizing_waits_for_a_redemption_without_deadlock,
    anonymizing_scrubs_the_members_callbacks,
);

const EXPORT: &str = "/v1.0/privacy/member/export";
const DELETE: &str = "/v1.0/privacy/member/delete_request";
const DAY: i64 = 24 * 60 * 60;

async fn export(app: &TestApp, acct: &TestAccount, query: &str) -> TestResponse {
    let r = app.get(acct, &format!("{EXPORT}?{query}")).await;
    if r.status == 200 {
        r.spec("get", EXPORT);
    }
    r
}

async fn delete_request(app: &TestApp, acct: &TestAccount, query: &str) -> TestResponse {
    let r = post_query(app, acct, &format!("{DELETE}?{query}")).await;
    if r.status == 200 {
        r.spec("post", DELETE);
    }
    r
}

/// An issued credential: (id, code).
async fn credential(app: &TestApp, acct: &TestAccount, s: &Setup, member: i64) -> (i64, String) {
    let issued = issue(app, acct, s, member).await;
    let c = &issued.error_free().body["credential"];
    (c["id"].as_i64().unwrap(), c["identifier"].as_str().unwrap().to_owned())
}

async fn status(app: &TestApp, acct: &TestAccount, credential: i64) -> Value {
    app.get(acct, &format!("/v1.0/credentials/{credential}")).await.body["credential"]["status"].clone()
}

/// The offer's xid on the setup's channel.
async fn xid(app: &TestApp, s: &Setup) -> String {
    let sql = "SELECT xid FROM eligible_channels WHERE offer_id = $1";
    app.db.fetch_optional::<String>(sql, &[s.offer.into()]).await.unwrap().unwrap()
}

async fn impression(app: &TestApp, acct: &TestAccount, s: &Setup, member: i64) -> Value {
    let body = json!({"impression": {"cookie_id": "cookie-ann", "offer_xid": xid(app, s).await, "member_id": member,
        "creative_name": "hero", "annotations": {"email": "ann@example.com"}}});
    app.post(acct, "/v1.0/impressions", body).await.error_free().body["impression"].clone()
}

/// A clock fixed `days` from now.
fn later(days: i64) -> impl Clock {
    let at = Timestamp::now().plus_seconds(days * DAY);
    move || at
}

/// The job's settings for these accounts only (other tests share a PostgreSQL database).
fn only(accounts: &[&TestAccount]) -> Config {
    Config { accounts: Some(accounts.iter().map(|a| AccountId(a.id)).collect()), ..Config::default() }
}

/// Runs the job `days` from now for `accounts`; how many members it anonymized.
async fn run(app: &TestApp, accounts: &[&TestAccount], days: i64) -> usize {
    privacy::run_once(&app.db, &later(days), &only(accounts)).await.unwrap()
}

async fn export_shows_everything_held(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let ann = member(&app, &acct, "ann@example.com").await;
    let (redeemed, redeemed_code) = credential(&app, &acct, &s, ann).await;
    put_query(&app, &acct, &format!("/v1.0/credentials/{redeemed}/redeem")).await.error_free();
    let (_, open_code) = credential(&app, &acct, &s, ann).await;
    let seen = impression(&app, &acct, &s, ann).await;
    // Someone else's credential stays out of Ann's export.
    credential(&app, &acct, &s, s.member).await;

    let got = export(&app, &acct, "member_identifier=ann%40example.com").await;
    assert_eq!(got.status, 200, "{}", got.text);
    let shown = app.get(&acct, &format!("/v1.0/members/{ann}")).await;
    let activities = app.get(&acct, &format!("/v1.0/activities/offers?member_id={ann}")).await;
    let activities: Vec<Value> =
        activities.body["collection"].as_array().unwrap().iter().map(|a| a["offer_activity"].clone()).collect();
    assert_eq!(activities.len(), 3, "two issues and a redemption");
    assert_eq!(
        got.body,
        json!({
            "member": {"created_at": shown.body["member"]["created_at"], "identifier": "ann@example.com"},
            "credentials": [{"identifier": redeemed_code}, {"identifier": open_code}],
            "offer_activities": activities,
            "transactions": [],
            "impressions": [seen],
        })
    );
    // A member with nothing but their record exports empty lists.
    member(&app, &acct, "bare").await;
    let bare = export(&app, &acct, "member_identifier=bare").await;
    assert_eq!(
        (&bare.body["credentials"], &bare.body["offer_activities"], &bare.body["impressions"]),
        (&json!([]), &json!([]), &json!([]))
    );
}

/// A point-of-sale ticket that redeemed the member's code is in their export, as the spec's
/// `transaction`; another member's export does not have it.
async fn export_lists_the_members_tickets(app: TestApp) {
    let acct = app.account().await;
    let s = crate::pos::shop(&app, &acct, json!({})).await;
    let (credential, code) = crate::pos::code(&app, &acct, &s, s.member).await;
    let mut closing = crate::pos::meal();
    closing["receipt_id"] = json!("R-9");
    closing["business_date"] = json!("2026-03-04");
    closing["total_paid"] = json!(899);
    let settled = crate::pos::finalize(&app, &acct, &s, &code, "tran-export", closing).await;
    assert_eq!(settled.status, 200, "{}", settled.text);
    let ticket = settled.body["transaction_id"].as_i64().unwrap();
    let identifier = app.get(&acct, &format!("/v1.0/members/{}", s.member)).await.body["member"]["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = export(&app, &acct, &format!("member_identifier={identifier}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let listed = got.body["transactions"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{}", got.text);
    let t = &listed[0];
    let expect = json!({"id": ticket, "member_id": s.member, "store_id": s.store, "credential_id": credential,
        "receipt_id": "R-9", "business_date": "2026-03-04T00:00:00Z", "nr_items": 2, "purchased_amount": 1248,
        "total_discount": 349, "total_paid": 899, "terminal_id": null, "check_number": null});
    for (field, value) in expect.as_object().unwrap() {
        assert_eq!(&t[field], value, "{field}: {t}");
    }
    assert!(t["reported_at"].is_string() && t["transaction_identifier"].is_string(), "{t}");
    member(&app, &acct, "no-tickets").await;
    assert_eq!(export(&app, &acct, "member_identifier=no-tickets").await.body["transactions"], json!([]));
}

async fn lookup_rules(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let ann = member(&app, &acct, "ann").await;
    let (first, code) = credential(&app, &acct, &s, ann).await;
    let by_identifier = export(&app, &acct, "member_identifier=ann").await;
    let by_code = export(&app, &acct, &format!("credential_identifier={code}")).await;
    let both = export(&app, &acct, &format!("member_identifier=ann&credential_identifier={code}")).await;
    assert_eq!(by_identifier.status, 200);
    assert_eq!((&by_code.body, &both.body), (&by_identifier.body, &by_identifier.body));

    for path in [EXPORT, DELETE] {
        let method = if path == EXPORT { Method::GET } else { Method::POST };
        let send = |query: String| {
            let (method, path) = (method.clone(), format!("{path}{query}"));
            let (app, token) = (&app, acct.token.clone());
            async move { app.raw(Some(&token), method, &path, None).await }
        };
        for query in ["", "?member_identifier=", "?credential_identifier=%20&member_identifier="] {
            let r = send(query.to_owned()).await;
            assert_eq!(r.error(400), "member_identifier or credential_identifier is required", "{path}{query}");
        }
        let long = "x".repeat(300);
        assert!(send(format!("?member_identifier={long}")).await.error(400).contains("too long"));
        for query in ["?member_identifier=nobody", "?credential_identifier=NOCODE"] {
            let r = send(query.to_owned()).await;
            assert_eq!(r.error(422), "Member could not be located from the member or credential identifiers");
        }
        // Both given must name the same member.
        let r = send(format!("?member_identifier={}&credential_identifier={code}", "other")).await;
        r.error(422);
        member(&app, &acct, &format!("other-{}", path.len())).await;
        let other = format!("?member_identifier=other-{}&credential_identifier={code}", path.len());
        assert_eq!(send(other).await.error(422), "member_identifier and credential_identifier name different members");
    }
    // The refusals voided nothing; a body with the parameters works like the query.
    assert_eq!(status(&app, &acct, first).await, "open");
    let body = app.post(&acct, DELETE, json!({"credential_identifier": code})).await;
    assert_eq!((body.status.as_u16(), &body.body), (200, &json!({})));
    assert_eq!(status(&app, &acct, first).await, "voided");
    let malformed = app.raw(Some(&acct.token), Method::POST, DELETE, Some("{not json".into())).await;
    malformed.error(400);

    // Identifiers are matched as sent: `"pad "` is not `"pad"`, each is found by its own.
    let (pad, _) = (member(&app, &acct, "pad").await, member(&app, &acct, "pad ").await);
    let found = |r: TestResponse| r.error_free().body["member"]["identifier"].clone();
    assert_eq!(found(export(&app, &acct, "member_identifier=pad%20").await), "pad ");
    assert_eq!(found(export(&app, &acct, "member_identifier=pad").await), "pad");
    let (kept, _) = credential(&app, &acct, &s, pad).await;
    let body = app.post(&acct, DELETE, json!({"member_identifier": "pad "})).await;
    assert_eq!(body.status.as_u16(), 200);
    assert_eq!(status(&app, &acct, kept).await, "open", "the unpadded member's code is not voided");
}

async fn delete_request_voids_open_credentials(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries", "expires_at": "2099-01-01T00:00:00Z"})).await;
    let ann = member(&app, &acct, "ann").await;
    let (open, _) = credential(&app, &acct, &s, ann).await;
    let (redeemed, _) = credential(&app, &acct, &s, ann).await;
    put_query(&app, &acct, &format!("/v1.0/credentials/{redeemed}/redeem")).await.error_free();
    let state_path = format!("/v1.0/members/{ann}/offer_states?channel_id={}&offer_id={}", s.channel, s.offer);
    let state = app.post(&acct, &state_path, json!({"offer_state": {}})).await;
    let state = state.error_free().body["offer_state"]["offer_state_id"].as_i64().unwrap();
    let others = credential(&app, &acct, &s, s.member).await.0;

    let r = delete_request(&app, &acct, "member_identifier=ann").await;
    assert_eq!((r.status.as_u16(), &r.body), (200, &json!({})));
    assert_eq!(status(&app, &acct, open).await, "voided");
    assert_eq!(status(&app, &acct, redeemed).await, "redeemed");
    assert_eq!(status(&app, &acct, others).await, "open");
    let refused = put_query(&app, &acct, &format!("/v1.0/credentials/{open}/redeem")).await;
    assert_eq!(refused.error(400), "Credential has been voided");
    let shown = app.get(&acct, &format!("/v1.0/members/{ann}/offer_states/{state}")).await;
    assert_eq!(shown.body["offer_state"]["status"], "voided");
    let voids = "SELECT COUNT(*) FROM offer_activities WHERE member_id = $1 AND activity_type = 3";
    assert_eq!(app.db.fetch_optional::<i64>(voids, &[ann.into()]).await.unwrap(), Some(2));

    // The member is kept (and exported) until the job runs; the schedule is the default 7 days.
    assert_eq!(export(&app, &acct, "member_identifier=ann").await.status, 200);
    let schedule = "SELECT anonymize_after - requested_at FROM member_deletion_requests WHERE member_id = $1";
    assert_eq!(app.db.fetch_optional::<i64>(schedule, &[ann.into()]).await.unwrap(), Some(7 * DAY));
    // A second request voids what was issued since and keeps the first schedule.
    let after = "SELECT anonymize_after FROM member_deletion_requests WHERE member_id = $1";
    let first = app.db.fetch_optional::<i64>(after, &[ann.into()]).await.unwrap();
    let (late, _) = credential(&app, &acct, &s, ann).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(delete_request(&app, &acct, "member_identifier=ann").await.status, 200);
    assert_eq!(status(&app, &acct, late).await, "voided");
    assert_eq!(app.db.fetch_optional::<i64>(after, &[ann.into()]).await.unwrap(), first);

    // An account's retention setting moves the schedule.
    app.db.execute("UPDATE accounts SET privacy_retention_days = 30 WHERE id = $1", &[acct.id.into()]).await.unwrap();
    member(&app, &acct, "bob").await;
    delete_request(&app, &acct, "member_identifier=bob").await.error_free();
    let bob = "SELECT d.anonymize_after - d.requested_at FROM member_deletion_requests d \
               JOIN members m ON m.id = d.member_id WHERE m.identifier = $1 AND m.account_id = $2";
    assert_eq!(app.db.fetch_optional::<i64>(bob, &["bob".into(), acct.id.into()]).await.unwrap(), Some(30 * DAY));
}

async fn anonymized_after_the_retention(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let ann = member(&app, &acct, "ann@example.com").await;
    let (redeemed, code) = credential(&app, &acct, &s, ann).await;
    app.put(
        &acct,
        &format!("/v1.0/credentials/{redeemed}"),
        json!({"credential": {"channel_id": s.channel,
        "annotations": {"phone": "555-0100"}}}),
    )
    .await
    .error_free();
    put_query(&app, &acct, &format!("/v1.0/credentials/{redeemed}/redeem")).await.error_free();
    let seen = impression(&app, &acct, &s, ann).await;
    let zid = app
        .get(&acct, &format!("/v1.0/members/{ann}/offers/{}/zidentifiers?x_channel_id={}", s.offer, s.channel))
        .await;
    zid.error_free();
    delete_request(&app, &acct, "member_identifier=ann%40example.com").await.error_free();
    let annotated = app.get(&acct, &format!("/v1.0/credentials/{redeemed}")).await;
    assert!(annotated.body["credential"]["annotations"].to_string().contains("555-0100"), "{}", annotated.text);

    assert_eq!(run(&app, &[&acct], 0).await, 0, "not due yet");
    assert_eq!(run(&app, &[&acct], 6).await, 0, "not due within the retention");
    assert_eq!(export(&app, &acct, "member_identifier=ann%40example.com").await.status, 200);
    assert_eq!(run(&app, &[&acct], 8).await, 1);
    assert_eq!(run(&app, &[&acct], 8).await, 0, "done once");

    let shown = app.get(&acct, &format!("/v1.0/members/{ann}")).await;
    let identifier = shown.body["member"]["identifier"].as_str().unwrap();
    assert!(identifier.starts_with("deleted-") && identifier.len() > 20, "{identifier}");
    for query in [
        "member_identifier=ann%40example.com".to_owned(),
        format!("credential_identifier={code}"),
        format!("member_identifier={identifier}"),
    ] {
        assert_eq!(
            export(&app, &acct, &query).await.error(422),
            "Member could not be located from the member or credential identifiers",
            "{query}"
        );
        post_query(&app, &acct, &format!("{DELETE}?{query}")).await.error(422);
    }
    let impressions = app.get(&acct, &format!("/v1.0/impressions?member_id={ann}")).await;
    let kept = &impressions.body["impressions"][0]["impression"];
    assert_eq!(
        (&kept["id"], &kept["cookie_id"], &kept["creative_name"], &kept["annotations"]),
        (&seen["id"], &json!(""), &Value::Null, &json!("{}"))
    );
    let credential = app.get(&acct, &format!("/v1.0/credentials/{redeemed}")).await;
    assert_eq!(
        (&credential.body["credential"]["annotations"], &credential.body["credential"]["status"]),
        (&json!("{}"), &json!("redeemed"))
    );
    let zids = "SELECT COUNT(*) FROM zidentifiers WHERE member_id = $1";
    assert_eq!(app.db.fetch_optional::<i64>(zids, &[ann.into()]).await.unwrap(), Some(0));
    // The redemption still counts (reports and limits keep it), now of an anonymous member.
    let redemptions = "SELECT COUNT(*) FROM redemptions WHERE member_id = $1";
    assert_eq!(app.db.fetch_optional::<i64>(redemptions, &[ann.into()]).await.unwrap(), Some(1));
}

async fn workers_anonymize_once_and_after_a_restart(app: TestApp) {
    let acct = app.account().await;
    for n in 0..6 {
        member(&app, &acct, &format!("m{n}")).await;
        delete_request(&app, &acct, &format!("member_identifier=m{n}")).await.error_free();
    }
    // Two workers at once: each member is anonymized by exactly one of them.
    let config = Config { batch: 2, ..only(&[&acct]) };
    let (clock_a, clock_b) = (later(8), later(8));
    let (a, b) =
        tokio::join!(privacy::run_once(&app.db, &clock_a, &config), privacy::run_once(&app.db, &clock_b, &config));
    assert_eq!(a.unwrap() + b.unwrap(), 6);
    let renamed = "SELECT COUNT(*) FROM members WHERE account_id = $1 AND identifier LIKE 'deleted-%'";
    assert_eq!(app.db.fetch_optional::<i64>(renamed, &[acct.id.into()]).await.unwrap(), Some(6));

    // A request made before a restart is run by the worker a new process spawns.
    member(&app, &acct, "late").await;
    delete_request(&app, &acct, "member_identifier=late").await.error_free();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clock: Arc<dyn Clock> = Arc::new(later(8));
    let config = Config { poll_interval: std::time::Duration::from_millis(50), ..only(&[&acct]) };
    let worker = privacy::spawn(app.db.clone(), config, clock, stopped);
    let mut done = false;
    for _ in 0..100 {
        if export(&app, &acct, "member_identifier=late").await.status == 422 {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    worker.await.unwrap();
    assert!(done, "the spawned worker anonymized the pending request");
    assert_eq!(app.db.fetch_optional::<i64>(renamed, &[acct.id.into()]).await.unwrap(), Some(7));
}

async fn other_accounts_are_never_touched(app: TestApp) {
    let (mine, theirs) = (app.account().await, app.account().await);
    let s_mine = setup(&app, &mine, json!({"name": "Fries"})).await;
    let s_theirs = setup(&app, &theirs, json!({"name": "Fries"})).await;
    let ann_mine = member(&app, &mine, "ann").await;
    let ann_theirs = member(&app, &theirs, "ann").await;
    let (mine_open, _) = credential(&app, &mine, &s_mine, ann_mine).await;
    let (theirs_open, theirs_code) = credential(&app, &theirs, &s_theirs, ann_theirs).await;
    member(&app, &theirs, "theirs-only").await;

    // Their member and code are not found in my account.
    for query in [format!("credential_identifier={theirs_code}"), "member_identifier=theirs-only".to_owned()] {
        export(&app, &mine, &query).await.error(422);
        post_query(&app, &mine, &format!("{DELETE}?{query}")).await.error(422);
    }
    // My Ann's deletion leaves their Ann (same identifier) alone, before and after the job.
    delete_request(&app, &mine, "member_identifier=ann").await.error_free();
    assert_eq!(status(&app, &mine, mine_open).await, "voided");
    assert_eq!(status(&app, &theirs, theirs_open).await, "open");
    assert_eq!(run(&app, &[&mine, &theirs], 8).await, 1);
    let theirs_export = export(&app, &theirs, "member_identifier=ann").await;
    assert_eq!(theirs_export.body["member"]["identifier"], "ann");
    assert_eq!(theirs_export.body["credentials"], json!([{"identifier": theirs_code}]));
    assert_eq!(status(&app, &theirs, theirs_open).await, "open");
}

/// `kindling account set-privacy-retention` sets the account's retention for later requests.
async fn retention_is_set_with_the_cli(app: TestApp) {
    let acct = app.account().await;
    let cli = |days: &str, account: i64| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kindling"))
            .args(["account", "set-privacy-retention", "--account", &account.to_string(), "--days", days])
            .args(["--database-url", &app.url])
            .output()
            .unwrap()
    };
    let set = cli("30", acct.id);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    let line: Value = serde_json::from_slice(&set.stdout).unwrap();
    assert_eq!(line, json!({"account_id": acct.id, "privacy_retention_days": 30}));
    for (days, account) in [("6", acct.id), ("3651", acct.id), ("soon", acct.id), ("30", 999_999_999)] {
        let refused = cli(days, account);
        assert!(!refused.status.success() && refused.stdout.is_empty(), "{days} {account}");
    }
    member(&app, &acct, "ann").await;
    delete_request(&app, &acct, "member_identifier=ann").await.error_free();
    let schedule = "SELECT anonymize_after - requested_at FROM member_deletion_requests WHERE account_id = $1";
    assert_eq!(app.db.fetch_optional::<i64>(schedule, &[acct.id.into()]).await.unwrap(), Some(30 * DAY));
    assert_eq!(run(&app, &[&acct], 8).await, 0, "kept 30 days");
    assert_eq!(run(&app, &[&acct], 31).await, 1);
    let line: Value = serde_json::from_slice(&cli("default", acct.id).stdout).unwrap();
    assert_eq!(line["privacy_retention_days"], Value::Null);
}

/// Eight requests for one member at once: all answered 200, one schedule, each open
/// credential voided once (one void activity each).
async fn concurrent_requests_void_once(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let ann = member(&app, &acct, "ann").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(credential(&app, &acct, &s, ann).await.0);
    }
    let answers =
        crate::zidentifiers::parallel(&app, &acct, Method::POST, &format!("{DELETE}?member_identifier=ann"), 8).await;
    assert_eq!(answers, vec![(200, json!({})); 8]);
    for id in open {
        assert_eq!(status(&app, &acct, id).await, "voided");
    }
    let requests = "SELECT COUNT(*) FROM member_deletion_requests WHERE member_id = $1";
    assert_eq!(app.db.fetch_optional::<i64>(requests, &[ann.into()]).await.unwrap(), Some(1));
    let voids = "SELECT COUNT(*) FROM offer_activities WHERE member_id = $1 AND activity_type = 3";
    assert_eq!(app.db.fetch_optional::<i64>(voids, &[ann.into()]).await.unwrap(), Some(3));
}

/// A deletion request voids the member's open codes; one redeemed at the same moment is
/// not open any more: an acknowledged redemption stays live and counted.
async fn a_racing_redemption_is_never_voided(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries", "max_redemptions": 1000})).await;
    for round in 0..10 {
        let identifier = format!("racer-{round}");
        let m = member(&app, &acct, &identifier).await;
        let (id, _) = credential(&app, &acct, &s, m).await;
        let (redeem, delete) =
            (format!("/v1.0/credentials/{id}/redeem"), format!("{DELETE}?member_identifier={identifier}"));
        let (redeemed, deleted) = tokio::join!(put_query(&app, &acct, &redeem), post_query(&app, &acct, &delete));
        assert_eq!(deleted.status, 200, "round {round}: {}", deleted.text);
        let live = "SELECT COUNT(*) FROM redemptions WHERE credential_id = $1 AND voided_at IS NULL";
        let live = app.db.fetch_optional::<i64>(live, &[id.into()]).await.unwrap();
        if redeemed.status == 201 {
            assert_eq!(live, Some(1), "round {round}: the acknowledged redemption stays");
            assert_eq!(status(&app, &acct, id).await, "redeemed", "round {round}");
        } else {
            assert_eq!((redeemed.status.as_u16(), live), (400, Some(0)), "round {round}: {}", redeemed.text);
        }
    }
    let counted = "SELECT redemption_count FROM offers WHERE id = $1";
    let counted = app.db.fetch_optional::<i64>(counted, &[s.offer.into()]).await.unwrap();
    let live = "SELECT COUNT(*) FROM redemptions WHERE offer_id = $1 AND voided_at IS NULL";
    assert_eq!(counted, app.db.fetch_optional::<i64>(live, &[s.offer.into()]).await.unwrap());
}

/// The anonymization takes a member's codes before the member's row, as a redemption does
/// (its code, then the member for a per-member limit). A transaction holding one of the
/// member's codes, as a redemption between its claim and its commit, takes the member's
/// row once the anonymization waits for it, then commits: both finish. Before, the
/// anonymization held the member's row and waited for the code, and PostgreSQL broke the
/// deadlock by failing one of them. SQLite's single writer runs them one after the other.
async fn anonymizing_waits_for_a_redemption_without_deadlock(app: TestApp) {
    if app.db.dialect() == kindling_store::Dialect::Sqlite {
        eprintln!("SKIPPED on SQLite: one writer, so a redemption and the anonymization never overlap");
        return;
    }
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let ann = member(&app, &acct, "ann@example.com").await;
    let (code, _) = credential(&app, &acct, &s, ann).await;
    put_query(&app, &acct, &format!("/v1.0/credentials/{code}/redeem")).await.error_free();
    delete_request(&app, &acct, "member_identifier=ann%40example.com").await.error_free();
    let hold = vec![("SELECT id FROM credentials WHERE id = $1 FOR NO KEY UPDATE", vec![code.into()])];
    let then = vec![("SELECT id FROM members WHERE id = $1 FOR NO KEY UPDATE", vec![ann.into()])];
    let (clock, config) = (later(8), only(&[&acct]));
    let held = while_held(&app.db, hold, then, privacy::run_once(&app.db, &clock, &config)).await;
    assert!(held.waited, "the anonymization waited for the held code");
    held.holder.expect("the redemption's transaction committed");
    assert_eq!(held.answer.expect("the anonymization finished"), 1);
    let shown = app.get(&acct, &format!("/v1.0/members/{ann}")).await;
    assert!(shown.body["member"]["identifier"].as_str().unwrap().starts_with("deleted-"), "{}", shown.text);
}

/// The member's callbacks lose what identifies them: a conversion URL carrying the member's
/// identifier (`sf_uid`) and a credential callback carrying the code's annotations are kept
/// as rows without URL, body or errors, and those not yet delivered are given up. Before,
/// the delivery log kept them (and pending ones were still sent). The targets refuse every
/// connection, so the callbacks stay pending until the anonymization.
async fn anonymizing_scrubs_the_members_callbacks(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let ann = member(&app, &acct, "ann@example.com").await;
    let refused = "http://127.0.0.1:9";
    let account = json!({"account": {"callbacks": {"credential_url": format!("{refused}/account")}}});
    app.put(&acct, "/v1.0/account", account).await.error_free();
    app.put(&acct, "/v1.0/account/callbacks/enable", json!({})).await.error_free();
    let conversion = json!({"channel": {"conversion_callback_url": format!("{refused}/conv?uid=%{{sf_uid}}")}});
    app.put(&acct, &format!("/v1.0/channels/{}", s.channel), conversion).await.error_free();
    let (code, _) = credential(&app, &acct, &s, ann).await;
    let annotated = json!({"credential": {"channel_id": s.channel, "annotations": {"phone": "555-0100"}}});
    app.put(&acct, &format!("/v1.0/credentials/{code}"), annotated).await.error_free();
    put_query(&app, &acct, &format!("/v1.0/credentials/{code}/redeem")).await.error_free();
    let personal = "SELECT COUNT(*) FROM callback_outbox WHERE account_id = $1 \
                    AND (url LIKE '%ann%' OR COALESCE(body, '') LIKE '%555-0100%' OR COALESCE(last_error, '') LIKE '%ann%')";
    let count = |sql: &'static str| {
        let db = app.db.clone();
        async move { db.fetch_optional::<i64>(sql, &[acct.id.into()]).await.unwrap().unwrap_or(0) }
    };
    assert!(count(personal).await >= 2, "the conversion URL and the credential body name her");
    delete_request(&app, &acct, "member_identifier=ann%40example.com").await.error_free();
    assert_eq!(run(&app, &[&acct], 8).await, 1);
    assert_eq!(count(personal).await, 0, "nothing of hers is left in the outbox");
    let errors = "SELECT COUNT(*) FROM callback_attempts a JOIN callback_outbox o ON o.id = a.outbox_id \
                  WHERE o.account_id = $1 AND a.error LIKE '%ann%'";
    assert_eq!(count(errors).await, 0, "nor in the attempts' errors");
    let pending = "SELECT COUNT(*) FROM callback_outbox WHERE account_id = $1 AND url = '' \
                   AND delivered_at IS NULL AND failed_at IS NULL";
    assert_eq!(count(pending).await, 0, "what was not sent is given up");
}
