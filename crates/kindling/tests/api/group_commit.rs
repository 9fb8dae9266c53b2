//! Group commit: concurrent writes share one transaction (and on SQLite one fsync), each
//! in its own savepoint, so a write that fails inside a batch is undone alone and its
//! neighbours commit and are acknowledged.

use crate::backend_tests;
use crate::credentials::{issue, setup};
use crate::helpers::{Backend, TestApp};
use kindling_store::{StoreError, Tx};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

backend_tests!(a_failed_body_undoes_only_its_own_writes);

async fn insert_member(tx: &mut Tx, account: i64, identifier: String) -> Result<u64, StoreError> {
    tx.execute(
        "INSERT INTO members (account_id, identifier, notification_mode, created_at, updated_at) \
         VALUES ($1, $2, 'none', 0, 0)",
        &[account.into(), identifier.into()],
    )
    .await
}

/// Ten transactions at once; the fifth writes a row and then fails. Its row is gone, the
/// other nine rows are there, and each caller got its own outcome.
async fn a_failed_body_undoes_only_its_own_writes(app: TestApp) {
    let account = app.account().await.id;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let db = app.db.clone();
            tokio::spawn(async move {
                db.transaction(move |tx| {
                    Box::pin(async move {
                        insert_member(tx, account, format!("batched-{i}")).await?;
                        if i == 4 {
                            return Err(StoreError::Decode("this body fails after writing".into()));
                        }
                        Ok(i)
                    })
                })
                .await
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let outcome = task.await.unwrap();
        if i == 4 {
            assert!(matches!(outcome, Err(StoreError::Decode(_))), "{outcome:?}");
        } else {
            assert_eq!(outcome.unwrap(), i);
        }
    }
    let sql = "SELECT COUNT(*) FROM members WHERE account_id = $1 AND identifier LIKE $2";
    let all = app.db.fetch_optional::<i64>(sql, &[account.into(), "batched-%".into()]).await.unwrap();
    assert_eq!(all, Some(9));
    let failed = app.db.fetch_optional::<i64>(sql, &[account.into(), "batched-4".into()]).await.unwrap();
    assert_eq!(failed, Some(0), "the failed body's row was rolled back");
}

/// The count of committed batches larger than `size`, from the server's `/metrics`.
async fn batches_larger_than(app: &TestApp, size: u32) -> f64 {
    let text = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    let bucket = |le: &str| {
        let prefix = format!("kindling_db_group_commit_batch_size_bucket{{le=\"{le}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse::<f64>().ok()).unwrap_or(0.0)
    };
    bucket("+Inf") - bucket(&size.to_string())
}

/// Through HTTP on SQLite: while the writer is held, member creates (one of them a taken
/// identifier) and two redemptions against an offer capped at one (the loser has already
/// claimed its credential when the cap refuses it) queue up; released, they commit as one
/// batch. The refused requests are refused alone and leave nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_request_in_a_batch_leaves_its_neighbours() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Capped", "max_redemptions": 1})).await;
    app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "taken"}})).await.error_free();
    let credentials: Vec<i64> = {
        let mut ids = Vec::new();
        for _ in 0..2 {
            ids.push(issue(&app, &acct, &s, s.member).await.body["credential"]["id"].as_i64().unwrap());
        }
        ids
    };
    let before = batches_larger_than(&app, 8).await;

    let held = app.db.begin().await.unwrap();
    let mut tasks = Vec::new();
    for identifier in ["fresh-0", "fresh-1", "fresh-2", "taken", "fresh-3", "fresh-4", "fresh-5", "fresh-6"] {
        let (client, base, token) = (app.client.clone(), app.base.clone(), acct.token.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"member": {"identifier": identifier}}).to_string();
            let sent = client.post(format!("{base}/v1.0/members")).header("X-Auth-Token", token).body(body);
            sent.send().await.unwrap().status().as_u16()
        }));
    }
    for id in &credentials {
        let (client, base, token, id) = (app.client.clone(), app.base.clone(), acct.token.clone(), *id);
        tasks.push(tokio::spawn(async move {
            let sent = client.put(format!("{base}/v1.0/credentials/{id}/redeem")).header("X-Auth-Token", token);
            sent.send().await.unwrap().status().as_u16()
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    drop(held);
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }

    let (members, redeems) = statuses.split_at(8);
    assert_eq!(members.iter().filter(|s| **s == 201).count(), 7, "{statuses:?}");
    assert!(members[3] >= 400 && members[3] < 500, "the taken identifier is refused: {statuses:?}");
    let mut redeems = redeems.to_vec();
    redeems.sort_unstable();
    assert_eq!(redeems, [201, 400], "one redemption fits under the cap");
    assert!(batches_larger_than(&app, 8).await > before, "the queued writes committed together");

    let listed = app.get(&acct, "/v1.0/members?per_page=50").await;
    assert_eq!(listed.body["total_entries"], 9, "setup member, taken, seven fresh");
    let mut open = 0;
    for id in &credentials {
        let shown = app.raw(Some(&acct.token), Method::GET, &format!("/v1.0/credentials/{id}"), None).await;
        open += usize::from(shown.body["credential"]["status"] == "open");
    }
    assert_eq!(open, 1, "the refused redemption's claim of its credential was rolled back");
    let redemptions = "SELECT COUNT(*) FROM redemptions WHERE offer_id = $1";
    assert_eq!(app.db.fetch_optional::<i64>(redemptions, &[s.offer.into()]).await.unwrap(), Some(1));
}
