//! A baseline for `scripts/bench.sh`: the member route answered from memory through the same
//! middleware, so the benchmark isolates what auth and the database cost. Mounted only when
//! `AppConfig::bench_routes` is set (`KINDLING_BENCH_ROUTES=1`).

use crate::extract::ApiPath;
use crate::response::single;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::member::Member;
use kindling_domain::{MemberId, Timestamp};

pub async fn member_from_memory(ApiPath(id): ApiPath<i64>) -> Response {
    let member = Member {
        identifier: "bench-member".to_owned(),
        notification_mode: "app".to_owned(),
        id: MemberId(id),
        created_at: Timestamp::from_unix(1_359_409_450),
        updated_at: Timestamp::from_unix(1_359_409_450),
    };
    single(StatusCode::OK, "member", &member)
}
