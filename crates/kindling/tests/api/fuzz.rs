//! Defects found by the Schemathesis run (scripts/fuzz.sh) or while wiring it up, each
//! reproduced through HTTP.

use crate::backend_tests;
use crate::helpers::TestApp;
use reqwest::Method;

backend_tests!(undecodable_path_ids_are_not_found);

/// `%FF` decodes to a byte that is not UTF-8; the generic CRUD and link-set routes answered
/// 500 for it, the hand-written ones 404.
async fn undecodable_path_ids_are_not_found(app: TestApp) {
    let acct = app.account().await;
    for path in [
        "/v1.0/members/%FF",
        "/v1.0/merchants/%FF",
        "/v1.0/merchants/%FF/stores",
        "/v1.0/merchants/1/stores/%FF",
        "/v1.0/merchants/store_lists/%FF/stores",
        "/v1.0/manufacturers/%FF/merchants",
        "/v1.0/member_lists/%FF/members",
        "/v1.0/offers/%FF/channels",
        "/v1.0/offers/%FF",
        "/v1.0/credentials/%C3%28",
    ] {
        app.get(&acct, path).await.error(404);
        for method in [Method::POST, Method::PUT, Method::DELETE] {
            let response = app.raw(Some(&acct.token), method.clone(), path, Some("{}".into())).await;
            assert!(response.status.is_client_error(), "{method} {path}: {} {}", response.status, response.text);
        }
    }
}
