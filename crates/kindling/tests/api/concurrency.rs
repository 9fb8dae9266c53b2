//! Limits hold however many requests race: one code redeems once, an offer capped at 100
//! redemptions gets exactly 100, also across two server processes on one PostgreSQL.
//! Counts are read back from the database, not from responses alone.

use crate::backend_tests;
use crate::credentials::{member, setup};
use crate::helpers::{postgres_url, TestApp};
use reqwest::{Client, Method};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Semaphore;

backend_tests!(sixty_four_redeems_of_one_code, a_limit_of_100_under_1000_attempts);

async fn call(client: &Client, base: &str, token: &str, method: Method, path: &str) -> (u16, serde_json::Value) {
    let response = client.request(method, format!("{base}{path}")).header("X-Auth-Token", token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn db_count(app: &TestApp, sql: &str, id: i64) -> i64 {
    app.db.fetch_optional::<i64>(sql, &[id.into()]).await.unwrap().unwrap_or(0)
}

async fn sixty_four_redeems_of_one_code(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Race"})).await;
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    let id = app.raw(Some(&acct.token), Method::POST, &path, None).await.body["credential"]["id"].as_i64().unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (client, base, token) = (app.client.clone(), app.base.clone(), acct.token.clone());
            tokio::spawn(async move {
                call(&client, &base, &token, Method::PUT, &format!("/v1.0/credentials/{id}/redeem")).await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status != 201 {
            assert_eq!((status, body["error"].as_str()), (400, Some("Credential has already been redeemed")));
        }
        statuses.push(status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "exactly one redeem succeeds");
    assert_eq!(db_count(&app, "SELECT COUNT(*) FROM redemptions WHERE credential_id = $1", id).await, 1);
    // The offer has no limit, so the redemption takes no counter (nor its lock).
    assert_eq!(db_count(&app, "SELECT redemption_count FROM offers WHERE id = $1", s.offer).await, 0);
    assert_eq!(
        db_count(&app, "SELECT COUNT(*) FROM offer_activities WHERE credential_id = $1 AND activity_type = 2", id)
            .await,
        1
    );
}

/// Issue-then-redeem attempts from `members` against `bases`, 64 in flight; returns how
/// many redemptions were acknowledged.
async fn race(client: &Client, bases: &[String], token: &str, members: &[i64], offer: i64, channel: i64) -> usize {
    let gate = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let (client, base, token, gate) =
            (client.clone(), bases[i % bases.len()].clone(), token.to_owned(), gate.clone());
        let issue = format!("/v1.0/credentials?member_id={member}&offer_id={offer}&channel_id={channel}");
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let (status, body) = call(&client, &base, &token, Method::POST, &issue).await;
            if status != 201 {
                assert_eq!(status, 400, "{body}");
                return false;
            }
            let id = body["credential"]["id"].as_i64().unwrap();
            let (status, body) =
                call(&client, &base, &token, Method::PUT, &format!("/v1.0/credentials/{id}/redeem")).await;
            assert!(status == 201 || status == 400, "{status} {body}");
            status == 201
        }));
    }
    let mut acknowledged = 0;
    for task in tasks {
        acknowledged += usize::from(task.await.unwrap());
    }
    acknowledged
}

async fn many_members(app: &TestApp, acct: &crate::helpers::TestAccount, n: usize) -> Vec<i64> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(member(app, acct, &format!("racer-{i}")).await);
    }
    ids
}

async fn a_limit_of_100_under_1000_attempts(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Hundred", "max_redemptions": 100})).await;
    let members = many_members(&app, &acct, 1000).await;
    let acknowledged =
        race(&app.client, std::slice::from_ref(&app.base), &acct.token, &members, s.offer, s.channel).await;
    assert_eq!(acknowledged, 100);
    assert_eq!(
        db_count(&app, "SELECT COUNT(*) FROM redemptions WHERE offer_id = $1 AND voided_at IS NULL", s.offer).await,
        100
    );
    assert_eq!(db_count(&app, "SELECT redemption_count FROM offers WHERE id = $1", s.offer).await, 100);
}

/// Two `kindling serve` processes on one PostgreSQL share the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run scripts/test.sh"]
async fn two_server_processes_share_a_limit() {
    two_processes_share_a_limit(&[]).await;
}

/// The same with PostgreSQL group commit on (`KINDLING_PG_GROUP_COMMIT=on`): redemptions
/// batched in one transaction per lane still count exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run scripts/test.sh"]
async fn two_group_committing_processes_share_a_limit() {
    two_processes_share_a_limit(&[("KINDLING_PG_GROUP_COMMIT", "on")]).await;
}

async fn two_processes_share_a_limit(env: &[(&str, &str)]) {
    let url = postgres_url();
    let app = TestApp::spawn(crate::helpers::Backend::Postgres).await.unwrap();
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Shared", "max_redemptions": 100})).await;
    let members = many_members(&app, &acct, 600).await;
    let servers = [crate::cli::Server::start_with(&url, env).await, crate::cli::Server::start_with(&url, env).await];
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let acknowledged = race(&app.client, &bases, &acct.token, &members, s.offer, s.channel).await;
    assert_eq!(acknowledged, 100);
    assert_eq!(
        db_count(&app, "SELECT COUNT(*) FROM redemptions WHERE offer_id = $1 AND voided_at IS NULL", s.offer).await,
        100
    );
    assert_eq!(db_count(&app, "SELECT redemption_count FROM offers WHERE id = $1", s.offer).await, 100);
}
