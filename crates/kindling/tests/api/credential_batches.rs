//! `POST /v1.0/credentials` in batches (`many::write_many`, built here directly so the
//! batch's make-up is known): a batch answers each input exactly as the single path answers
//! it alone (the same refusal, the same credential but for its id and code), writes nothing
//! for a refused input, and goes one by one when an input needs the single path (a store).

use crate::backend_tests;
use crate::credentials::{member, put_query, setup};
use crate::helpers::{TestAccount, TestApp};
use crate::offers::{approve, channel, offer};
use kindling_domain::{AccountId, ChannelId, MemberId, OfferId, StoreId};
use kindling_store::credentials::write::{self, CredentialInput};
use kindling_store::credentials::Credential;
use kindling_store::many::write_many;
use serde_json::{json, Map, Value};

backend_tests!(a_batch_answers_as_each_request_alone, a_store_sends_the_batch_one_by_one);

fn body(name: &str) -> Value {
    json!({"name": name, "activates_at": "2020-01-01T00:00:00Z", "expires_at": "2099-01-01T00:00:00Z"})
}

fn input(member: Option<i64>, channel: Option<i64>, offers: &[i64]) -> CredentialInput {
    CredentialInput {
        member_id: member.map(MemberId),
        channel_id: channel.map(ChannelId),
        offer_ids: Some(offers.iter().copied().map(OfferId).collect()),
        ..Default::default()
    }
}

/// An approved offer on `channel`.
async fn offer_on(app: &TestApp, acct: &TestAccount, channel: i64, name: &str) -> i64 {
    let id = offer(app, acct, body(name)).await;
    app.post(acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [channel]}}))
        .await
        .error_free();
    approve(app, acct, id).await;
    id
}

async fn count(app: &TestApp, acct: &TestAccount, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE account_id = $1");
    app.db.fetch_optional::<i64>(&sql, &[acct.id.into()]).await.unwrap().unwrap_or(0)
}

/// A credential with what differs between two issues of the same input blanked: its id,
/// code, times and offer of the code's lifetime (compared separately).
fn shape(credential: &Credential) -> Value {
    let mut shown = serde_json::to_value(credential).unwrap();
    for key in ["id", "identifier", "created_at", "updated_at", "code_expires_at"] {
        shown[key] = Value::Null;
    }
    shown
}

async fn a_batch_answers_as_each_request_alone(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, body("First")).await;
    let second = offer_on(&app, &acct, s.channel, "Second").await;
    let elsewhere = channel(&app, &acct, "Elsewhere").await;
    let off_channel = offer_on(&app, &acct, elsewhere, "Off Channel").await;
    let suspended = offer_on(&app, &acct, s.channel, "Paused").await;
    app.put(&acct, &format!("/v1.0/offers/{suspended}/actions/suspend"), json!({})).await.error_free();
    let other_member = member(&app, &acct, "other-member").await;
    let stranger = app.account().await;
    let theirs = setup(&app, &stranger, body("Theirs")).await;

    let mut annotated = input(Some(other_member), Some(s.channel), &[second, s.offer, second]);
    annotated.annotations = Some(Map::from_iter([("source".to_owned(), json!("email"))]));
    annotated.reusable = Some(true);
    annotated.code_lifetime = Some(3600);
    let inputs = vec![
        input(Some(s.member), Some(s.channel), &[s.offer]),
        annotated,
        input(Some(s.member), None, &[s.offer]),
        input(Some(s.member), Some(99_999_999), &[s.offer]),
        input(Some(theirs.member), Some(s.channel), &[s.offer]),
        input(None, Some(s.channel), &[s.offer]),
        input(Some(s.member), Some(s.channel), &[off_channel]),
        input(Some(s.member), Some(s.channel), &[suspended]),
        input(Some(s.member), Some(s.channel), &[theirs.offer]),
        input(Some(s.member), Some(theirs.channel), &[s.offer]),
    ];
    let batch = write_many(&app.db, AccountId(acct.id), inputs.clone()).await.unwrap();
    assert!(batch.together, "no rule here needs a member's own facts");
    assert_eq!(batch.outcomes.len(), inputs.len());
    let batched_rows = count(&app, &acct, "credentials").await;
    assert_eq!(batched_rows, 2, "only the two accepted inputs wrote");
    assert_eq!(count(&app, &acct, "credential_offers").await, 3);
    assert_eq!(count(&app, &acct, "offer_activities").await, 3);

    let mut issued = Vec::new();
    for (i, (input, batched)) in inputs.into_iter().zip(batch.outcomes).enumerate() {
        let alone = write::create(&app.db, AccountId(acct.id), input).await;
        match (batched, alone) {
            (Ok(batched), Ok(alone)) => {
                assert_eq!(shape(&batched), shape(&alone), "input {i}");
                assert_ne!(batched.identifier, alone.identifier, "a code each");
                let lifetime = |c: &Credential| c.code_expires_at.map(|e| e.unix() - c.created_at.unix());
                assert_eq!(lifetime(&batched), lifetime(&alone), "input {i}");
                // The answer is the credential as stored.
                let stored = app.get(&acct, &format!("/v1.0/credentials/{}", batched.id)).await;
                stored.spec("get", "/v1.0/credentials/{credential_id}");
                assert_eq!(stored.body["credential"], serde_json::to_value(&batched).unwrap(), "input {i}");
                issued.push(batched);
            }
            (Err(batched), Err(alone)) => assert_eq!(format!("{batched:?}"), format!("{alone:?}"), "input {i}"),
            (batched, alone) => panic!("input {i}: batched {batched:?}, alone {alone:?}"),
        }
    }
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[1].offer_ids, vec![OfferId(s.offer), OfferId(second)]);
    assert!(issued[1].reusable);
    assert_eq!(count(&app, &acct, "credentials").await, 2 * batched_rows, "alone wrote the same rows again");
    assert_eq!(count(&app, &stranger, "credentials").await, 0);
    for credential in &issued {
        put_query(&app, &acct, &format!("/v1.0/credentials/{}/redeem", credential.id))
            .await
            .spec("put", "/v1.0/credentials/{credential_id}/redeem");
    }
}

async fn a_store_sends_the_batch_one_by_one(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, body("Anywhere")).await;
    let mut at_store = input(Some(s.member), Some(s.channel), &[s.offer]);
    at_store.store_id = Some(StoreId(99_999_999));
    let inputs = vec![input(Some(s.member), Some(s.channel), &[s.offer]), at_store];
    let batch = write_many(&app.db, AccountId(acct.id), inputs).await.unwrap();
    assert!(!batch.together, "a store's rules are the single path's");
    assert!(batch.outcomes[0].is_ok(), "{:?}", batch.outcomes[0]);
    assert_eq!(
        format!("{:?}", batch.outcomes[1].as_ref().unwrap_err()),
        format!("{:?}", write::WriteError::Invalid("Store not found, with id: 99999999".into()))
    );
    assert_eq!(count(&app, &acct, "credentials").await, 1, "the refused input wrote nothing");
}
