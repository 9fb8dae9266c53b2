//! High-throughput issuance (`POST /v1.0/members/offer_states/issue`, core-ops spec): by
//! member id and by identifier (found or created), the answer against the core-ops schema,
//! the state in the wallet and redeemable, refusals (campaigns, members, suspended offers,
//! windows), limits under concurrent issues and redemptions, and bad input; and the batches
//! the operation's queue forms under load (`issuance::issue_many`, built here directly so
//! their make-up is known): each item answered alone, refusals writing nothing.

use crate::backend_tests;
use crate::credentials::{member, put_query, setup, Setup};
use crate::helpers::{TestAccount, TestApp, TestResponse};
use crate::offers::{approve, channel, offer};
use kindling_domain::member::Identifier;
use kindling_domain::{AccountId, MemberId, Timestamp};
use kindling_store::issuance::{issue_many, Issue, Issued, Recipient};
use kindling_store::offer_states::StateError;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;

backend_tests!(
    issue_by_member_id_and_identifier,
    refusals_write_nothing,
    windows_inside_the_offers,
    concurrent_issues_and_limits,
    bad_input_writes_nothing,
    a_batch_answers_each_item_alone,
    batches_needing_member_facts_go_one_by_one,
);

const ISSUE: &str = "/v1.0/members/offer_states/issue";

fn offer_body(name: &str) -> Value {
    json!({"name": name, "activates_at": "2020-01-01T00:00:00Z", "expires_at": "2099-01-01T00:00:00Z"})
}

/// The campaign xid of the offer on the setup's channel.
async fn campaign_xid(app: &TestApp, s: &Setup) -> String {
    let sql = "SELECT xid FROM eligible_channels WHERE offer_id = $1 AND channel_id = $2";
    app.db.fetch_optional::<String>(sql, &[s.offer.into(), s.channel.into()]).await.unwrap().unwrap()
}

async fn post(app: &TestApp, acct: &TestAccount, state: Value) -> TestResponse {
    app.post(acct, ISSUE, json!({ "offer_state": state })).await
}

/// Asserts the core-ops spec's 201 and schema, and the required fields' presence.
fn check(response: &TestResponse) -> Value {
    assert_eq!(response.status.as_u16(), 201, "{}", response.text);
    if let Some(spec) = crate::spec::core_ops() {
        spec.check_success("post", "/members/offer_states/issue", 201, &response.body);
    }
    let state = response.body["offer_state"].clone();
    for key in ["id", "member_id", "offer_id"] {
        assert!(state[key].is_i64(), "{key} in {state}");
    }
    for key in ["campaign_id", "credential_identifier"] {
        assert!(state[key].is_string(), "{key} in {state}");
    }
    assert_eq!(response.body["errors"], json!({}));
    state
}

async fn rows(app: &TestApp, acct: &TestAccount, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE account_id = $1");
    app.db.fetch_optional::<i64>(&sql, &[acct.id.into()]).await.unwrap().unwrap_or(0)
}

async fn credential_of(app: &TestApp, state: &Value) -> i64 {
    let sql = "SELECT credential_id FROM offer_states WHERE id = $1";
    app.db.fetch_optional::<i64>(sql, &[state["id"].as_i64().unwrap().into()]).await.unwrap().unwrap()
}

async fn issue_by_member_id_and_identifier(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, offer_body("Free Fries")).await;
    let xid = campaign_xid(&app, &s).await;
    let issued =
        post(&app, &acct, json!({"campaign_id": xid, "member_id": s.member, "external_ref_id": "ext-1"})).await;
    let state = check(&issued);
    let (id, code) = (state["id"].as_i64().unwrap(), state["credential_identifier"].as_str().unwrap().to_owned());
    assert_eq!(
        state,
        json!({"id": id, "member_id": s.member, "offer_id": s.offer, "campaign_id": xid,
               "activates_at": null, "expires_at": null, "credential_identifier": code})
    );

    // The same kind of state as the wallet's: listed on the channel, with its credential.
    let listed = app.get(&acct, &format!("/v1.0/members/{}/offer_states?channel_id={}", s.member, s.channel)).await;
    listed.spec("get", "/v1.0/members/{member_id}/offer_states");
    let shown = &listed.body["offer_states"][0]["offer_state"];
    assert_eq!(listed.body["total_entries"], 1);
    assert_eq!(
        (shown["offer_state_id"].as_i64(), shown["credential_identifier"].as_str(), shown["status"].as_str()),
        (Some(id), Some(code.as_str()), Some("active"))
    );
    assert_eq!(shown["external_ref_id"], "ext-1");
    assert_eq!(shown["activates_at"], "2020-01-01T00:00:00Z", "the offer's window where the state has none");
    let credential = credential_of(&app, &state).await;
    let c = app.get(&acct, &format!("/v1.0/credentials/{credential}")).await;
    c.spec("get", "/v1.0/credentials/{credential_id}");
    assert_eq!(
        (c.body["credential"]["identifier"].as_str(), c.body["credential"]["member_id"].as_i64()),
        (Some(code.as_str()), Some(s.member))
    );
    let redeemed = put_query(&app, &acct, &format!("/v1.0/credentials/{credential}/redeem")).await;
    redeemed.spec("put", "/v1.0/credentials/{credential_id}/redeem");
    let again = put_query(&app, &acct, &format!("/v1.0/credentials/{credential}/redeem")).await;
    assert_eq!(again.error(400), "Credential has already been redeemed");

    // By identifier: an unknown one creates the member, a known one finds it.
    let members = rows(&app, &acct, "members").await;
    let fresh = check(&post(&app, &acct, json!({"campaign_id": xid, "member_identifier": "newcomer-1"})).await);
    assert_eq!(rows(&app, &acct, "members").await, members + 1);
    let found = app.get(&acct, "/v1.0/members/search?identifier=newcomer-1").await;
    let newcomer = found.body["member"]["id"].as_i64().expect("the member was created");
    assert_eq!(fresh["member_id"], newcomer);
    let again = check(&post(&app, &acct, json!({"campaign_id": xid, "member_identifier": "newcomer-1"})).await);
    assert_eq!(again["member_id"], newcomer);
    assert_ne!(again["id"], fresh["id"]);
    assert_ne!(again["credential_identifier"], fresh["credential_identifier"], "each state has its own code");
    assert_eq!(rows(&app, &acct, "members").await, members + 1, "found, not created twice");
    let identifier = app.get(&acct, &format!("/v1.0/members/{}", s.member)).await.body["member"]["identifier"].clone();
    let known = check(&post(&app, &acct, json!({"campaign_id": xid, "member_identifier": identifier})).await);
    assert_eq!(known["member_id"], s.member);
    let listed = app.get(&acct, &format!("/v1.0/members/{newcomer}/offer_states?channel_id={}", s.channel)).await;
    assert_eq!(listed.body["total_entries"], 2);
}

async fn refusals_write_nothing(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, offer_body("Fries")).await;
    let xid = campaign_xid(&app, &s).await;
    let stranger = app.account().await;
    let theirs = setup(&app, &stranger, offer_body("Theirs")).await;
    let their_xid = campaign_xid(&app, &theirs).await;
    let members = rows(&app, &acct, "members").await;

    let refuse = |state: Value, status: u16| {
        let (app, acct) = (&app, &acct);
        async move { post(app, acct, state).await.error(status) }
    };
    assert_eq!(refuse(json!({"campaign_id": "nope", "member_id": s.member}), 404).await, "Campaign not found");
    assert_eq!(refuse(json!({"campaign_id": their_xid, "member_id": s.member}), 404).await, "Campaign not found");
    assert_eq!(
        refuse(json!({"campaign_id": their_xid, "member_identifier": "someone"}), 404).await,
        "Campaign not found"
    );
    assert_eq!(refuse(json!({"campaign_id": xid, "member_id": 99999999}), 404).await, "Member not found");
    assert_eq!(refuse(json!({"campaign_id": xid, "member_id": theirs.member}), 404).await, "Member not found");

    // A suspended offer (its campaigns with it) and one never approved are refused.
    let suspended = app.put(&acct, &format!("/v1.0/offers/{}/actions/suspend", s.offer), json!({})).await;
    suspended.error_free();
    assert_eq!(
        refuse(json!({"campaign_id": xid, "member_identifier": "not-created"}), 400).await,
        "offer Fries must be approved to generate a credential"
    );
    let pending = offer(&app, &acct, offer_body("Not Yet")).await;
    app.post(&acct, &format!("/v1.0/offers/{pending}/channels"), json!({"offer": {"channel_ids": [s.channel]}}))
        .await
        .error_free();
    let pending_xid = campaign_xid(&app, &Setup { offer: pending, ..s }).await;
    assert_eq!(
        refuse(json!({"campaign_id": pending_xid, "member_id": s.member}), 400).await,
        "offer Not Yet must be approved to generate a credential"
    );
    // Member lists apply as to any credential.
    let vip = offer(&app, &acct, offer_body("VIP Deal")).await;
    let vip_channel = channel(&app, &acct, "VIP").await;
    app.post(&acct, &format!("/v1.0/offers/{vip}/channels"), json!({"offer": {"channel_ids": [vip_channel]}}))
        .await
        .error_free();
    approve(&app, &acct, vip).await;
    let list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "VIP"}})).await.body["member_list"]
        ["id"]
        .as_i64()
        .unwrap();
    app.post(&acct, &format!("/v1.0/offers/{vip}/member_lists"), json!({"offer": {"member_list_ids": [list]}}))
        .await
        .error_free();
    let vip_xid = campaign_xid(&app, &Setup { offer: vip, channel: vip_channel, member: s.member }).await;
    assert_eq!(
        refuse(json!({"campaign_id": vip_xid, "member_identifier": "outsider"}), 400).await,
        "Member must be eligible for offer: VIP Deal"
    );
    assert_eq!(rows(&app, &acct, "offer_states").await, 0, "refusals write nothing");
    assert_eq!(rows(&app, &acct, "credentials").await, 0);
    assert_eq!(rows(&app, &acct, "members").await, members, "a refused identifier creates no member");
    assert_eq!(rows(&app, &stranger, "offer_states").await, 0);

    // Approved again, the campaign issues.
    let approved = app.put(&acct, &format!("/v1.0/offers/{}/actions/approve", s.offer), json!({})).await;
    approved.error_free();
    check(&post(&app, &acct, json!({"campaign_id": xid, "member_id": s.member})).await);
}

async fn windows_inside_the_offers(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, offer_body("Windowed")).await;
    let xid = campaign_xid(&app, &s).await;
    let issue = |window: Value| {
        let (app, acct, xid) = (&app, &acct, xid.clone());
        async move {
            let mut state = json!({"campaign_id": xid, "member_id": s.member});
            state.as_object_mut().unwrap().extend(window.as_object().unwrap().clone());
            post(app, acct, state).await
        }
    };
    // Pending: opens in 2098; its code is refused until then.
    let pending = check(&issue(json!({"activates_at": "2098-01-01T00:00:00Z"})).await);
    assert_eq!(
        (pending["activates_at"].as_str(), pending["expires_at"].clone()),
        (Some("2098-01-01T00:00:00Z"), json!(null))
    );
    let credential = credential_of(&app, &pending).await;
    let early = put_query(&app, &acct, &format!("/v1.0/credentials/{credential}/redeem")).await;
    assert_eq!(early.error(400), "Credential is not active yet");
    // Expired (a naive time is UTC).
    let expired = check(&issue(json!({"expires_at": "2021-01-01T00:00:00"})).await);
    assert_eq!(expired["expires_at"], "2021-01-01T00:00:00Z");
    let credential = credential_of(&app, &expired).await;
    let late = put_query(&app, &acct, &format!("/v1.0/credentials/{credential}/redeem")).await;
    assert_eq!(late.error(400), "Credential has expired");
    let shown = app.get(&acct, &format!("/v1.0/members/{}/offer_states/{}", s.member, expired["id"])).await;
    assert_eq!(shown.body["offer_state"]["status"], "expired");
    // Open now: redeemable.
    let open =
        check(&issue(json!({"activates_at": "2021-06-01T00:00:00+02:00", "expires_at": "2098-01-01T00:00:00Z"})).await);
    assert_eq!(open["activates_at"], "2021-05-31T22:00:00Z");
    let credential = credential_of(&app, &open).await;
    put_query(&app, &acct, &format!("/v1.0/credentials/{credential}/redeem")).await.error_free();

    let (states, credentials) = (rows(&app, &acct, "offer_states").await, rows(&app, &acct, "credentials").await);
    for (window, field, message) in [
        (
            json!({"activates_at": "2019-12-31T23:59:59Z"}),
            "activates_at",
            "must not be before the offer's activates_at (2020-01-01T00:00:00Z)",
        ),
        (
            json!({"expires_at": "2099-01-01T00:00:01Z"}),
            "expires_at",
            "must not be after the offer's expires_at (2099-01-01T00:00:00Z)",
        ),
        (
            json!({"activates_at": "2050-01-01T00:00:00Z", "expires_at": "2040-01-01T00:00:00Z"}),
            "expires_at",
            "must be after activates_at",
        ),
        (json!({"activates_at": "soon"}), "activates_at", "must be an ISO 8601 date-time"),
        (json!({"expires_at": 20990101}), "expires_at", "must be an ISO 8601 date-time string"),
        (json!({"external_ref_id": "x".repeat(256)}), "external_ref_id", "is too long (maximum is 255 characters)"),
    ] {
        let refused = issue(window.clone()).await;
        refused.error(400);
        assert_eq!(refused.body["errors"], json!({ field: message }), "{window}");
    }
    assert_eq!(rows(&app, &acct, "offer_states").await, states);
    assert_eq!(rows(&app, &acct, "credentials").await, credentials, "a refused window keeps no credential");
}

/// Runs `n` requests at once and returns their answers in order.
async fn at_once<F, Fut>(n: usize, request: F) -> Vec<TestResponse>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = TestResponse> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(request(i))).collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn concurrent_issues_and_limits(app: TestApp) {
    let app = Arc::new(app);
    let acct = Arc::new(app.account().await);
    let s = setup(&app, &acct, offer_body("Rush")).await;
    let xid = campaign_xid(&app, &s).await;
    let mut ids = Vec::new();
    for i in 0..32 {
        ids.push(member(&app, &acct, &format!("known-{i}")).await);
    }
    // 64 at once: half by id, half by identifiers never seen before.
    let issued = at_once(64, |i| {
        let (app, acct, xid) = (app.clone(), acct.clone(), xid.clone());
        let who = if i < 32 { json!({"member_id": ids[i]}) } else { json!({"member_identifier": format!("new-{i}")}) };
        async move {
            let mut state = json!({"campaign_id": xid});
            state.as_object_mut().unwrap().extend(who.as_object().unwrap().clone());
            post(&app, &acct, state).await
        }
    })
    .await;
    let states: Vec<Value> = issued.iter().map(check).collect();
    let distinct =
        |key: &str| states.iter().map(|s| s[key].to_string()).collect::<std::collections::BTreeSet<_>>().len();
    assert_eq!((distinct("id"), distinct("credential_identifier"), distinct("member_id")), (64, 64, 64));
    assert_eq!(rows(&app, &acct, "offer_states").await, 64);
    let mut credentials = Vec::new();
    for state in &states {
        credentials.push(credential_of(&app, state).await);
    }
    // Every code redeems once, all at once; a second redemption of each is refused.
    let redeem = |credentials: Vec<i64>| {
        let (app, acct) = (app.clone(), acct.clone());
        at_once(credentials.len(), move |i| {
            let (app, acct, id) = (app.clone(), acct.clone(), credentials[i]);
            async move { put_query(&app, &acct, &format!("/v1.0/credentials/{id}/redeem")).await }
        })
    };
    for r in redeem(credentials.clone()).await {
        r.spec("put", "/v1.0/credentials/{credential_id}/redeem");
    }
    for r in redeem(credentials).await {
        assert_eq!(r.error(400), "Credential has already been redeemed");
    }

    // One new member named 16 times at once is created once; the offer's per-member limit
    // lets exactly one of the 16 codes redeem.
    let once = setup(&app, &acct, json!({"name": "Once Each", "max_redemptions_per_member": 1})).await;
    let once_xid = campaign_xid(&app, &once).await;
    let issued = at_once(16, |_| {
        let (app, acct, xid) = (app.clone(), acct.clone(), once_xid.clone());
        async move { post(&app, &acct, json!({"campaign_id": xid, "member_identifier": "twin"})).await }
    })
    .await;
    let states: Vec<Value> = issued.iter().map(check).collect();
    assert!(states.iter().all(|s| s["member_id"] == states[0]["member_id"]), "one member: {states:?}");
    let mut credentials = Vec::new();
    for state in &states {
        credentials.push(credential_of(&app, state).await);
    }
    let answers = redeem(credentials).await;
    let (redeemed, refused): (Vec<_>, Vec<_>) = answers.iter().partition(|r| r.status.is_success());
    assert_eq!(redeemed.len(), 1, "max_redemptions_per_member 1");
    redeemed[0].spec("put", "/v1.0/credentials/{credential_id}/redeem");
    for r in refused {
        assert_eq!(r.error(400), "Member must be eligible for offer: Once Each");
    }
}

async fn bad_input_writes_nothing(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, offer_body("Sturdy")).await;
    let xid = campaign_xid(&app, &s).await;
    let raw = |body: String| {
        let (app, acct) = (&app, &acct);
        async move { app.raw(Some(&acct.token), Method::POST, ISSUE, Some(body)).await }
    };
    assert!(raw("{\"offer_state\": ".into()).await.error(400).starts_with("malformed JSON"));
    assert!(raw("[1]".into()).await.error(400).starts_with("request body must be a JSON object"));
    assert_eq!(raw(String::new()).await.error(400), "offer_state is required");
    assert_eq!(raw("{}".into()).await.error(400), "offer_state is required");
    assert_eq!(raw("{\"offer_state\": 5}".into()).await.error(400), "offer_state must be an object");
    let m = s.member;
    let cases = [
        (json!({"member_id": m}), "campaign_id is required"),
        (json!({"campaign_id": "", "member_id": m}), "campaign_id is required"),
        (json!({"campaign_id": 5, "member_id": m}), "campaign_id must be a string (the campaign's xid)"),
        (json!({"campaign_id": xid}), "member_id or member_identifier is required"),
        (
            json!({"campaign_id": xid, "member_id": null, "member_identifier": null}),
            "member_id or member_identifier is required",
        ),
        (
            json!({"campaign_id": xid, "member_id": m, "member_identifier": "a"}),
            "give member_id or member_identifier, not both",
        ),
        (json!({"campaign_id": xid, "member_id": "twelve"}), "member_id must be a positive integer"),
        (json!({"campaign_id": xid, "member_id": 1.5}), "member_id must be a positive integer"),
        (json!({"campaign_id": xid, "member_id": -3}), "member_id must be a positive integer"),
        (json!({"campaign_id": xid, "member_identifier": 7}), "member_identifier must be a string"),
        (json!({"campaign_id": xid, "member_identifier": "  "}), "member_identifier can't be blank"),
        (
            json!({"campaign_id": xid, "member_identifier": "x".repeat(256)}),
            "member_identifier is too long (maximum is 255 characters)",
        ),
        (json!({"campaign_id": xid, "member_id": m, "external_ref_id": ["x"]}), "external_ref_id must be a string"),
    ];
    for (state, message) in cases {
        assert_eq!(raw(json!({ "offer_state": state }).to_string()).await.error(400), message, "{state}");
    }
    let huge = json!({"offer_state": {"campaign_id": xid, "member_id": m, "external_ref_id": "x".repeat(3 << 20)}});
    assert_eq!(raw(huge.to_string()).await.status, 413);
    assert!(raw(format!("{{\"offer_state\": {{\"campaign_id\": \"{xid}\", \"member_identifier\": \"a\\u0000b\"}}}}"))
        .await
        .error(400)
        .contains("NUL"));
    assert_eq!(app.raw(None, Method::POST, ISSUE, Some("{}".into())).await.status, 401);
    assert_eq!(rows(&app, &acct, "offer_states").await, 0, "nothing written");
    assert_eq!(rows(&app, &acct, "credentials").await, 0);
}

fn item(xid: &str, recipient: Recipient) -> Issue {
    Issue { campaign_xid: xid.into(), recipient, activates_at: None, expires_at: None, external_ref_id: None }
}

fn by_id(id: i64) -> Recipient {
    Recipient::Id(MemberId(id))
}

fn named(identifier: &str) -> Recipient {
    Recipient::Identifier(Identifier::parse(identifier.into()).unwrap())
}

fn issued(outcome: &Result<Issued, StateError>) -> &Issued {
    outcome.as_ref().unwrap_or_else(|e| panic!("refused: {e:?}"))
}

fn not_found(outcome: &Result<Issued, StateError>) -> &'static str {
    match outcome {
        Err(StateError::NotFound(message)) => message,
        other => panic!("expected a 404, got {other:?}"),
    }
}

/// Every issued code redeems once, through the API.
async fn redeem_each(app: &TestApp, acct: &TestAccount, states: &[&Issued]) {
    for state in states {
        let credential = credential_of(app, &json!({"id": state.id.0})).await;
        put_query(app, acct, &format!("/v1.0/credentials/{credential}/redeem"))
            .await
            .spec("put", "/v1.0/credentials/{credential_id}/redeem");
    }
}

async fn a_batch_answers_each_item_alone(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, offer_body("Batch")).await;
    let xid = campaign_xid(&app, &s).await;
    let second = setup(&app, &acct, offer_body("Second")).await;
    let second_xid = campaign_xid(&app, &second).await;
    let stranger = app.account().await;
    let theirs = setup(&app, &stranger, offer_body("Theirs")).await;
    let their_xid = campaign_xid(&app, &theirs).await;
    let members = rows(&app, &acct, "members").await;

    let too_early = Timestamp::parse("2019-06-01T00:00:00Z").unwrap();
    let inside = (Timestamp::parse("2021-01-01T00:00:00Z").unwrap(), Timestamp::parse("2098-01-01T00:00:00Z").unwrap());
    let batch = vec![
        item(&xid, by_id(s.member)),
        item(&xid, named("fresh")),
        item(&second_xid, named("fresh")),
        item("nope", by_id(s.member)),
        item(&their_xid, by_id(s.member)),
        item(&xid, by_id(theirs.member)),
        item(&xid, by_id(99_999_999)),
        Issue { activates_at: Some(too_early), ..item(&xid, named("never-created")) },
        Issue {
            external_ref_id: Some("ext-9".into()),
            activates_at: Some(inside.0),
            expires_at: Some(inside.1),
            ..item(&second_xid, by_id(second.member))
        },
    ];
    let batch = issue_many(&app.db, AccountId(acct.id), batch).await.unwrap();
    assert!(batch.together, "no rule here needs a member's own facts");
    let out = &batch.outcomes;
    assert_eq!(out.len(), 9);
    let ok: Vec<&Issued> = [0, 1, 2, 8].iter().map(|&i| issued(&out[i])).collect();
    assert_eq!((ok[0].member_id.0, ok[0].offer_id.0, ok[0].campaign_xid.as_str()), (s.member, s.offer, xid.as_str()));
    assert_eq!(ok[1].member_id, ok[2].member_id, "one new member for one identifier");
    assert_ne!(ok[1].member_id.0, s.member);
    assert_eq!((ok[1].offer_id.0, ok[2].offer_id.0), (s.offer, second.offer));
    assert_eq!((ok[3].member_id.0, ok[3].offer_id.0), (second.member, second.offer));
    let codes: std::collections::BTreeSet<&str> = ok.iter().map(|i| i.credential_identifier.as_str()).collect();
    assert_eq!(codes.len(), 4, "a code each");
    assert_eq!((not_found(&out[3]), not_found(&out[4])), ("Campaign not found", "Campaign not found"));
    assert_eq!((not_found(&out[5]), not_found(&out[6])), ("Member not found", "Member not found"));
    assert!(matches!(&out[7], Err(StateError::Window(_))), "{:?}", out[7]);

    // Exactly the accepted items' rows: no member for the refused identifier.
    assert_eq!(rows(&app, &acct, "members").await, members + 1);
    for table in ["offer_states", "credentials", "credential_offers", "offer_activities"] {
        assert_eq!(rows(&app, &acct, table).await, 4, "{table}");
    }
    assert_eq!(rows(&app, &stranger, "offer_states").await, 0);
    let ext = "SELECT external_ref_id FROM offer_states WHERE id = $1";
    let stored: Option<String> = app.db.fetch_optional(ext, &[ok[3].id.0.into()]).await.unwrap();
    assert_eq!(stored.as_deref(), Some("ext-9"));
    assert_eq!((ok[3].activates_at, ok[3].expires_at), (Some(inside.0), Some(inside.1)));
    // Codes are unique within an account only: another test's account may hold the same one.
    let window = "SELECT activates_at FROM credentials WHERE identifier = $1 AND account_id = $2";
    let code = ok[3].credential_identifier.as_str();
    let own: Option<i64> = app.db.fetch_optional(window, &[code.into(), acct.id.into()]).await.unwrap();
    assert_eq!(own, Some(inside.0.unix()), "the state's window is its credential's");
    let shown = app.get(&acct, &format!("/v1.0/members/{}/offer_states/{}", second.member, ok[3].id.0)).await;
    shown.spec("get", "/v1.0/members/{member_id}/offer_states/{offer_state_id}");
    assert_eq!(shown.body["offer_state"]["activates_at"], "2021-01-01T00:00:00Z");
    assert_eq!(shown.body["offer_state"]["expires_at"], "2098-01-01T00:00:00Z");
    // The wallet shows the new member's two states, as the single path would.
    let wallet =
        app.get(&acct, &format!("/v1.0/members/{}/offer_states?channel_id={}", ok[1].member_id.0, s.channel)).await;
    wallet.spec("get", "/v1.0/members/{member_id}/offer_states");
    assert_eq!(wallet.body["total_entries"], 1);
    redeem_each(&app, &acct, &ok).await;

    // A suspended offer refuses its items; the batch's other items are issued.
    app.put(&acct, &format!("/v1.0/offers/{}/actions/suspend", second.offer), json!({})).await.error_free();
    let batch =
        issue_many(&app.db, AccountId(acct.id), vec![item(&second_xid, named("late")), item(&xid, named("late"))])
            .await
            .unwrap();
    assert!(batch.together);
    match &batch.outcomes[0] {
        Err(StateError::Credential(e)) => assert!(format!("{e:?}").contains("NotApproved"), "{e:?}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let late = issued(&batch.outcomes[1]);
    assert_eq!(late.offer_id.0, s.offer);
    assert_eq!(rows(&app, &acct, "offer_states").await, 5);
    redeem_each(&app, &acct, &[late]).await;
}

async fn batches_needing_member_facts_go_one_by_one(app: TestApp) {
    let acct = app.account().await;
    let once = setup(&app, &acct, json!({"name": "Once Each", "max_redemptions_per_member": 1})).await;
    let once_xid = campaign_xid(&app, &once).await;
    let plain = setup(&app, &acct, offer_body("Plain")).await;
    let plain_xid = campaign_xid(&app, &plain).await;
    let batch = vec![
        item(&once_xid, named("twin")),
        item(&once_xid, named("twin")),
        item(&plain_xid, by_id(99_999_999)),
        item(&plain_xid, by_id(plain.member)),
    ];
    let batch = issue_many(&app.db, AccountId(acct.id), batch).await.unwrap();
    assert!(!batch.together, "a per-member limit reads each member's redemptions");
    let out = &batch.outcomes;
    let (a, b, d) = (issued(&out[0]), issued(&out[1]), issued(&out[3]));
    assert_eq!(a.member_id, b.member_id);
    assert_eq!(not_found(&out[2]), "Member not found");
    assert_eq!(d.member_id.0, plain.member);
    assert_eq!(rows(&app, &acct, "offer_states").await, 3);
    redeem_each(&app, &acct, &[a, d]).await;
    // The limit holds: the twin's second code is refused.
    let second = credential_of(&app, &json!({"id": b.id.0})).await;
    let refused = put_query(&app, &acct, &format!("/v1.0/credentials/{second}/redeem")).await;
    assert_eq!(refused.error(400), "Member must be eligible for offer: Once Each");

    // Credential callbacks on: each item enqueues its own, one by one.
    let url = "https://example.com/callbacks/credential";
    app.put(&acct, "/v1.0/account", json!({"account": {"callbacks": {"credential_url": url}}})).await.error_free();
    app.put(&acct, "/v1.0/account/callbacks/enable", json!({})).await.error_free();
    let outbox = rows(&app, &acct, "callback_outbox").await;
    let batch =
        issue_many(&app.db, AccountId(acct.id), vec![item(&plain_xid, named("p1")), item(&plain_xid, named("p2"))])
            .await
            .unwrap();
    assert!(!batch.together, "callbacks are enqueued by the single path");
    assert!(batch.outcomes.iter().all(Result::is_ok), "{:?}", batch.outcomes);
    assert_eq!(rows(&app, &acct, "callback_outbox").await, outbox + 2);
}
