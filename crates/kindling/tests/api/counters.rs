//! The Counters and Events tags: plain CRUD of `counter` {id, name: integer} and `event`
//! {id, name: string}, each way to get it wrong (nothing written), other accounts' records
//! and paging.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

backend_tests!(
    counter_round_trip,
    counter_names_are_integers,
    counter_bad_input_writes_nothing,
    event_round_trip,
    event_bad_input_writes_nothing,
    other_accounts_counters_and_events_are_not_found,
    counters_and_events_page,
);

/// The two resources' names, and a valid and another valid name of each.
struct Kind {
    plural: &'static str,
    singular: &'static str,
    first: Value,
    second: Value,
}

const COUNTERS: fn() -> Kind = || Kind { plural: "counters", singular: "counter", first: json!(5), second: json!(-12) };
const EVENTS: fn() -> Kind = || Kind {
    plural: "events",
    singular: "event",
    first: json!("Store opening"),
    second: json!("Grand réouverture 😀"),
};

async fn create(app: &TestApp, acct: &TestAccount, kind: &Kind, name: Value) -> i64 {
    let path = format!("/v1.0/{}", kind.plural);
    let created = app.post(acct, &path, json!({ kind.singular: {"name": name} })).await;
    created.spec("post", &path);
    assert_eq!(created.body[kind.singular]["name"], name);
    created.body[kind.singular]["id"].as_i64().unwrap()
}

async fn total(app: &TestApp, acct: &TestAccount, kind: &Kind) -> i64 {
    let path = format!("/v1.0/{}", kind.plural);
    let listed = app.get(acct, &path).await;
    listed.spec("get", &path);
    listed.body["total_entries"].as_i64().unwrap()
}

/// POST 201 with `Location`, GET, partial PUT, list, DELETE 200 `{}`, then 404s.
async fn round_trip(app: &TestApp, kind: Kind) {
    let acct = app.account().await;
    let (plural, singular) = (kind.plural, kind.singular);
    let collection = format!("/v1.0/{plural}");
    let item = format!("/v1.0/{plural}/{{{singular}_id}}");
    let empty = app.get(&acct, &format!("{collection}.json")).await;
    empty.spec("get", &collection);
    assert_eq!(empty.body, json!({"page": 1, "per_page": 50, "total_entries": 0, "total_pages": 0, plural: []}));

    let created = app.post(&acct, &format!("{collection}.json"), json!({ singular: {"name": kind.first} })).await;
    created.spec("post", &collection);
    let id = created.body[singular]["id"].as_i64().unwrap();
    assert_eq!(created.body, json!({ singular: {"id": id, "name": kind.first}, "errors": {} }));
    assert_eq!(created.headers["location"], format!("{collection}/{id}").as_str());

    let path = format!("{collection}/{id}");
    let shown = app.get(&acct, &format!("{path}.json")).await;
    shown.spec("get", &item);
    assert_eq!(shown.body, created.body);

    let renamed = app.put(&acct, &path, json!({ singular: {"name": kind.second} })).await;
    renamed.spec("put", &item);
    assert_eq!(renamed.body, json!({ singular: {"id": id, "name": kind.second}, "errors": {} }));
    // A PUT without a name (or with null) keeps it: every PUT is partial.
    for body in [json!({ singular: {} }), json!({ singular: {"name": null} }), json!({ singular: {"other": 1} })] {
        let kept = app.put(&acct, &path, body).await;
        kept.spec("put", &item);
        assert_eq!(kept.body, renamed.body);
    }
    let listed = app.get(&acct, &collection).await;
    listed.spec("get", &collection);
    assert_eq!(
        listed.body,
        json!({"page": 1, "per_page": 50, "total_entries": 1, "total_pages": 1,
               plural: [{ singular: {"id": id, "name": kind.second} }]})
    );

    let deleted = app.delete(&acct, &format!("{path}.json")).await;
    deleted.spec("delete", &item);
    assert_eq!(deleted.body, json!({}));
    let gone = format!("{singular} not found");
    assert_eq!(app.get(&acct, &path).await.error(404), gone);
    assert_eq!(app.put(&acct, &path, json!({ singular: {"name": kind.first} })).await.error(404), gone);
    assert_eq!(app.delete(&acct, &path).await.error(404), gone);
    assert_eq!(total(app, &acct, &kind).await, 0);
}

async fn counter_round_trip(app: TestApp) {
    round_trip(&app, COUNTERS()).await;
}

async fn event_round_trip(app: TestApp) {
    round_trip(&app, EVENTS()).await;
}

/// Any integer is a counter's name, stored and shown as a JSON number.
async fn counter_names_are_integers(app: TestApp) {
    let acct = app.account().await;
    let kind = COUNTERS();
    for name in [json!(0), json!(-1), json!(i64::MAX), json!(i64::MIN), json!(2_147_483_648_i64)] {
        let id = create(&app, &acct, &kind, name.clone()).await;
        let shown = app.get(&acct, &format!("/v1.0/counters/{id}")).await;
        shown.spec("get", "/v1.0/counters/{counter_id}");
        assert_eq!(shown.body["counter"], json!({"id": id, "name": name}));
    }
    // Two counters may share a name.
    create(&app, &acct, &kind, json!(0)).await;
    assert_eq!(total(&app, &acct, &kind).await, 6);
}

/// Malformed bodies, wrong types, missing names, huge payloads and unknown ids: a JSON 4xx
/// each, and nothing written (the stored counter keeps its name).
async fn counter_bad_input_writes_nothing(app: TestApp) {
    let acct = app.account().await;
    let kind = COUNTERS();
    let id = create(&app, &acct, &kind, json!(3)).await;
    let path = format!("/v1.0/counters/{id}");
    // The spec types the name as an integer (so does the generated client): a numeric
    // string, a fraction, a boolean or an object is a wrong type, named by its path.
    for name in [json!("5"), json!(5.5), json!(true), json!({}), json!([5]), json!(1e20)] {
        for (method, at) in [(Method::POST, "/v1.0/counters"), (Method::PUT, path.as_str())] {
            let body = json!({"counter": {"name": name}}).to_string();
            let refused = app.raw(Some(&acct.token), method.clone(), at, Some(body)).await;
            let message = refused.error(400);
            assert!(message.starts_with("counter.name: invalid type"), "{method} {name} -> {message}");
        }
    }
    let as_text = app.post(&acct, "/v1.0/counters", json!({"counter": {"name": "5"}})).await;
    assert_eq!(as_text.error(400), r#"counter.name: invalid type: string "5", expected i64"#);
    for body in [json!({"counter": {}}), json!({"counter": {"name": null}})] {
        let refused = app.post(&acct, "/v1.0/counters", body).await;
        assert_eq!(refused.error(400), "name can't be blank");
        assert_eq!(refused.body["errors"], json!({"name": "can't be blank"}));
        if let Some(spec) = crate::spec::spec() {
            spec.check_schema("bad_request_object", &refused.body);
        }
    }
    shapes_and_sizes(&app, &acct, "counter", &path).await;
    unknown_ids(&app, &acct, "counter").await;
    assert_eq!(app.get(&acct, &path).await.body["counter"], json!({"id": id, "name": 3}), "nothing written");
    assert_eq!(total(&app, &acct, &kind).await, 1, "nothing written");
}

async fn event_bad_input_writes_nothing(app: TestApp) {
    let acct = app.account().await;
    let kind = EVENTS();
    let id = create(&app, &acct, &kind, json!("Launch")).await;
    let path = format!("/v1.0/events/{id}");
    let field_errors: Vec<(Value, &str)> = vec![
        (json!({}), "can't be blank"),
        (json!({"name": null}), "can't be blank"),
        (json!({"name": ""}), "can't be blank"),
        (json!({"name": "  "}), "can't be blank"),
        (json!({"name": "x".repeat(256)}), "is too long (maximum is 255 characters)"),
    ];
    for (event, message) in field_errors {
        let refused = app.post(&acct, "/v1.0/events", json!({ "event": event })).await;
        assert_eq!(refused.error(400), format!("name {message}"), "{event}");
        assert_eq!(refused.body["errors"], json!({ "name": message }), "{event}");
        // On PUT an absent or null name keeps the stored one; a blank or long one is refused.
        if event.get("name").is_some_and(|n| !n.is_null()) {
            let refused = app.put(&acct, &path, json!({ "event": event })).await;
            assert_eq!(refused.body["errors"], json!({ "name": message }), "{event}");
        }
    }
    let longest = "ü€😀".repeat(85);
    assert!(create(&app, &acct, &kind, json!(longest)).await > id, "255 characters fit");
    for name in [json!(5), json!(true), json!(["a"]), json!({"a": 1})] {
        let refused = app.post(&acct, "/v1.0/events", json!({"event": {"name": name}})).await;
        let message = refused.error(400);
        assert!(message.starts_with("event.name: invalid type"), "{name} -> {message}");
    }
    shapes_and_sizes(&app, &acct, "event", &path).await;
    unknown_ids(&app, &acct, "event").await;
    assert_eq!(app.get(&acct, &path).await.body["event"], json!({"id": id, "name": "Launch"}), "nothing written");
    assert_eq!(total(&app, &acct, &kind).await, 2);
}

/// Bodies that are not `{"<singular>": {...}}` JSON, on create and update.
async fn shapes_and_sizes(app: &TestApp, acct: &TestAccount, singular: &str, item: &str) {
    let collection = format!("/v1.0/{singular}s");
    for (method, path) in [(Method::POST, collection.as_str()), (Method::PUT, item)] {
        let send = |body: String| app.raw(Some(&acct.token), method.clone(), path, Some(body));
        assert!(send(format!("{{\"{singular}\": {{\"name\": ")).await.error(400).starts_with("malformed JSON"));
        assert_eq!(send(String::new()).await.error(400), format!("{singular} is required"));
        assert_eq!(send(json!({ singular: null }).to_string()).await.error(400), format!("{singular} is required"));
        assert_eq!(send(json!({ singular: 5 }).to_string()).await.error(400), format!("{singular} must be an object"));
        assert!(send(json!([1]).to_string()).await.error(400).contains(singular));
        let nul = json!({ singular: {"name": "a\u{0}b"} }).to_string();
        assert!(send(nul).await.error(400).contains("NUL"));
        let huge = json!({ singular: {"name": 1, "padding": "x".repeat(2 * 1024 * 1024)} }).to_string();
        assert_eq!(send(huge).await.error(413), "request body too large");
    }
}

/// Ids that name nothing: unknown, beyond any sequence, or not numbers.
async fn unknown_ids(app: &TestApp, acct: &TestAccount, singular: &str) {
    let body = match singular {
        "counter" => json!({"counter": {"name": 1}}),
        _ => json!({"event": {"name": "x"}}),
    };
    for id in ["0", "8000000000000", "99999999999999999999", "abc", "-1"] {
        let path = format!("/v1.0/{singular}s/{id}");
        let gone = format!("{singular} not found");
        for r in [app.get(acct, &path).await, app.put(acct, &path, body.clone()).await, app.delete(acct, &path).await] {
            let message = r.error(404);
            assert!(message == gone || message.starts_with("Not found"), "{path}: {message}");
        }
    }
}

/// Another account's counter or event is a 404 for every operation, and stays as it was.
async fn other_accounts_counters_and_events_are_not_found(app: TestApp) {
    let (owner, caller) = (app.account().await, app.account().await);
    for (kind, name) in [(COUNTERS(), json!(42)), (EVENTS(), json!("Theirs"))] {
        let id = create(&app, &owner, &kind, name.clone()).await;
        let path = format!("/v1.0/{}/{id}", kind.plural);
        let gone = format!("{} not found", kind.singular);
        assert_eq!(app.get(&caller, &path).await.error(404), gone);
        assert_eq!(app.put(&caller, &path, json!({ kind.singular: {"name": kind.second} })).await.error(404), gone);
        assert_eq!(app.delete(&caller, &path).await.error(404), gone);
        assert_eq!(total(&app, &caller, &kind).await, 0, "the caller lists none of them");
        let kept = app.get(&owner, &path).await;
        assert_eq!(kept.body[kind.singular], json!({"id": id, "name": name}), "the owner's record is untouched");
        assert_eq!(total(&app, &owner, &kind).await, 1);
    }
}

async fn counters_and_events_page(app: TestApp) {
    let acct = app.account().await;
    for (kind, names) in
        [(COUNTERS(), [json!(1), json!(2), json!(3)]), (EVENTS(), [json!("a"), json!("b"), json!("c")])]
    {
        let mut ids = Vec::new();
        for name in names {
            ids.push(create(&app, &acct, &kind, name).await);
        }
        let collection = format!("/v1.0/{}", kind.plural);
        let page = app.get(&acct, &format!("{collection}?per_page=2&page=2")).await;
        page.spec("get", &collection);
        assert_eq!(
            (&page.body["page"], &page.body["per_page"], &page.body["total_entries"], &page.body["total_pages"]),
            (&json!(2), &json!(2), &json!(3), &json!(2))
        );
        let listed: Vec<i64> = page.body[kind.plural]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[kind.singular]["id"].as_i64().unwrap())
            .collect();
        assert_eq!(listed, [ids[2]]);
        let first = app.get(&acct, &format!("{collection}?per_page=2")).await;
        assert_eq!(first.body[kind.plural][0][kind.singular]["id"], ids[0], "id order");
        let beyond = app.get(&acct, &format!("{collection}?page=9")).await;
        assert_eq!(beyond.body[kind.plural], json!([]));
        for bad in ["per_page=0", "page=-1", "per_page=abc"] {
            app.get(&acct, &format!("{collection}?{bad}")).await.error(400);
        }
    }
}
