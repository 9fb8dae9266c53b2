//! Account isolation over every route. Account A gets one of every resource (`world`);
//! account B, with its own world, calls every operation the router serves (`cases`) with A's
//! ids in the path, the query string and the body. The route table is read from the router
//! itself (`kindling_api::route_paths`, methods found by probing), so an operation added
//! without a case fails this test.
//!
//! Each call must be answered exactly as the same call naming an id that does not exist
//! (compared with a "phantom" world), with the documented status (see `cases`), and without
//! any of A's data in the answer. Afterwards every view of A and of B is unchanged, and no row
//! of the database links records of two accounts. Finally each query/body request is sent
//! with B's own ids and must succeed, so a refusal above was for the foreign id alone.

pub(crate) mod cases;
mod rows;
pub(crate) mod world;

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp, TestResponse};
use cases::{fixed_param, param_key, Case};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;
use world::World;

backend_tests!(every_route_is_isolated, offer_item_set_ids_name_the_accounts_sets);

const OWN_ACCOUNT: &str = "the caller's own account: no id in path, query or body names another";

/// Routes with no id of another account to send, and why.
const EXCLUDED: &[(&str, &str)] = &[
    ("/healthz", "no account: liveness"),
    ("/readyz", "no account: readiness"),
    ("/metrics", "no account: process-wide counters, no account's data"),
    ("/admin", PORTAL),
    ("/admin/login", "before any account: an email and a password (portal.rs tests it)"),
    ("/admin/offer_preview.js", "no account: the same script file for everyone"),
    ("/admin/logout", PORTAL),
    ("/admin/password", "the signed-in user's own password: no id in the form (portal_password.rs tests it)"),
    ("/admin/offers", PORTAL),
    ("/admin/offers/new", PORTAL),
    ("/admin/offers/{id}", PORTAL),
    ("/admin/offers/{id}/edit", PORTAL),
    ("/admin/offers/{id}/status", PORTAL),
    ("/admin/offers/{id}/channels", PORTAL),
    ("/admin/offers/{id}/channels/new", PORTAL),
    ("/admin/offers/{id}/member_lists", OFFER_STEPS),
    ("/admin/offers/{id}/store_lists", OFFER_STEPS),
    ("/admin/offers/{id}/merchants", OFFER_STEPS),
    ("/admin/merchants", PORTAL),
    ("/admin/merchants/new", PORTAL),
    ("/admin/merchants/{id}", PORTAL),
    ("/admin/codes", PORTAL),
    ("/admin/codes/redeem", PORTAL),
    ("/admin/codes/void", PORTAL),
    ("/admin/stores", PORTAL_CATALOG),
    ("/admin/stores/new", PORTAL_CATALOG),
    ("/admin/stores/upload", PORTAL_CATALOG),
    ("/admin/stores/{id}", PORTAL_CATALOG),
    ("/admin/store_lists", PORTAL_CATALOG),
    ("/admin/store_lists/new", PORTAL_CATALOG),
    ("/admin/store_lists/{id}", PORTAL_CATALOG),
    ("/admin/manufacturers", PORTAL_CATALOG),
    ("/admin/manufacturers/new", PORTAL_CATALOG),
    ("/admin/manufacturers/{id}", PORTAL_CATALOG),
    ("/admin/items", PORTAL_CATALOG),
    ("/admin/items/new", PORTAL_CATALOG),
    ("/admin/items/{id}", PORTAL_CATALOG),
    ("/admin/item_sets", PORTAL_CATALOG),
    ("/admin/item_sets/new", PORTAL_CATALOG),
    ("/admin/item_sets/{id}", PORTAL_CATALOG),
    ("/admin/channels", PEOPLE),
    ("/admin/channels/new", PEOPLE),
    ("/admin/channels/{id}", PEOPLE),
    ("/admin/channels/{id}/test", PEOPLE),
    ("/admin/campaigns", PEOPLE),
    ("/admin/campaigns/new", PEOPLE),
    ("/admin/campaigns/{id}", PEOPLE),
    ("/admin/member_lists", PEOPLE),
    ("/admin/member_lists/new", PEOPLE),
    ("/admin/member_lists/{id}", PEOPLE),
    ("/admin/member_lists/{id}/members", PEOPLE),
    ("/admin/members", PEOPLE),
    ("/admin/members/{id}", PEOPLE),
    ("/admin/reports", PORTAL_ADMIN),
    ("/admin/reports/activity.csv", PORTAL_ADMIN),
    ("/admin/reports/redemptions.csv", PORTAL_ADMIN),
    ("/admin/account", PORTAL_ADMIN),
    ("/admin/account/callbacks", PORTAL_ADMIN),
    ("/admin/account/key", PORTAL_ADMIN),
    ("/admin/account/users", PORTAL_ADMIN),
    ("/admin/account/users/{id}/remove", PORTAL_ADMIN),
    ("/admin/account/users/{id}/role", PORTAL_ADMIN),
    ("/auth", "before any account: takes an account id and key (auth.rs tests it)"),
    ("/{xid}", "public landing page: an xid is unique across accounts and names its own (landing.rs tests it)"),
    ("/v1.0/account", OWN_ACCOUNT),
    ("/v1.0/account/callbacks/enable", OWN_ACCOUNT),
    ("/v1.0/account/callbacks/disable", OWN_ACCOUNT),
    ("/v1.0/v2/ctm/customposmessages", "no account data: the reason codes' words"),
    ("/v2/ctm/customposmessages", "no account data: the reason codes' words"),
    ("/v1.0/v2/ctm/stores", OWN_ACCOUNT),
    ("/v2/ctm/stores", OWN_ACCOUNT),
    ("/v1.0/ctm/members/{site_id}/{credential}", POS),
    ("/ctm/members/{site_id}/{credential}", POS),
    ("/v1.0/ctm/members/{site_id}", POS),
    ("/ctm/members/{site_id}", POS),
    ("/v1.0/v2/ctm/members/{site_id}/{credential}", POS),
    ("/v2/ctm/members/{site_id}/{credential}", POS),
    ("/v1.0/v2/ctm/members/{site_id}", POS),
    ("/v2/ctm/members/{site_id}", POS),
    ("/v1.0/ctm/allocate/{site_id}/{credential}", POS),
    ("/ctm/allocate/{site_id}/{credential}", POS),
    ("/v1.0/ctm/deallocate/{site_id}", POS),
    ("/ctm/deallocate/{site_id}", POS),
    ("/v1.0/ctm/qitems/{site_id}/{credential}", POS),
    ("/ctm/qitems/{site_id}/{credential}", POS),
    ("/v1.0/transactions/{transaction_id}", POS),
    ("/transactions/{transaction_id}", POS),
    ("/v1.0/transactions/{transaction_id}/void", POS),
];

/// The Admin Portal acts for the account of its session cookie, not an `X-Auth-Token`;
/// portal.rs checks that another account's codes, credential ids and stores are refused.
const PORTAL: &str = "admin portal: the session's account; portal.rs tests another account's ids";
const OFFER_STEPS: &str = "admin portal: the session's account; portal_offer_steps.rs tests another account's ids";
const PORTAL_CATALOG: &str = "admin portal: the session's account; portal_catalog.rs tests another account's ids";
const PEOPLE: &str = "admin portal: the session's account; portal_people.rs tests another account's ids";
const PORTAL_ADMIN: &str =
    "admin portal: the session's account; portal_admin.rs tests another account's user ids and the owner-only rule";

/// The point of sale names a store by `site_id`, a code by its text and a ticket by its
/// headers (not ids this harness can swap); pos.rs checks that another account's site, code
/// and transaction are answered exactly as unknown ones.
const POS: &str = "point of sale: site_id, code and ticket headers; pos.rs tests another account's";

const PROBED: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH];

/// `{name}` parameters of a path template, in order.
fn params(template: &str) -> Vec<&str> {
    template.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect()
}

fn fill(template: &str, value: impl Fn(&str) -> String) -> String {
    template
        .split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => value(param),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The path with every id taken from `w`.
pub(crate) fn own_path(template: &str, w: &World) -> String {
    fill(template, |param| match param_key(template, param) {
        Some(key) => w.id(key).to_string(),
        None => fixed_param(param).to_owned(),
    })
}

/// Every (method, template) the router serves outside `EXCLUDED`: a method is served unless
/// the path answers it with 405 (routing decides that before any extractor runs).
async fn served(app: &TestApp) -> BTreeSet<(String, String)> {
    let paths = kindling_api::route_paths();
    for (excluded, _) in EXCLUDED {
        assert!(paths.contains(excluded), "EXCLUDED names {excluded}, which the router no longer has");
    }
    let mut served = BTreeSet::new();
    for path in paths.into_iter().filter(|p| !EXCLUDED.iter().any(|(e, _)| e == p)) {
        let concrete = fill(path, |_| "1".to_owned());
        for method in PROBED {
            if app.raw(None, method.clone(), &concrete, None).await.status != 405 {
                served.insert((method.to_string(), path.to_owned()));
            }
        }
    }
    served
}

async fn send(app: &TestApp, acct: &TestAccount, method: &Method, path: &str, body: &Option<Value>) -> TestResponse {
    app.raw(Some(&acct.token), method.clone(), path, body.as_ref().map(Value::to_string)).await
}

/// An answer with both worlds' markers and every digit run made neutral in its strings, so
/// an answer about A's id compares equal to the answer about a phantom id. Numbers (counts,
/// B's own ids) are kept.
fn normalize(value: &Value, markers: &[&str]) -> Value {
    match value {
        Value::String(s) => {
            let mut s = s.clone();
            for m in markers {
                s = s.replace(m, "<marker>");
            }
            let mut out = String::new();
            for c in s.chars() {
                if !c.is_ascii_digit() {
                    out.push(c);
                } else if !out.ends_with('#') {
                    out.push('#');
                }
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| normalize(v, markers)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v, markers))).collect()),
        other => other.clone(),
    }
}

struct Probe<'a> {
    app: &'a TestApp,
    caller: &'a TestAccount,
    a: &'a World,
    b: &'a World,
    phantom: &'a World,
    calls: usize,
}

impl Probe<'_> {
    /// Sends B's request naming A's resources and the same naming phantoms; checks the answer.
    async fn check(
        &mut self,
        method: &Method,
        real: (String, Option<Value>),
        twin: (String, Option<Value>),
        expected: u16,
    ) {
        let label = format!("{method} {}{}", real.0, real.1.as_ref().map(|b| format!(" {b}")).unwrap_or_default());
        let got = send(self.app, self.caller, method, &real.0, &real.1).await;
        let unknown = send(self.app, self.caller, method, &twin.0, &twin.1).await;
        self.calls += 1;
        assert_eq!(got.status.as_u16(), expected, "{label}: {}", got.text);
        if expected >= 400 {
            got.error(expected);
        }
        assert_eq!(got.status, unknown.status, "{label}: a foreign id and an unknown one get different codes");
        let markers = [self.a.marker.as_str(), self.phantom.marker.as_str()];
        assert_eq!(
            normalize(&got.body, &markers),
            normalize(&unknown.body, &markers),
            "{label}: a foreign id is answered differently from an unknown one:\n{}\n{}",
            got.text,
            unknown.text
        );
        if !label.contains(&self.a.marker) {
            assert!(!got.text.contains(&self.a.marker), "{label} shows A's data: {}", got.text);
        }
    }

    async fn case(&mut self, case: &Case) {
        let (a, b, p) = (self.a, self.b, self.phantom);
        let template = case.template;
        let ids: Vec<(&str, &str)> =
            params(template).into_iter().filter_map(|x| param_key(template, x).map(|k| (x, k))).collect();
        let before = self.calls;
        let mut used = BTreeSet::new();
        for variant in &case.variants {
            let body_b = variant.body.map(|f| f(b));
            let query_b = (variant.query)(b);
            // The path: every mix of A's and B's ids that names at least one of A's.
            for mask in 1..(1u32 << ids.len()) {
                let mixed = |foreign: &World| {
                    let path = fill(template, |param| match ids.iter().position(|(x, _)| *x == param) {
                        Some(i) if mask & (1 << i) != 0 => foreign.id(ids[i].1).to_string(),
                        Some(i) => b.id(ids[i].1).to_string(),
                        None => fixed_param(param).to_owned(),
                    });
                    (format!("{path}{query_b}"), body_b.clone())
                };
                self.check(&case.method, mixed(a), mixed(p), 404).await;
            }
            // The query and body: B's own path, one of B's references replaced by A's.
            let path_b = own_path(template, b);
            for key in b.keys() {
                let request = |w: &World| (format!("{path_b}{}", (variant.query)(w)), variant.body.map(|f| f(w)));
                let real = request(&b.with(a, key));
                if real == (format!("{path_b}{query_b}"), body_b.clone()) {
                    continue;
                }
                used.insert(key);
                let expected = case.refs.iter().find(|(k, _)| *k == key).map(|(_, s)| *s);
                let expected =
                    expected.unwrap_or_else(|| panic!("{} {template} carries {key}: list it in refs", case.method));
                self.check(&case.method, real, request(&b.with(p, key)), expected).await;
            }
        }
        let listed: BTreeSet<&str> = case.refs.iter().map(|(k, _)| *k).collect();
        assert_eq!(used, listed, "{} {template}: refs lists keys its requests do not carry", case.method);
        let sent = self.calls - before;
        match case.no_foreign_id {
            Some(_) => assert_eq!(sent, 0, "{} {template} takes foreign ids after all", case.method),
            // A GET without ids is one of the views, checked for A's data below.
            None if case.method != Method::GET => {
                assert!(sent > 0, "{} {template} sends no foreign id: give it one or say why not", case.method)
            }
            None => {}
        }
    }
}

/// What an account sees: every GET of the table with its own ids, and its account.
async fn views(app: &TestApp, acct: &TestAccount, w: &World) -> Vec<(String, Value)> {
    let mut seen = Vec::new();
    let mut paths = vec!["/v1.0/account".to_owned()];
    for case in cases::cases().iter().filter(|c| c.method == Method::GET) {
        for variant in &case.variants {
            paths.push(format!("{}{}", own_path(case.template, w), (variant.query)(w)));
        }
    }
    for path in paths {
        let r = app.get(acct, &path).await;
        assert!(r.status.is_success(), "the owner's GET {path}: {} {}", r.status, r.text);
        seen.push((path, r.body));
    }
    seen
}

fn assert_unchanged(who: &str, before: &[(String, Value)], after: &[(String, Value)]) {
    for ((path, old), (_, new)) in before.iter().zip(after) {
        assert_eq!(old, new, "{who}'s GET {path} changed");
    }
}

/// Idempotency keys belong to the account: B reusing A's key gets its own answer, not A's.
async fn same_idempotency_key(app: &TestApp, owner: &TestAccount, caller: &TestAccount) {
    let key = format!("shared-{}", kindling_domain::secret::new_xid());
    let mut answers = Vec::new();
    for (acct, name) in [(owner, "A's list"), (caller, "B's list")] {
        let r = app
            .client
            .post(format!("{}/v1.0/member_lists", app.base))
            .header("X-Auth-Token", &acct.token)
            .header("Idempotency-Key", &key)
            .body(serde_json::json!({"member_list": {"name": name}}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        answers.push(r.json::<Value>().await.unwrap()["member_list"]["name"].clone());
    }
    assert_eq!(answers, ["A's list", "B's list"]);
}

/// Each request that carried a foreign id succeeds with B's own ids (writes first, link
/// removals last), so its refusal above was for the foreign id alone.
async fn controls(app: &TestApp, caller: &TestAccount, b: &World, cases: &[Case]) {
    let mut ordered: Vec<&Case> = cases.iter().filter(|c| !c.refs.is_empty()).collect();
    ordered.sort_by_key(|c| c.method == Method::DELETE);
    for case in ordered {
        for variant in &case.variants {
            let path = format!("{}{}", own_path(case.template, b), (variant.query)(b));
            let r = send(app, caller, &case.method, &path, &variant.body.map(|f| f(b))).await;
            assert!(r.status.is_success(), "control {} {path} with B's own ids: {} {}", case.method, r.status, r.text);
        }
    }
}

async fn every_route_is_isolated(app: TestApp) {
    let (owner, caller) = (app.account().await, app.account().await);
    let a = world::build(&app, &owner).await;
    let b = world::build(&app, &caller).await;
    let phantom = World::phantom(&a);
    let cases = cases::cases();

    let served = served(&app).await;
    let covered: BTreeSet<(String, String)> =
        cases.iter().map(|c| (c.method.to_string(), c.template.to_owned())).collect();
    assert_eq!(covered.len(), cases.len(), "two cases for one operation");
    let missing: Vec<_> = served.difference(&covered).collect();
    assert!(missing.is_empty(), "operations without an isolation case (add them to cases.rs): {missing:?}");
    let stale: Vec<_> = covered.difference(&served).collect();
    assert!(stale.is_empty(), "cases for operations the router does not serve: {stale:?}");

    same_idempotency_key(&app, &owner, &caller).await;
    let a_before = views(&app, &owner, &a).await;
    assert!(a_before.iter().any(|(_, body)| body.to_string().contains(&a.marker)), "A's views show its marker");
    let b_before = views(&app, &caller, &b).await;
    for (path, body) in &b_before {
        assert!(!body.to_string().contains(&a.marker), "B's GET {path} shows A's data: {body}");
    }
    // Both accounts have a store numbered 42; B's campaign lists only B's.
    let campaign = app.get(&caller, &format!("/v1.0/campaigns/{}", b.id("campaign"))).await;
    assert_eq!(campaign.body["campaign"]["eligible_store_ids"], serde_json::json!([b.id("store")]));

    let mut probe = Probe { app: &app, caller: &caller, a: &a, b: &b, phantom: &phantom, calls: 0 };
    for case in &cases {
        probe.case(case).await;
    }
    assert!(probe.calls > 200, "only {} foreign calls", probe.calls);
    eprintln!("isolation: {} operations, {} foreign calls (each with its phantom twin)", served.len(), probe.calls);

    assert_unchanged("A", &a_before, &views(&app, &owner, &a).await);
    assert_unchanged("B", &b_before, &views(&app, &caller, &b).await);
    rows::no_cross_account_rows(&app).await;
    controls(&app, &caller, &b, &cases).await;
    rows::no_cross_account_rows(&app).await;
}

/// An offer's `required_item_set_id` and `redemption_item_set_id` were stored unchecked, so an
/// offer could point at another account's item set (or at none).
async fn offer_item_set_ids_name_the_accounts_sets(app: TestApp) {
    let (owner, caller) = (app.account().await, app.account().await);
    let theirs = app.post(&owner, "/v1.0/item_sets", serde_json::json!({"item_set": {"name": "Theirs"}})).await;
    let theirs = theirs.body["item_set"]["id"].as_i64().unwrap();
    let mine = app.post(&caller, "/v1.0/item_sets", serde_json::json!({"item_set": {"name": "Mine"}})).await;
    let mine = mine.body["item_set"]["id"].as_i64().unwrap();
    for field in ["required_item_set_id", "redemption_item_set_id"] {
        for id in [theirs, 8_000_000_000_000] {
            let refused =
                app.post(&caller, "/v1.0/offers", serde_json::json!({"offer": {"name": "O", field: id}})).await;
            refused.error(400);
            assert_eq!(refused.body["errors"][field], format!("does not exist: {id}"));
        }
        let created = app.post(&caller, "/v1.0/offers", serde_json::json!({"offer": {"name": "O", field: mine}})).await;
        created.spec("post", "/v1.0/offers");
        let id = created.body["offer"]["id"].as_i64().unwrap();
        let path = format!("/v1.0/offers/{id}");
        app.put(&caller, &path, serde_json::json!({"offer": {field: theirs}})).await.error(400);
        assert_eq!(app.get(&caller, &path).await.body["offer"][field], mine, "nothing written");
    }
}
