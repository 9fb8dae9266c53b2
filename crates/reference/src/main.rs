//! `kindling-reference [ADDR]`: the baseline `scripts/bench.sh` compares Kindling with. A
//! plain axum server with default settings answering `GET /v1.0/members/{id}` with the same
//! JSON shape as Kindling (`{"member": {...}, "errors": {}}`), built from memory, no auth.
//! Listens on ADDR (default 127.0.0.1:8081).

// Unsafe code lives only in store::shm; here it cannot be allowed.
#![forbid(unsafe_code)]

use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

#[derive(Serialize)]
struct Member {
    identifier: &'static str,
    notification_mode: &'static str,
    id: i64,
    created_at: &'static str,
    updated_at: &'static str,
}

#[derive(Serialize)]
struct Envelope {
    member: Member,
    errors: Empty,
}

#[derive(Serialize)]
struct Empty {}

async fn member(Path(id): Path<i64>) -> Json<Envelope> {
    let member = Member {
        identifier: "bench-member",
        notification_mode: "app",
        id,
        created_at: "2013-01-28T21:44:10Z",
        updated_at: "2013-01-28T21:44:10Z",
    };
    Json(Envelope { member, errors: Empty {} })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8081".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let app = Router::new().route("/v1.0/members/{id}", get(member));
    axum::serve(listener, app).await
}
