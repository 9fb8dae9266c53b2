//! No N+1 queries: a list page runs the same number of SQL statements whether it holds 5
//! records or 50. Measured on a separate `kindling serve` process over the same database,
//! through its `kindling_db_statements_total` (a per-process count, which the other tests
//! running in this process would disturb).

use crate::backend_tests;
use crate::cli::Server;
use crate::credentials::member;
use crate::helpers::TestApp;
use crate::merchants::merchant;
use crate::metrics::sample;
use crate::offers::{approve, channel, offer};
use reqwest::Client;
use serde_json::json;

backend_tests!(list_pages_run_a_fixed_number_of_statements);

pub async fn statements_run(client: &Client, base: &str) -> u64 {
    let text = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    sample(&text, "kindling_db_statements_total", &[]).expect("statement counter") as u64
}

/// The fewest statements seen between two scrapes with `request` between them, over a few
/// tries: the server's background tasks (revocation poll, outbox worker) only ever add.
pub async fn fewest(client: &Client, base: &str, mut request: impl AsyncFnMut()) -> u64 {
    let mut fewest = u64::MAX;
    for _ in 0..6 {
        let before = statements_run(client, base).await;
        request().await;
        fewest = fewest.min(statements_run(client, base).await - before);
    }
    fewest
}

async fn list_pages_run_a_fixed_number_of_statements(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Many").await;
    let store = json!({"store": {"name": "S", "number": "7", "location": {"address": "1 Main St", "city": "Denver"}}});
    let store =
        app.post(&acct, &format!("/v1.0/merchants/{m}/stores"), store).await.body["store"]["id"].as_i64().unwrap();
    let (person, app_channel) = (member(&app, &acct, "many").await, channel(&app, &acct, "App").await);
    for i in 0..50 {
        let id = offer(&app, &acct, json!({"name": format!("Offer {i}"), "merchant_id": m})).await;
        let linked = json!({"offer": {"channel_ids": [app_channel]}});
        app.post(&acct, &format!("/v1.0/offers/{id}/channels"), linked).await.error_free();
        approve(&app, &acct, id).await;
        let campaign = json!({"campaign": {"offer_id": id, "channel_name": "Email", "eligible_store_numbers": ["7"]}});
        app.post(&acct, "/v1.0/campaigns", campaign).await.error_free();
        let query = format!("member_id={person}&offer_id={id}&channel_id={app_channel}&store_id={store}");
        app.raw(Some(&acct.token), reqwest::Method::POST, &format!("/v1.0/credentials?{query}"), None)
            .await
            .error_free();
        let saved = format!("/v1.0/members/{person}/offer_states?channel_id={app_channel}&offer_id={id}");
        app.raw(Some(&acct.token), reqwest::Method::POST, &saved, None).await.error_free();
    }

    let server = Server::start(&app.url).await;
    let client = Client::new();
    let base = server.base.as_str();
    let scrape_alone = fewest(&client, base, async || {}).await;
    let wallet = format!("/v1.0/members/{person}/offer_states?channel_id={app_channel}&");
    for (path, key) in [
        ("/v1.0/credentials?", "credentials"),
        ("/v1.0/campaigns?", "campaigns"),
        ("/v1.0/offers?", "offers"),
        (wallet.as_str(), "offer_states"),
    ] {
        let mut counts = Vec::new();
        for per_page in [5, 50] {
            let url = format!("{base}{path}per_page={per_page}");
            let statements = fewest(&client, base, async || {
                let response = client.get(&url).header("X-Auth-Token", &acct.token).send().await.unwrap();
                assert_eq!(response.status(), 200, "{url}");
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body[key].as_array().unwrap().len(), per_page, "{url}: {body}");
            })
            .await;
            counts.push(statements - scrape_alone);
        }
        assert_eq!(counts[0], counts[1], "{path}: statements for a page of 5, then of 50");
        assert!(counts[0] <= 10, "{path}: {} statements for one page", counts[0]);
    }
}
