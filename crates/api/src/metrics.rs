//! `GET /metrics` in the Prometheus text format: request counts and latency per route, the
//! database pool, group-commit batch sizes, and the callback outbox backlog. Each `AppState` owns its registry (no
//! global recorder), so many servers in one process (the tests) keep separate figures.
//!
//! Labels are bounded: the route is the router's template (`/v1.0/members/{member_id}`,
//! resolved by `observe::Routes`), never the raw path; unknown methods count as `other`,
//! unrouted requests as `unmatched`. Requests are counted by `observe::Observe`.
//! The pool and outbox gauges are read when scraped, one cheap query per scrape, and so is
//! the count of SQL statements the process has run (`kindling_store::stats`).

use crate::AppState;
use axum::extract::State;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use kindling_domain::Timestamp;
use kindling_store::credentials::outbox;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};
use std::sync::Mutex;

/// Seconds; finer at the low end, where most answers fall.
const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Write bodies per group commit; the writer's largest batch is 256 by default.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0];
const REQUEST_LABELS: &[&str] = &["method", "route", "status"];

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    outbox_pending: IntGauge,
    outbox_oldest_age: IntGauge,
    outbox_up: IntGauge,
    batch_sizes: Histogram,
    /// Brought up to `stats::statements_run()` at each scrape; the lock keeps two
    /// concurrent scrapes from adding the same statements twice.
    statements: Mutex<IntCounter>,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("kindling_http_requests_total", "HTTP requests answered, by method, route template and status"),
            REQUEST_LABELS,
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "kindling_http_request_duration_seconds",
                "Time from request to response headers, by method, route template and status",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            REQUEST_LABELS,
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(
            Opts::new("kindling_db_pool_connections", "Database connections by state (in_use, idle)"),
            &["state"],
        )
        .expect("valid metric");
        let outbox_pending =
            IntGauge::new("kindling_outbox_pending", "Callbacks neither delivered nor given up").expect("valid metric");
        let outbox_oldest_age = IntGauge::new(
            "kindling_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending callback (0 when none is pending)",
        )
        .expect("valid metric");
        let outbox_up = IntGauge::new(
            "kindling_outbox_scrape_ok",
            "1 if the outbox gauges were read at this scrape, 0 if the query failed (they keep their last value)",
        )
        .expect("valid metric");
        let batch_sizes = Histogram::with_opts(
            HistogramOpts::new(
                "kindling_db_group_commit_batch_size",
                "Write transactions committed together by one group commit (SQLite's writer thread)",
            )
            .buckets(BATCH_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        let statements = IntCounter::new(
            "kindling_db_statements_total",
            "SQL statements this process has run, on any database (transaction control not included)",
        )
        .expect("valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(outbox_pending.clone()),
            Box::new(outbox_oldest_age.clone()),
            Box::new(outbox_up.clone()),
            Box::new(batch_sizes.clone()),
            Box::new(statements.clone()),
        ] {
            registry.register(collector).expect("metric names are unique");
        }
        Self {
            registry,
            requests,
            latency,
            pool,
            outbox_pending,
            outbox_oldest_age,
            outbox_up,
            batch_sizes,
            statements: Mutex::new(statements),
        }
    }

    /// The group-commit batch size histogram, for the store's batch observer.
    pub fn batch_sizes(&self) -> Histogram {
        self.batch_sizes.clone()
    }

    /// Counts and times one request under its method label, route template and status.
    pub(crate) fn observe(&self, method: &'static str, route: &'static str, status: StatusCode, seconds: f64) {
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Standard methods by name; anything else shares one label so clients cannot mint series.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`. Unauthenticated, like `/healthz`: serve it on a network Prometheus can
/// reach and the public cannot (see README).
pub async fn render(State(state): State<AppState>) -> Response {
    let metrics = &state.metrics;
    let pool = state.db.pool_stats();
    metrics.pool.with_label_values(&["in_use"]).set(pool.open.saturating_sub(pool.idle) as i64);
    metrics.pool.with_label_values(&["idle"]).set(pool.idle as i64);
    match outbox::backlog(&state.db).await {
        Ok(backlog) => {
            let now = Timestamp::now().unix();
            let age = backlog.oldest_created_at.map_or(0, |at| (now - at.unix()).max(0));
            metrics.outbox_pending.set(backlog.pending);
            metrics.outbox_oldest_age.set(age);
            metrics.outbox_up.set(1);
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading the outbox backlog for /metrics failed");
            metrics.outbox_up.set(0);
        }
    }
    {
        let statements = metrics.statements.lock().unwrap_or_else(|e| e.into_inner());
        statements.inc_by(kindling_store::stats::statements_run().saturating_sub(statements.get()));
    }
    let encoder = prometheus::TextEncoder::new();
    let mut body = Vec::new();
    if let Err(e) = encoder.encode(&metrics.registry.gather(), &mut body) {
        tracing::error!(error = %e, "encoding metrics failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, encoder.format_type().to_owned())], body).into_response()
}
