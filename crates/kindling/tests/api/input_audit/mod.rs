//! Input audit against the spec: every request schema of the Sparkfly spec that the router
//! serves is walked property by property, and each property is sent with spec-valid values
//! of unusual kinds (`values`) on top of a valid request built from a seeded world (the
//! isolation test's `world`, with its `cases` as baseline bodies). The guide's numeric query
//! strings get the same treatment. No answer may be a 5xx, no 4xx may refuse a value of the
//! spec's own type ("a spec string accepts any string; business rules refuse values, never
//! types", docs/API-DESIGN.md), and a 2xx with the spec's success code must match its schema.

mod values;

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp, TestResponse};
use crate::isolation::{cases, own_path, world};
use crate::spec::{spec, InputOperation, Spec};
use reqwest::Method;
use serde_json::{json, Value};
use values::{probes, show, Probe};

backend_tests!(every_request_schema_takes_its_types, campaign_update_keeps_its_offer_and_channel);

/// Phrases of a refusal for the value's type rather than for the value.
const TYPE_PHRASES: &[&str] = &[
    "expected",
    "invalid type",
    "must be a string",
    "must be an integer",
    "must be a number",
    "must be a boolean",
    "must be true or false",
    "must be an object",
    "must be an array",
    // A closed list of values for a string the spec leaves open.
    "is not included in the list",
    "must be one of",
];

/// Spec strings whose values a business rule constrains (docs/API-DESIGN.md, "Spec types and
/// business rules"): (path prefix, property, rule). Their format or list refusals are values'.
const VALUE_RULES: &[(&str, &str, &str)] = &[
    ("/v1.0/offers", "status", "a state machine: pending, approved, suspended, archived"),
    ("/v1.0/campaigns", "start_display_at", "answered as a date-time, so a non-empty value must be one"),
    ("/v1.0/members/{member_id}/offer_states", "activates_at", "an offer state's window, answered as a date-time"),
    ("/v1.0/members/{member_id}/offer_states", "expires_at", "an offer state's window, answered as a date-time"),
    // The isolation case's query carries these, so they also get the ids' numeric strings.
    ("/v1.0/reports/offer_activity", "from_reported_datetime", "the spec's format: date-time"),
    ("/v1.0/reports/offer_activity", "to_reported_datetime", "the spec's format: date-time"),
    ("/v1.0/reports/offer_activity", "type", "the spec's enum: redeem, expire, issue, void, suspend, unsuspend"),
];

/// Properties whose empty or null value is answered with a documented fallback instead:
/// (path prefix, property, fallback).
const FALLBACKS: &[(&str, &str, &str)] = &[
    ("/v1.0/members/{member_id}/offer_states", "activates_at", "a state without its own date shows the offer's"),
    ("/v1.0/members/{member_id}/offer_states", "expires_at", "a state without its own date shows the offer's"),
];

/// Strings with a documented cap below 255 characters (docs/API-DESIGN.md).
const SHORTER_CAPS: &[&str] = &[
    "code_count",
    "stop_display_at",
    "security",
    "description_template_id",
    "landing_page_image_template_id",
    "terms_and_conditions_template_id",
    "phone",
];

/// Creates that refuse a second one: the resource is removed (DELETE on the same path)
/// before each request, so every probe reaches the validation.
const ONE_PER_OWNER: &[&str] = &["/v1.0/offers/{offer_id}/passbook_configuration"];

/// Properties a create needs (unique or non-blank): a fresh value in every baseline body.
const FRESH: &[&str] = &["name", "identifier", "code", "channel_name"];

struct Audit<'a> {
    app: &'a TestApp,
    acct: &'a TestAccount,
    spec: &'a Spec,
    fresh: usize,
    sent: usize,
    failures: Vec<String>,
}

impl Audit<'_> {
    /// A valid body for the operation: the isolation case's body (or an empty wrapper), with
    /// fresh values for what a create needs.
    fn baseline(&mut self, op: &InputOperation, case_body: Option<Value>) -> Option<Value> {
        let schema = self.spec.resolve(op.body.as_ref()?);
        let mut body = case_body.unwrap_or_else(|| json!({}));
        for (key, wrapper) in schema["properties"].as_object()? {
            let wrapper = self.spec.resolve(wrapper);
            let Some(fields) = wrapper.get("properties").and_then(Value::as_object) else { continue };
            let inner = body.as_object_mut().unwrap().entry(key.clone()).or_insert_with(|| json!({}));
            for name in FRESH.iter().filter(|n| fields.contains_key(**n) && op.method == "post") {
                self.fresh += 1;
                // A counter's `name` is an integer in the spec.
                inner[*name] = match self.spec.resolve(&fields[*name])["type"].as_str() {
                    Some("integer") => json!(self.fresh),
                    _ => json!(format!("audit {} {}", name, self.fresh)),
                };
            }
        }
        Some(body)
    }

    async fn send(&mut self, op: &InputOperation, path: &str, body: Option<Value>) -> TestResponse {
        self.sent += 1;
        if op.method == "post" && ONE_PER_OWNER.contains(&op.template.as_str()) {
            let bare = path.split('?').next().unwrap();
            self.app.raw(Some(&self.acct.token), Method::DELETE, bare, None).await;
        }
        let method = Method::from_bytes(op.method.to_ascii_uppercase().as_bytes()).unwrap();
        self.app.raw(Some(&self.acct.token), method, path, body.map(|b| b.to_string())).await
    }

    /// Checks one answer; `probe` names the property and value sent (None: the baseline).
    fn check(&mut self, op: &InputOperation, label: &str, probe: Option<&Probe>, r: &TestResponse) {
        let at = format!("{} {} {label}", op.method.to_ascii_uppercase(), op.template);
        let status = r.status.as_u16();
        if r.status.is_server_error() {
            self.failures.push(format!("{at}: {status} {}", r.text));
            return;
        }
        if r.status.is_success() {
            let codes = match self.spec.has_operation(&op.method, &op.template) {
                true => self.spec.success_codes(&op.method, &op.template),
                false => return,
            };
            if !codes.contains(&status) {
                self.failures.push(format!("{at}: {status}, the spec says {codes:?}"));
            }
            if codes == [status] {
                for problem in self.spec.response_problems(&op.method, &op.template, status, &r.body) {
                    self.failures.push(format!("{at}: answer does not match the spec: {problem}"));
                }
            }
            // An accepted scalar is stored and answered as given (times as the same instant,
            // in the documented UTC form; lists and annotations have their own documented
            // answers; a null in a PUT keeps the stored value, docs/API-DESIGN.md "Requests").
            let echoed = |p: &&Probe| {
                let owner = p.path[0] == "item_set" && p.path.get(1).is_some_and(|k| k.ends_with("_id"));
                let null = p.value.is_null() && op.method == "post";
                (p.value.is_string() || p.value.is_number() || p.value.is_boolean() || null)
                    && p.path.len() > 1
                    && !p.date_time
                    && !owner
                    && !FALLBACKS.iter().any(|(prefix, name, _)| {
                        op.template.starts_with(prefix) && p.path.last().is_some_and(|k| k == name)
                    })
            };
            if let Some(probe) = probe.filter(echoed) {
                let mut shown = &r.body;
                for key in &probe.path {
                    shown = &shown[key.as_str()];
                }
                if !shown.is_null() && *shown != probe.value {
                    self.failures.push(format!("{at}: answered as {}", show(shown)));
                }
            }
            return;
        }
        let Some(probe) = probe else {
            self.failures.push(format!("{at}: the baseline request is refused: {status} {}", r.text));
            return;
        };
        let mut message = r.body["error"].as_str().unwrap_or(&r.text).to_owned();
        for text in r.body["errors"].as_object().into_iter().flat_map(|e| e.values()) {
            message.push_str(&format!("; {}", text.as_str().unwrap_or_default()));
        }
        let lower = message.to_lowercase();
        let type_refusal = TYPE_PHRASES.iter().any(|p| lower.contains(p))
            || (!probe.date_time && probe.value.is_string() && lower.contains("iso 8601"));
        let property = probe.path.last().map(String::as_str).unwrap_or_default();
        let listed = |(prefix, p): (&str, &str)| op.template.starts_with(prefix) && p == property;
        let excused = VALUE_RULES.iter().any(|(prefix, p, _)| listed((prefix, p)));
        if type_refusal && !excused {
            self.failures.push(format!("{at}: refused for its type: {status} {message}"));
        }
        // A non-blank string within the documented 255-character cap is too long or blank
        // only for a property with a shorter documented cap.
        let in_cap = probe.value.as_str().is_some_and(|s| s.chars().count() == values::LONG);
        let length = lower.contains("too long") || lower.contains("blank");
        if in_cap && length && !SHORTER_CAPS.contains(&property) && !excused {
            self.failures.push(format!("{at}: refused within the 255-character cap: {status} {message}"));
        }
    }

    async fn operation(&mut self, op: &InputOperation, path: &str, case: Option<&cases::Case>, w: &world::World) {
        let variant = case.map(|c| &c.variants[0]);
        let case_body = variant.and_then(|v| v.body.map(|f| f(w)));
        let query = variant.map(|v| (v.query)(w)).unwrap_or_default();
        let full = format!("{path}{query}");
        if let Some(base) = self.baseline(op, case_body.clone()) {
            let r = self.send(op, &full, Some(base)).await;
            self.check(op, "baseline", None, &r);
            for probe in probes(self.spec, op.body.as_ref().unwrap()) {
                let mut body = self.baseline(op, case_body.clone()).unwrap();
                set(&mut body, &probe.path, probe.value.clone());
                let r = self.send(op, &full, Some(body)).await;
                self.check(op, &format!("{}={}", probe.path.join("."), show(&probe.value)), Some(&probe), &r);
            }
        }
        // The guide's query strings (ids as numeric strings) and the spec's query parameters.
        let mut pairs: Vec<(String, Vec<Value>)> =
            serde_urlencoded::from_str::<Vec<(String, String)>>(query.trim_start_matches('?'))
                .unwrap()
                .into_iter()
                .map(|(k, _)| (k, numeric_strings()))
                .collect();
        if op.method == "get" {
            // The guide pages every list with `page` and `per_page`.
            pairs.extend(["page", "per_page"].map(|k| (k.to_owned(), numeric_strings())));
        }
        for (name, schema) in &op.query {
            // A URL carries no 10 000-character value (servers cap the request line).
            let sent = values::values(self.spec, schema).into_iter();
            pairs.push((name.clone(), sent.filter(|v| v.as_str().is_none_or(|s| s.len() < 4096)).collect()));
        }
        let original: Vec<(String, String)> = serde_urlencoded::from_str(query.trim_start_matches('?')).unwrap();
        for (name, sent) in pairs {
            for value in sent {
                let text = match &value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let mut q: Vec<(String, String)> = original.iter().filter(|(k, _)| *k != name).cloned().collect();
                q.push((name.clone(), text));
                let url = format!("{path}?{}", serde_urlencoded::to_string(&q).unwrap());
                let probe = Probe { path: vec![name.clone()], value: value.clone(), date_time: false };
                let body = self.baseline(op, case_body.clone());
                let r = self.send(op, &url, body).await;
                self.check(op, &format!("?{name}={}", show(&value)), Some(&probe), &r);
            }
        }
        // A link set's probes replace the set (`[]` empties it): the baseline restores it.
        if is_link_set(self.spec, op) && op.method != "delete" {
            let base = self.baseline(op, case_body);
            let r = self.send(op, &full, base).await;
            self.check(op, "baseline again", None, &r);
        }
    }
}

/// Integers as a query string carries them, unusual ones included.
fn numeric_strings() -> Vec<Value> {
    vec![json!("0"), json!("-1"), json!(i64::MAX.to_string()), json!(" 7"), json!("007")]
}

/// Whether the body is only a list of ids (`{"offer": {"channel_ids": [...]}}`).
fn is_link_set(spec: &Spec, op: &InputOperation) -> bool {
    let Some(schema) = op.body.as_ref() else { return false };
    let wrappers = spec.resolve(schema)["properties"].as_object().cloned().unwrap_or_default();
    wrappers.values().all(|w| {
        let fields = spec.resolve(w)["properties"].as_object().cloned().unwrap_or_default();
        !fields.is_empty() && fields.keys().all(|k| k.ends_with("_ids"))
    })
}

/// Sets `value` at `path` in `body`, creating objects on the way.
fn set(body: &mut Value, path: &[String], value: Value) {
    let mut at = body;
    for key in &path[..path.len() - 1] {
        if !at[key.as_str()].is_object() {
            at[key.as_str()] = json!({});
        }
        at = &mut at[key.as_str()];
    }
    at[path.last().unwrap().as_str()] = value;
}

/// Whether the router serves the operation (the spec's templates are the router's); routing
/// answers 405 before any extractor runs.
async fn served(app: &TestApp, op: &InputOperation, path: &str) -> bool {
    let method = Method::from_bytes(op.method.to_ascii_uppercase().as_bytes()).unwrap();
    app.raw(None, method, path, None).await.status != 405
}

async fn every_request_schema_takes_its_types(app: TestApp) {
    let Some(spec) = spec() else {
        eprintln!("SKIPPED: input audit (the spec in ../shared/spec is absent)");
        return;
    };
    let acct = app.account().await;
    let w = world::build(&app, &acct).await;
    let cases = cases::cases();
    let mut ops = spec.input_operations();
    ops.retain(|op| op.method != "get");
    // Reads take query strings only: every GET the router serves, with the spec's parameters.
    for case in cases.iter().filter(|c| c.method == Method::GET) {
        let declared = spec.input_operations().into_iter().find(|o| o.method == "get" && o.template == case.template);
        let query = declared.map(|o| o.query).unwrap_or_default();
        ops.push(InputOperation { method: "get".into(), template: case.template.into(), body: None, query });
    }
    // Reads first, then creates, updates, link sets and removals, so the world stays linked
    // as long as possible (replacing an offer's channels replaces its campaign; a member
    // deletion request voids the member's credentials, so it counts as a removal).
    ops.sort_by_key(|op| {
        let method = ["get", "post", "put", "patch", "delete"].iter().position(|m| *m == op.method);
        let removal = op.method == "delete" || op.template.ends_with("/delete_request");
        (removal, is_link_set(spec, op), method)
    });
    let mut audit = Audit { app: &app, acct: &acct, spec, fresh: 0, sent: 0, failures: Vec::new() };
    let mut walked = Vec::new();
    let routes = kindling_api::route_paths();
    for op in ops.iter().filter(|op| routes.contains(&op.template.as_str())) {
        let path = own_path(&op.template, &w);
        if !served(&app, op, &path).await {
            continue;
        }
        let case =
            cases.iter().find(|c| c.method.as_str().eq_ignore_ascii_case(&op.method) && c.template == op.template);
        audit.operation(op, &path, case, &w).await;
        walked.push(format!("{} {}", op.method, op.template));
    }
    assert!(walked.len() > 40, "only {} operations walked: {walked:?}", walked.len());
    eprintln!("input audit: {} operations, {} requests", walked.len(), audit.sent);
    assert!(
        audit.failures.is_empty(),
        "{} spec-valid inputs mishandled:\n  {}",
        audit.failures.len(),
        audit.failures.join("\n  ")
    );
}

/// Found by the audit: `PUT /v1.0/campaigns/{id}` answered 200 to a new `channel_name` or
/// `offer_id` and kept the old ones. A campaign is one offer's link to one channel, so a PUT
/// may repeat them but a change is refused, and nothing is written.
async fn campaign_update_keeps_its_offer_and_channel(app: TestApp) {
    let acct = app.account().await;
    let w = world::build(&app, &acct).await;
    let path = format!("/v1.0/campaigns/{}", w.id("campaign"));
    let before = app.get(&acct, &path).await.body["campaign"].clone();
    let channel = before["channel_name"].as_str().unwrap().to_owned();
    for (key, value) in [("channel_name", json!("Elsewhere")), ("channel_name", json!("")), ("offer_id", json!(0))] {
        let moved = app.put(&acct, &path, json!({"campaign": {key: value, "funding_source": "moved"}})).await;
        moved.error(400);
        assert!(moved.body["errors"][key].as_str().unwrap().starts_with("cannot change"), "{}", moved.text);
        assert_eq!(app.get(&acct, &path).await.body["campaign"], before, "nothing written");
    }
    let same = json!({"campaign": {"offer_id": w.id("offer"), "channel_name": channel, "funding_source": "kept"}});
    let updated = app.put(&acct, &path, same).await;
    updated.spec("put", "/v1.0/campaigns/{campaign_id}");
    assert_eq!(updated.body["campaign"]["funding_source"], "kept");
    assert_eq!(updated.body["campaign"]["channel_name"], channel.as_str());
}
