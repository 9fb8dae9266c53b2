//! Codes drawn from keys (migration 25, `credentials::codes`): a new credential's code is
//! its id's key encrypted under the database's secret; codes drawn before keys (rows with no
//! `code_key`) are still found by their text, and no new code repeats one of them while it
//! is open.

use crate::backend_tests;
use crate::credentials::{issue, member, setup};
use crate::helpers::{TestAccount, TestApp};
use kindling_domain::catalog::merchant::RedemptionIdentifierType::ShortNumeric;
use kindling_domain::credentials::code::CodeCipher;
use kindling_domain::{AccountId, CredentialId};
use kindling_store::credentials::write::assign_code;
use kindling_store::Dialect;
use reqwest::Method;
use serde_json::json;

backend_tests!(
    a_new_code_is_its_ids_key_encrypted,
    a_code_drawn_before_keys_is_found_and_never_repeated,
    a_void_does_not_reopen_a_code_another_credential_holds
);

async fn cipher(app: &TestApp) -> CodeCipher {
    let secret: Option<String> =
        app.db.fetch_optional("SELECT secret FROM code_secrets WHERE id = 1", &[]).await.unwrap();
    CodeCipher::from_secret(&secret.expect("the first start wrote a secret")).unwrap()
}

/// Open credentials of the account with these codes and no key, as codes were stored before
/// migration 25.
async fn plant_legacy(app: &TestApp, acct: &TestAccount, member: i64, channel: i64, codes: &[String]) {
    let rows: Vec<String> = codes
        .iter()
        .map(|code| format!("({}, {member}, {channel}, '{code}', 'open', '{{}}', 0, 0)", acct.id))
        .collect();
    let sql = format!(
        "INSERT INTO credentials (account_id, member_id, channel_id, identifier, status, annotations, created_at, \
         updated_at) VALUES {}",
        rows.join(", ")
    );
    app.db.execute(&sql, &[]).await.unwrap();
}

/// The last credential id given so far (on PostgreSQL, the sequence's, which other tests
/// on the shared database move too).
async fn last_id(app: &TestApp) -> i64 {
    let sql = match app.db.dialect() {
        Dialect::Postgres => "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('credentials', 'id')), 0)",
        Dialect::Sqlite => "SELECT COALESCE(MAX(id), 0) FROM credentials",
    };
    app.db.fetch_optional::<i64>(sql, &[]).await.unwrap().unwrap()
}

async fn a_new_code_is_its_ids_key_encrypted(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Keys"})).await;
    let cipher = cipher(&app).await;
    for _ in 0..3 {
        let issued = issue(&app, &acct, &s, s.member).await;
        let c = &issued.error_free().body["credential"];
        let (id, code) = (c["id"].as_i64().unwrap(), c["identifier"].as_str().unwrap());
        assert_eq!(code, cipher.code(ShortNumeric, CodeCipher::ordered_key(ShortNumeric, id)), "credential {id}");
        assert_eq!(cipher.key(code), Some(id), "the key, stored beside it, is the id");
        let stored: Option<i64> =
            app.db.fetch_optional("SELECT code_key FROM credentials WHERE id = $1", &[id.into()]).await.unwrap();
        assert_eq!(stored, Some(id));
    }
}

async fn a_code_drawn_before_keys_is_found_and_never_repeated(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Old codes"})).await;
    let cipher = cipher(&app).await;
    let old = member(&app, &acct, "old-member").await;

    // Old codes taking the codes of the next ids' keys: the planted rows take about `SPAN`
    // ids, and the next credential one of the `SPAN` after them.
    const SPAN: i64 = 500;
    let last = last_id(&app).await;
    let taken: Vec<String> = (last + SPAN + 1..=last + 3 * SPAN).map(|id| cipher.code(ShortNumeric, id)).collect();
    plant_legacy(&app, &acct, old, s.channel, &taken).await;
    let issued = issue(&app, &acct, &s, s.member).await;
    let c = &issued.error_free().body["credential"];
    let (id, code) = (c["id"].as_i64().unwrap(), c["identifier"].as_str().unwrap().to_owned());
    assert!(id > last + SPAN && id <= last + 3 * SPAN, "credential {id} outside the planted window after {last}");
    assert!(!taken.contains(&code), "{code} repeats an open code drawn before keys");
    assert_ne!(cipher.key(&code), Some(id), "its id's key was taken, so another key was drawn");
    assert_eq!(code.len(), 8);

    // The single path's draw (a credential given its first offer later) is checked the same way.
    let bare = app
        .raw(
            Some(&acct.token),
            Method::POST,
            &format!("/v1.0/credentials?member_id={}&channel_id={}", s.member, s.channel),
            None,
        )
        .await;
    let bare_id = CredentialId(bare.body["credential"]["id"].as_i64().unwrap());
    let mut tx = app.db.begin().await.unwrap();
    let drawn = assign_code(&mut tx, AccountId(acct.id), bare_id, ShortNumeric, [last + SPAN + 1, 7]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(drawn, cipher.code(ShortNumeric, 7), "the first key's code was an old open code");

    // Old and new codes are both found by their text (here by the privacy export's lookup).
    let identifier = app.get(&acct, &format!("/v1.0/members/{}", s.member)).await.body["member"]["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    for (code, owner) in [(taken[0].as_str(), "old-member"), (code.as_str(), identifier.as_str())] {
        let export = "/v1.0/privacy/member/export";
        let by_code = app.get(&acct, &format!("{export}?credential_identifier={code}")).await;
        let by_member = app.get(&acct, &format!("{export}?member_identifier={owner}")).await;
        assert_eq!(by_code.status, 200, "{code}: {}", by_code.text);
        assert_eq!(by_code.body, by_member.body, "{code} names {owner}");
    }
}

/// A voided ticket reopens its codes, unless the code is open on another credential by then:
/// here an open code drawn before keys with the same text, which no unique index compares
/// with a keyed code.
async fn a_void_does_not_reopen_a_code_another_credential_holds(app: TestApp) {
    let acct = app.account().await;
    let s = crate::pos::shop(&app, &acct, json!({})).await;
    let (credential, code) = crate::pos::code(&app, &acct, &s, s.member).await;
    let ticket = crate::pos::finalize(&app, &acct, &s, &code, "t-keys", crate::pos::meal()).await;
    assert_eq!(ticket.status, 200, "{}", ticket.text);
    let other = member(&app, &acct, "other-holder").await;
    plant_legacy(&app, &acct, other, s.channel, std::slice::from_ref(&code)).await;
    let id = ticket.body["transaction_id"].as_i64().unwrap();
    let voided = app.post(&acct, &format!("/v1.0/transactions/{id}/void"), json!({})).await;
    assert_eq!(voided.status, 200, "{}", voided.text);
    let status = app.get(&acct, &format!("/v1.0/credentials/{credential}")).await;
    assert_eq!(status.body["credential"]["status"], "redeemed", "{code} is another credential's open code now");
}

/// A database whose codes have keys but whose secret is gone is refused at start, not given
/// a new secret (which would leave every open code unfindable). SQLite only: the
/// PostgreSQL test database is shared with tests running meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_secret_is_refused_at_start() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Secret"})).await;
    issue(&app, &acct, &s, s.member).await.error_free();
    kindling_store::Db::connect(&app.url).await.expect("a database with its secret opens");
    app.db.execute("DELETE FROM code_secrets", &[]).await.unwrap();
    let refused = kindling_store::Db::connect(&app.url).await.err().expect("refused without its secret");
    assert!(refused.to_string().contains("code_secrets"), "{refused}");
}
