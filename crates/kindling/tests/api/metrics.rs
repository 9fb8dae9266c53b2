//! `GET /metrics`: Prometheus text with per-route counters and latency histograms under the
//! route template, the pool gauges and the outbox backlog read at scrape time.

use crate::backend_tests;
use crate::helpers::TestApp;
use kindling_domain::{AccountId, Timestamp};
use kindling_store::credentials::outbox::{self, Kind};
use reqwest::Method;
use serde_json::json;

backend_tests!(metrics_count_requests_by_route_template, metrics_report_pool_and_outbox_backlog);

/// The value of the one sample named `name` whose labels include every `labels` pair.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = text.lines().filter(|line| !line.starts_with('#')).filter_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let rest = series.strip_prefix(name)?;
        let label_set = rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')).unwrap_or(rest);
        if !rest.is_empty() && !rest.starts_with('{') {
            return None; // a longer metric name with this prefix
        }
        let pairs: Vec<String> = label_set.split(',').map(str::to_owned).collect();
        labels.iter().all(|(k, v)| pairs.contains(&format!("{k}=\"{v}\""))).then(|| value.parse::<f64>().unwrap())
    });
    let value = found.next();
    assert!(found.next().is_none(), "more than one {name} sample with {labels:?}:\n{text}");
    value
}

async fn scrape(app: &TestApp) -> String {
    let response = app.raw(None, Method::GET, "/metrics", None).await;
    assert_eq!(response.status, 200, "{}", response.text);
    let content_type = response.headers["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    response.text
}

async fn metrics_count_requests_by_route_template(app: TestApp) {
    let acct = app.account().await;
    let mut ids = Vec::new();
    for identifier in ["m-1", "m-2"] {
        let created = app.post(&acct, "/v1.0/members", json!({"member": {"identifier": identifier}})).await;
        ids.push(created.body["member"]["id"].as_i64().unwrap());
    }
    for id in &ids {
        assert_eq!(app.get(&acct, &format!("/v1.0/members/{id}")).await.status, 200);
    }
    // The `.json` suffix is removed before the route is resolved: the same series.
    assert_eq!(app.get(&acct, &format!("/v1.0/members/{}.json", ids[0])).await.status, 200);
    assert_eq!(app.get(&acct, "/v1.0/members/999999999").await.status, 404);
    assert_eq!(app.get(&acct, "/no/such/route/12345").await.status, 404);
    app.raw(Some(&acct.token), Method::PATCH, "/v1.0/members", None).await.error(405);

    let text = scrape(&app).await;
    let member = [("method", "GET"), ("route", "/v1.0/members/{member_id}"), ("status", "200")];
    assert_eq!(sample(&text, "kindling_http_requests_total", &member), Some(3.0), "{text}");
    assert_eq!(sample(&text, "kindling_http_request_duration_seconds_count", &member), Some(3.0), "{text}");
    let mut inf_bucket = member.to_vec();
    inf_bucket.push(("le", "+Inf"));
    assert_eq!(sample(&text, "kindling_http_request_duration_seconds_bucket", &inf_bucket), Some(3.0), "{text}");
    let mut small_bucket = member.to_vec();
    small_bucket.push(("le", "0.001"));
    assert!(sample(&text, "kindling_http_request_duration_seconds_bucket", &small_bucket).is_some(), "{text}");
    let missing = [("method", "GET"), ("route", "/v1.0/members/{member_id}"), ("status", "404")];
    assert_eq!(sample(&text, "kindling_http_requests_total", &missing), Some(1.0), "{text}");
    let created = [("method", "POST"), ("route", "/v1.0/members"), ("status", "201")];
    assert_eq!(sample(&text, "kindling_http_requests_total", &created), Some(2.0), "{text}");
    let wrong_method = [("method", "PATCH"), ("route", "/v1.0/members"), ("status", "405")];
    assert_eq!(sample(&text, "kindling_http_requests_total", &wrong_method), Some(1.0), "{text}");
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(sample(&text, "kindling_http_requests_total", &unmatched), Some(1.0), "{text}");
    // Statements are counted per process (other tests' too): the member reads above ran some.
    let statements = sample(&text, "kindling_db_statements_total", &[]).expect("statement counter");
    assert!(statements >= 4.0, "{text}");
    // Raw paths never become labels: the series count stays bounded by the route table.
    for raw in ids.iter().map(i64::to_string).chain(["999999999".to_owned(), "12345".to_owned()]) {
        assert!(!text.contains(&format!("/{raw}")), "raw path with {raw} in a label:\n{text}");
    }
}

async fn metrics_report_pool_and_outbox_backlog(app: TestApp) {
    let acct = app.account().await;
    // A callback enqueued two minutes ago to a port nothing listens on: it stays pending
    // (failed attempts are retried for a day).
    let enqueued_at = Timestamp::from_unix(Timestamp::now().unix() - 120);
    let mut tx = app.db.begin().await.unwrap();
    outbox::enqueue(
        &mut tx,
        AccountId(acct.id),
        Kind::Credential,
        None,
        "http://127.0.0.1:9/never",
        Some("{}".into()),
        enqueued_at,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let text = scrape(&app).await;
    assert_eq!(sample(&text, "kindling_outbox_scrape_ok", &[]), Some(1.0), "{text}");
    // PostgreSQL's outbox is shared with tests running beside this one: at least ours.
    let pending = sample(&text, "kindling_outbox_pending", &[]).expect("outbox_pending gauge");
    assert!(pending >= 1.0, "{text}");
    let age = sample(&text, "kindling_outbox_oldest_pending_age_seconds", &[]).expect("oldest age gauge");
    assert!(age >= 120.0, "oldest pending callback is two minutes old, gauge says {age}");
    for gauge in ["kindling_outbox_pending", "kindling_outbox_oldest_pending_age_seconds"] {
        assert!(text.contains(&format!("# TYPE {gauge} gauge")), "{gauge} is a gauge:\n{text}");
    }
    if app.url.starts_with("sqlite") {
        // The database is this test's own: the figures are exactly ours.
        assert_eq!(pending, 1.0, "{text}");
        assert!(age < 180.0, "the age counts from the enqueue time: {age}");
    }
    let idle = sample(&text, "kindling_db_pool_connections", &[("state", "idle")]).expect("idle gauge");
    let in_use = sample(&text, "kindling_db_pool_connections", &[("state", "in_use")]).expect("in_use gauge");
    assert!(idle + in_use >= 1.0, "{text}");

    // Stop the workers (on a shared PostgreSQL, of other tests too) retrying the dead target.
    app.db
        .execute(
            "UPDATE callback_outbox SET failed_at = $2 WHERE account_id = $1 AND delivered_at IS NULL",
            &[acct.id.into(), Timestamp::now().unix().into()],
        )
        .await
        .unwrap();
    let text = scrape(&app).await;
    if app.url.starts_with("sqlite") {
        assert_eq!(sample(&text, "kindling_outbox_pending", &[]), Some(0.0), "{text}");
        assert_eq!(sample(&text, "kindling_outbox_oldest_pending_age_seconds", &[]), Some(0.0), "{text}");
    }
}
