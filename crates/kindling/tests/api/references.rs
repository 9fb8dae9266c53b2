//! A credential's channel and an offer link's offer are foreign keys on both stores. Every
//! issuance names such a row that all of a campaign's issuances share, so dropping these keys
//! was measured on PostgreSQL (docs/BENCHMARKS.md, 2026-12-03 08:10 UTC; not kept); whatever
//! keeps these references whole must pass these tests: a channel or an offer something
//! names is not deleted, in either order of a write and a deletion from two connections.
//! An offer link's key to its credential is SQLite's only (migration 32); the last test holds
//! a credential's deletion to what that key's cascade did.

use crate::backend_tests;
use crate::credentials::{member, post_query, setup};
use crate::helpers::{TestAccount, TestApp};
use crate::offers::channel;
use serde_json::json;
use std::time::Duration;
use tokio::task::JoinHandle;

backend_tests!(
    a_channel_named_only_by_a_credential_is_not_deleted,
    an_offer_named_only_by_an_open_credential_is_not_deleted,
    a_deletion_waits_for_a_write_naming_its_row,
    a_write_naming_an_offer_deleted_meanwhile_is_refused,
    a_credential_deleted_while_its_offers_change_keeps_no_links,
);

async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    app.db.fetch_optional::<i64>(sql, &[id.into()]).await.unwrap().unwrap()
}

/// A credential with no offer, on a channel of its own.
async fn credential_on(app: &TestApp, acct: &TestAccount, channel: i64) -> i64 {
    let member = member(app, acct, &format!("m-{}", kindling_domain::secret::new_xid())).await;
    let created = post_query(app, acct, &format!("/v1.0/credentials?member_id={member}&channel_id={channel}")).await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["credential"]["id"].as_i64().unwrap()
}

async fn a_channel_named_only_by_a_credential_is_not_deleted(app: TestApp) {
    let acct = app.account().await;
    let ch = channel(&app, &acct, "Kiosk").await;
    credential_on(&app, &acct, ch).await;
    assert!(app.delete(&acct, &format!("/v1.0/channels/{ch}")).await.error(409).contains("credentials"));
    app.get(&acct, &format!("/v1.0/channels/{ch}")).await.error_free();
    // Another account's delete of it is a 404, not a 409 that would tell it exists.
    let other = app.account().await;
    app.delete(&other, &format!("/v1.0/channels/{ch}")).await.error(404);
}

async fn an_offer_named_only_by_an_open_credential_is_not_deleted(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Held"})).await;
    let issued = crate::credentials::issue(&app, &acct, &s, s.member).await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    // Never redeemed: only the credential's offer link names the offer.
    assert!(app.delete(&acct, &format!("/v1.0/offers/{}", s.offer)).await.error(409).contains("credentials"));
    app.get(&acct, &format!("/v1.0/offers/{}", s.offer)).await.error_free();
}

fn delete_later(app: &TestApp, acct: &TestAccount, path: String) -> JoinHandle<u16> {
    let (client, base, token) = (app.client.clone(), app.base.clone(), acct.token.clone());
    tokio::spawn(async move {
        let sent = client.delete(format!("{base}{path}")).header("X-Auth-Token", token).send();
        sent.await.unwrap().status().as_u16()
    })
}

/// Another process's transaction links a credential to an offer and holds; the offer's
/// deletion, asked meanwhile, waits for it and then refuses (had it looked before the link
/// was committed, it would have removed the offer from under it).
async fn a_deletion_waits_for_a_write_naming_its_row(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Linked meanwhile"})).await;
    let credential = credential_on(&app, &acct, s.channel).await;
    let mut tx = app.db.begin().await.unwrap();
    tx.execute(
        "INSERT INTO credential_offers (account_id, credential_id, offer_id) VALUES ($1, $2, $3)",
        &[acct.id.into(), credential.into(), s.offer.into()],
    )
    .await
    .unwrap();
    let deletion = delete_later(&app, &acct, format!("/v1.0/offers/{}", s.offer));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!deletion.is_finished(), "the deletion waited for the write");
    tx.commit().await.unwrap();
    assert_eq!(deletion.await.unwrap(), 409);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM offers WHERE id = $1", s.offer).await, 1);
}

/// Another process's transaction deletes an offer and holds; a credential for that offer,
/// asked meanwhile, is refused once the deletion commits, and nothing names the offer.
async fn a_write_naming_an_offer_deleted_meanwhile_is_refused(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Deleted meanwhile"})).await;
    let mut tx = app.db.begin().await.unwrap();
    tx.execute("DELETE FROM offers WHERE id = $1", &[s.offer.into()]).await.unwrap();
    let (client, base, token) = (app.client.clone(), app.base.clone(), acct.token.clone());
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    let write = tokio::spawn(async move {
        let sent = client.post(format!("{base}{path}")).header("X-Auth-Token", token).send().await.unwrap();
        (sent.status().as_u16(), sent.text().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    tx.commit().await.unwrap();
    let (status, text) = write.await.unwrap();
    assert!((400..500).contains(&status), "{status} {text}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM credential_offers WHERE offer_id = $1", s.offer).await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM credentials WHERE member_id = $1", s.member).await, 0);
}

/// Another process's transaction holds a credential's row (as an update of its offers does)
/// and links it to a second offer; the credential's deletion, asked meanwhile, waits, and
/// takes that link with it too. On PostgreSQL no key cascades the links (migration 32): the
/// deletion removes them itself, after the credential's row.
async fn a_credential_deleted_while_its_offers_change_keeps_no_links(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Changed meanwhile"})).await;
    let credential =
        crate::credentials::issue(&app, &acct, &s, s.member).await.body["credential"]["id"].as_i64().unwrap();
    let second = setup(&app, &acct, json!({"name": "Second"})).await;
    let mut tx = app.db.begin().await.unwrap();
    let held =
        tx.execute("UPDATE credentials SET updated_at = updated_at WHERE id = $1", &[credential.into()]).await.unwrap();
    assert_eq!(held, 1);
    tx.execute(
        "INSERT INTO credential_offers (account_id, credential_id, offer_id) VALUES ($1, $2, $3)",
        &[acct.id.into(), credential.into(), second.offer.into()],
    )
    .await
    .unwrap();
    let deletion = delete_later(&app, &acct, format!("/v1.0/credentials/{credential}"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!deletion.is_finished(), "the deletion waited for the write");
    tx.commit().await.unwrap();
    assert_eq!(deletion.await.unwrap(), 200);
    let links = "SELECT COUNT(*) FROM credential_offers WHERE credential_id = $1";
    assert_eq!(count(&app, links, credential).await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM credentials WHERE id = $1", credential).await, 0);
}
