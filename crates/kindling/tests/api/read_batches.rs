//! `GET /v1.0/members/{id}` on PostgreSQL reads in batches (crates/store/src/by_ids.rs):
//! concurrent reads share one `... AND id = ANY($2)` statement per account. Each answer must
//! be exactly what a lone read gives: the account's own member, a 404 for another account's
//! id or an unknown one, and a change made just before the read. SQLite (its read cache
//! instead) is held to the same answers.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use futures_util::future::join_all;
use kindling_domain::{AccountId, MemberId};
use kindling_store::crud;
use kindling_store::members::Members;
use serde_json::json;

backend_tests!(concurrent_reads_answer_each_its_own, concurrent_reads_share_statements);

async fn members(app: &TestApp, acct: &TestAccount, prefix: &str, n: usize) -> Vec<(i64, String)> {
    let mut created = Vec::new();
    for i in 0..n {
        let identifier = format!("{prefix}-{i}");
        let response = app.post(acct, "/v1.0/members", json!({"member": {"identifier": identifier}})).await;
        assert_eq!(response.status, 201, "{}", response.text);
        created.push((response.body["member"]["id"].as_i64().unwrap(), identifier));
    }
    created
}

async fn concurrent_reads_answer_each_its_own(app: TestApp) {
    let (a, b) = (app.account().await, app.account().await);
    let (mine, theirs) = (members(&app, &a, "a", 12).await, members(&app, &b, "b", 12).await);
    let unknown = theirs.iter().map(|(id, _)| id).max().unwrap() + 1_000_000;

    // Each account reads its own members (some twice), the other's, and an unknown id, all at
    // once: (account, id, the identifier expected or None for a 404).
    let mut reads = Vec::new();
    for ((own_a, name_a), (own_b, name_b)) in mine.iter().zip(&theirs) {
        for _ in 0..2 {
            reads.push((&a, *own_a, Some(name_a.clone())));
            reads.push((&b, *own_b, Some(name_b.clone())));
        }
        reads.push((&a, *own_b, None));
        reads.push((&b, *own_a, None));
    }
    reads.push((&a, unknown, None));
    reads.push((&b, unknown, None));
    for round in 0..3 {
        let paths: Vec<String> = reads.iter().map(|(_, id, _)| format!("/v1.0/members/{id}")).collect();
        let answers = join_all(reads.iter().zip(&paths).map(|((acct, _, _), path)| app.get(acct, path))).await;
        for ((_, id, expected), answer) in reads.iter().zip(answers) {
            match expected {
                Some(identifier) => {
                    assert_eq!(answer.status, 200, "member {id}, round {round}: {}", answer.text);
                    answer.spec("get", "/v1.0/members/{member_id}").error_free();
                    assert_eq!(answer.body["member"]["id"], *id);
                    assert_eq!(answer.body["member"]["identifier"], identifier.as_str());
                }
                None => {
                    assert_eq!(answer.status, 404, "member {id}, round {round}: {}", answer.text);
                    assert!(answer.body["error"].is_string(), "{}", answer.text);
                }
            }
        }
    }

    // A change is seen by the next read, also when many reads are waiting with it.
    let (id, _) = mine[0];
    let changed = app.put(&a, &format!("/v1.0/members/{id}"), json!({"member": {"identifier": "renamed"}})).await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let path = format!("/v1.0/members/{id}");
    let answers = join_all((0..40).map(|_| app.get(&a, &path))).await;
    for answer in answers {
        assert_eq!(answer.body["member"]["identifier"], "renamed", "{}", answer.text);
    }
    let deleted = app.delete(&a, &format!("/v1.0/members/{id}")).await;
    assert!(deleted.status.is_success(), "{}", deleted.text);
    let answers = join_all((0..40).map(|_| app.get(&a, &path))).await;
    assert!(answers.iter().all(|answer| answer.status == 404));
}

/// On PostgreSQL, 200 concurrent reads take far fewer statements than reads; SQLite reads
/// each one (or answers it from the cache) and counts none.
async fn concurrent_reads_share_statements(app: TestApp) {
    let acct = app.account().await;
    let created = members(&app, &acct, "m", 20).await;
    let before = app.db.coalesced_reads();
    let reads = (0..200).map(|i| {
        let (id, _) = created[i % created.len()];
        crud::get::<Members>(&app.db, AccountId(acct.id), &[], MemberId(id))
    });
    let found = join_all(reads).await;
    for (i, member) in found.into_iter().enumerate() {
        let member = member.unwrap().expect("the member is there");
        assert_eq!((member.id.0, member.identifier.as_str()), (created[i % 20].0, created[i % 20].1.as_str()));
    }
    match (before, app.db.coalesced_reads()) {
        (Some((reads_before, statements_before)), Some((reads, statements))) => {
            let (reads, statements) = (reads - reads_before, statements - statements_before);
            assert_eq!(reads, 200);
            assert!(statements * 4 <= reads, "{statements} statements for {reads} reads");
        }
        (None, None) => assert!(app.url.starts_with("sqlite:")),
        other => panic!("counts changed kind: {other:?}"),
    }
}
