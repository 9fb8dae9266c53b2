//! Read-modify-writes decide on the row as the write finds it: racing status actions never
//! bring an archived offer back, concurrent partial updates of different fields all land,
//! create-or-update races make one row, and a busy database is a 503 to retry, not a 500.

use crate::backend_tests;
use crate::helpers::{Backend, TestAccount, TestApp};
use crate::offers::{approve, channel, offer};
use kindling_store::credentials::write::assign_code;
use kindling_store::{Db, StoreError};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;

backend_tests!(
    archived_offers_stay_archived_under_racing_actions,
    concurrent_formatting_merges_all_land,
    concurrent_channel_settings_all_land,
    concurrent_passbook_writes_make_one_row,
    racing_campaign_creates_and_links_make_one_campaign,
    a_failed_statement_leaves_the_transaction_usable,
    a_code_taken_by_a_concurrent_write_is_redrawn,
    a_racing_update_never_changes_a_redeemed_codes_offers,
    campaigns_racing_for_a_new_channel_name_make_one_channel,
);

/// Sends all `requests` at once; answers in the same order.
async fn together(app: &TestApp, acct: &TestAccount, requests: Vec<(Method, String, Value)>) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(method, path, body)| {
            let (client, base, token) = (app.client.clone(), app.base.clone(), acct.token.clone());
            tokio::spawn(async move {
                let response = client
                    .request(method, format!("{base}{path}"))
                    .header("X-Auth-Token", token)
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap_or_default())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// 150 approved offers, each raced by approve against archive. In any serial order the
/// offer ends archived (archive is final); approve may win only by going first.
async fn archived_offers_stay_archived_under_racing_actions(app: TestApp) {
    let acct = app.account().await;
    let mut ids = Vec::new();
    for i in 0..150 {
        let id = offer(&app, &acct, json!({"name": format!("Race {i}")})).await;
        approve(&app, &acct, id).await;
        ids.push(id);
    }
    let requests = ids
        .iter()
        .flat_map(|id| {
            [
                (Method::PUT, format!("/v1.0/offers/{id}/actions/approve"), json!({})),
                (Method::PUT, format!("/v1.0/offers/{id}/actions/archive"), json!({})),
            ]
        })
        .collect();
    let answers = together(&app, &acct, requests).await;
    for (pair, id) in answers.chunks(2).zip(&ids) {
        let (approved, archived) = (&pair[0], &pair[1]);
        assert_eq!(archived.0, 200, "archive is always allowed: {}", archived.1);
        match approved.0 {
            // The answer is read after commit, so it may already show the archive.
            200 => assert!(["approved", "archived"].contains(&approved.1["offer"]["status"].as_str().unwrap())),
            400 => assert_eq!(approved.1["errors"]["status"], "can't change from archived to approved"),
            other => panic!("approve answered {other}: {}", approved.1),
        }
        let stored = app.get(&acct, &format!("/v1.0/offers/{id}")).await;
        assert_eq!(stored.body["offer"]["status"], "archived", "offer {id} came back from archived");
    }
}

const FORMATTING: [(&str, &str); 17] = [
    ("bg_color", "#336699"),
    ("bg_image", "https://example.com/bg.png"),
    ("custom_credential_content", "content"),
    ("in_store_only", "true"),
    ("extra_content", "extra"),
    ("highest_value_to_customer", "true"),
    ("instructions", "show this"),
    ("mobile_thumb_url", "https://example.com/m.png"),
    ("mobile_url", "https://example.com/m"),
    ("multiple_offers_can_be_combined_on_an_order", "false"),
    ("no_printable", "true"),
    ("online_offer_code", "ONLINE"),
    ("reduces_taxable_amount", "false"),
    ("short_name", "short"),
    ("text_message", "text"),
    ("web_thumb_url", "https://example.com/w.png"),
    ("web_url", "https://example.com/w"),
];

fn formatting_value(raw: &str) -> Value {
    match raw {
        "true" => json!(true),
        "false" => json!(false),
        text => json!(text),
    }
}

/// Each request merges one `formatting` key; none may be lost to another's stale read.
async fn concurrent_formatting_merges_all_land(app: TestApp) {
    let acct = app.account().await;
    for round in 0..4 {
        let id = offer(&app, &acct, json!({"name": format!("Formatting {round}")})).await;
        let requests = FORMATTING
            .iter()
            .map(|(key, value)| {
                let body = json!({"offer": {"formatting": {*key: formatting_value(value)}}});
                (Method::PUT, format!("/v1.0/offers/{id}"), body)
            })
            .collect();
        for (status, body) in together(&app, &acct, requests).await {
            assert_eq!(status, 200, "{body}");
        }
        let stored = app.get(&acct, &format!("/v1.0/offers/{id}")).await;
        let formatting = stored.body["offer"]["formatting"].as_object().unwrap().clone();
        let missing: Vec<_> = FORMATTING.iter().filter(|(k, _)| !formatting.contains_key(*k)).collect();
        assert!(missing.is_empty(), "round {round}: lost {missing:?}");
    }
}

/// Different settings of one offer on one channel, written at once, all land; turning
/// security on from several requests draws one key, the one every answer shows.
async fn concurrent_channel_settings_all_land(app: TestApp) {
    let acct = app.account().await;
    let ch =
        app.post(&acct, "/v1.0/channels", json!({"channel": {"name": "Sms", "allow_sms_keyword": true}})).await.body
            ["channel"]["id"]
            .as_i64()
            .unwrap();
    let _other = channel(&app, &acct, "Other").await;
    for round in 0..4 {
        let id = offer(&app, &acct, json!({"name": format!("Settings {round}")})).await;
        app.post(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [ch]}}))
            .await
            .error_free();
        let path = format!("/v1.0/offers/{id}/channels/{ch}");
        let mut requests = vec![
            (Method::PUT, path.clone(), json!({"eligible_channel": {"sms_keyword": "DEAL"}})),
            (Method::PUT, path.clone(), json!({"eligible_channel": {"allow_return_later": false}})),
            (Method::PUT, path.clone(), json!({"eligible_channel": {"max_redemptions": 5}})),
        ];
        for _ in 0..8 {
            requests.push((Method::PUT, path.clone(), json!({"eligible_channel": {"security": "pin"}})));
        }
        let answers = together(&app, &acct, requests).await;
        for (status, body) in &answers {
            assert_eq!(*status, 201, "{body}");
        }
        let stored = app.get(&acct, &path).await.body["eligible_channel"].clone();
        assert_eq!(
            (&stored["sms_keyword"], &stored["allow_return_later"], &stored["max_redemptions"], &stored["security"]),
            (&json!("DEAL"), &json!(false), &json!(5), &json!("pin")),
            "round {round}"
        );
        let keys: HashSet<&str> =
            answers[3..].iter().map(|(_, b)| b["eligible_channel"]["security_key"].as_str().unwrap()).collect();
        assert_eq!(keys.len(), 1, "round {round}: one key drawn, not {keys:?}");
        assert_eq!(stored["security_key"].as_str(), keys.into_iter().next());
    }
}

async fn passbook_rows(db: &Db, offer: i64) -> i64 {
    db.fetch_optional::<i64>("SELECT COUNT(*) FROM passbook_configurations WHERE offer_id = $1", &[offer.into()])
        .await
        .unwrap()
        .unwrap_or(0)
}

/// Create-or-update (`PUT`) racing itself makes one row and answers 201 to all; racing
/// creates (`POST`) make one row, the rest told to use `PUT`. Never a 500.
async fn concurrent_passbook_writes_make_one_row(app: TestApp) {
    let acct = app.account().await;
    for round in 0..4 {
        let id = offer(&app, &acct, json!({"name": format!("Passbook {round}")})).await;
        let path = format!("/v1.0/offers/{id}/passbook_configuration");
        let requests = (0..16)
            .map(|i| {
                let body = json!({"passbook_configuration": {"team_identifier": format!("TEAM{i}")}});
                (Method::PUT, path.clone(), body)
            })
            .collect();
        for (status, body) in together(&app, &acct, requests).await {
            assert_eq!(status, 201, "{body}");
        }
        assert_eq!(passbook_rows(&app.db, id).await, 1);

        let created = offer(&app, &acct, json!({"name": format!("Passbook post {round}")})).await;
        let path = format!("/v1.0/offers/{created}/passbook_configuration");
        let requests =
            (0..16).map(|_| (Method::POST, path.clone(), json!({"passbook_configuration": {"logo": "x"}}))).collect();
        let answers = together(&app, &acct, requests).await;
        assert_eq!(answers.iter().filter(|(s, _)| *s == 201).count(), 1, "{answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != 201) {
            assert_eq!(*status, 400, "{body}");
        }
        assert_eq!(passbook_rows(&app.db, created).await, 1);
    }
}

/// Campaign creates for one offer and channel, racing each other and the guide's channel
/// link, all adopt the one offer×channel row: every create answers 200 with the same
/// campaign, never a field error about a row a concurrent request just wrote.
async fn racing_campaign_creates_and_links_make_one_campaign(app: TestApp) {
    let acct = app.account().await;
    let ch = channel(&app, &acct, "Email").await;
    for round in 0..4 {
        let id = offer(&app, &acct, json!({"name": format!("Campaign race {round}")})).await;
        let mut requests = Vec::new();
        for _ in 0..8 {
            let campaign =
                json!({"campaign": {"offer_id": id, "channel_name": "Email", "external_id": format!("race-{round}")}});
            requests.push((Method::POST, "/v1.0/campaigns".to_owned(), campaign));
            let link = json!({"offer": {"channel_ids": [ch]}});
            requests.push((Method::POST, format!("/v1.0/offers/{id}/channels"), link));
        }
        let answers = together(&app, &acct, requests).await;
        let mut campaigns = HashSet::new();
        for (i, (status, body)) in answers.iter().enumerate() {
            if i % 2 == 0 {
                assert_eq!(*status, 200, "{body}");
                campaigns.insert(body["campaign"]["id"].as_i64().unwrap());
            } else {
                assert_eq!(*status, 201, "{body}");
            }
        }
        assert_eq!(campaigns.len(), 1, "round {round}: {campaigns:?}");
        let listed = app.get(&acct, &format!("/v1.0/campaigns?external_id=race-{round}")).await;
        assert_eq!(listed.body["campaign"]["channel_id"], ch);
    }
    assert_eq!(app.get(&acct, "/v1.0/channels").await.body["total_entries"], 1, "the channel was reused");
}

/// The mechanism behind retrying a unique value (a credential's code redraw): a refused
/// statement run with `execute_recoverable` leaves the transaction usable on both stores
/// (PostgreSQL aborts a transaction at its first failed statement otherwise).
async fn a_failed_statement_leaves_the_transaction_usable(app: TestApp) {
    let mut tx = app.db.begin().await.unwrap();
    let duplicate = tx
        .execute_recoverable(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[1i64.into(), "duplicate".into(), 0i64.into()],
        )
        .await;
    assert!(matches!(duplicate, Err(StoreError::Unique(_))), "{duplicate:?}");
    let count = tx.fetch_optional::<i64>("SELECT COUNT(*) FROM schema_migrations", &[]).await.unwrap();
    assert!(count.unwrap_or(0) >= 1);
    drop(tx);
}

/// A credential's first code is set by letting the unique index decide: when a concurrent,
/// still uncommitted write takes the same code key, this one waits, is refused, and moves
/// on to the next candidate instead of failing (a check-then-write was a 500 on PostgreSQL).
async fn a_code_taken_by_a_concurrent_write_is_redrawn(app: TestApp) {
    let acct = app.account().await;
    let s = crate::credentials::setup(&app, &acct, json!({"name": "Codes"})).await;
    let bare = format!("/v1.0/credentials?member_id={}&channel_id={}", s.member, s.channel);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let created = app.raw(Some(&acct.token), Method::POST, &bare, None).await;
        ids.push(kindling_domain::CredentialId(created.body["credential"]["id"].as_i64().unwrap()));
    }
    let account = kindling_domain::AccountId(acct.id);
    let kind = kindling_domain::catalog::merchant::RedemptionIdentifierType::ShortNumeric;
    let mut first = app.db.begin().await.unwrap();
    let first_code = assign_code(&mut first, account, ids[0], kind, [11]).await.unwrap();
    let (db, second_id) = (app.db.clone(), ids[1]);
    let second = tokio::spawn(async move {
        let mut tx = db.begin().await.unwrap();
        let code = assign_code(&mut tx, account, second_id, kind, [11, 22]).await;
        tx.commit().await.unwrap();
        code.map_err(|e| format!("{e:?}"))
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    let second_code = second.await.unwrap().unwrap();
    assert_ne!(first_code, second_code, "key 11 was taken, so the second got key 22's code");
    for (id, code) in ids.iter().zip([first_code, second_code]) {
        assert_eq!(code.len(), 8);
        let shown = app.get(&acct, &format!("/v1.0/credentials/{id}")).await;
        assert_eq!(shown.body["credential"]["identifier"], code.as_str());
    }
}

/// While another process holds SQLite's write lock past the busy timeout, a write is a 503
/// with `Retry-After` (nothing written), not a 500; once released, the same write succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_lock_held_elsewhere_is_a_503() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let elsewhere = Db::connect(&app.url).await.unwrap();
    let held = elsewhere.begin().await.unwrap();
    let busy = app.post(&acct, "/v1.0/offers", json!({"offer": {"name": "Blocked"}})).await;
    assert!(busy.error(503).contains("busy"));
    assert_eq!(busy.headers.get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
    drop(held);
    app.post(&acct, "/v1.0/offers", json!({"offer": {"name": "Blocked"}})).await.spec("post", "/v1.0/offers");
    assert_eq!(app.get(&acct, "/v1.0/offers").await.body["total_entries"], 1, "the refused write left nothing");
}

/// An update of a code's offers racing its redemption: either the update lands first (and
/// the code is redeemed for the new offer) or it finds the code redeemed and is refused. A
/// redeemed code never ends up carrying offers other than those it was redeemed for.
async fn a_racing_update_never_changes_a_redeemed_codes_offers(app: TestApp) {
    let acct = app.account().await;
    let ch = channel(&app, &acct, "App").await;
    let mut offers = Vec::new();
    for name in ["First", "Second"] {
        let id = offer(&app, &acct, json!({"name": name})).await;
        app.post(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [ch]}}))
            .await
            .error_free();
        approve(&app, &acct, id).await;
        offers.push(id);
    }
    let member = crate::credentials::member(&app, &acct, "racer").await;
    for round in 0..12 {
        let issue = format!("/v1.0/credentials?member_id={member}&offer_id={}&channel_id={ch}", offers[0]);
        let issued = app.raw(Some(&acct.token), Method::POST, &issue, None).await;
        let id = issued.error_free().body["credential"]["id"].as_i64().unwrap();
        let update = json!({"credential": {"channel_id": ch, "offer_ids": [offers[1]]}});
        let answers = together(
            &app,
            &acct,
            vec![
                (Method::PUT, format!("/v1.0/credentials/{id}"), update),
                (Method::PUT, format!("/v1.0/credentials/{id}/redeem"), json!({})),
            ],
        )
        .await;
        for (status, body) in &answers {
            assert!(*status == 201 || *status == 400 || *status == 422, "round {round}: {status} {body}");
        }
        let mismatched: Option<i64> = app
            .db
            .fetch_optional(
                "SELECT COUNT(*) FROM redemptions r WHERE r.credential_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM credential_offers o WHERE o.credential_id = r.credential_id AND o.offer_id = r.offer_id)",
                &[id.into()],
            )
            .await
            .unwrap();
        assert_eq!(mismatched, Some(0), "round {round}: the redeemed code carries the offer it was redeemed for");
    }
}

/// Campaigns of different offers created at once, naming a channel that does not exist yet,
/// make that channel once and all use it.
async fn campaigns_racing_for_a_new_channel_name_make_one_channel(app: TestApp) {
    let acct = app.account().await;
    for round in 0..4 {
        let mut requests = Vec::new();
        for i in 0..6 {
            let id = offer(&app, &acct, json!({"name": format!("Offer {round}-{i}")})).await;
            let campaign = json!({"campaign": {"offer_id": id, "channel_name": format!("New {round}")}});
            requests.push((Method::POST, "/v1.0/campaigns".to_owned(), campaign));
        }
        let answers = together(&app, &acct, requests).await;
        let channels: HashSet<i64> = answers
            .iter()
            .map(|(status, body)| {
                assert_eq!(*status, 200, "{body}");
                body["campaign"]["channel_id"].as_i64().unwrap()
            })
            .collect();
        assert_eq!(channels.len(), 1, "round {round}: {channels:?}");
    }
    assert_eq!(app.get(&acct, "/v1.0/channels").await.body["total_entries"], 4, "one channel a round");
}
