//! `/auth` and the token every other call carries.

use crate::backend_tests;
use crate::cli::Server;
use crate::helpers::{postgres_url, Backend, TestApp};
use kindling_api::AppConfig;
use kindling_domain::{secret, AccountId, Timestamp};
use kindling_store::{accounts, revocations, Db};
use reqwest::{Client, Method, StatusCode};
use std::time::{Duration, Instant};

backend_tests!(
    auth_issues_a_24h_token,
    auth_refuses_bad_credentials,
    repeated_failures_are_refused_with_429,
    a_key_stored_as_argon2_is_rehashed_at_login,
    protected_routes_need_a_valid_token,
    expired_tokens_are_refused,
    secrets_are_stored_hashed,
    logout_revokes_the_token_at_once,
    logout_all_revokes_every_token_of_the_account,
    revocations_written_elsewhere_reach_the_cache,
);

async fn auth_issues_a_24h_token(app: TestApp) {
    let acct = app.account().await;
    let response = app.auth(&acct.id.to_string(), &acct.key).await;
    response.spec("get", "/auth");
    assert_eq!(response.text, "", "204 has no body");
    let token = response.headers["x-auth-token"].to_str().unwrap();
    assert!(secret::looks_like_token(token), "64 hex chars: {token}");
    assert_ne!(token, acct.token, "each login gets a fresh token");

    let (owner, expires) = accounts::token_owner(&app.db, &secret::token_digest(token)).await.unwrap().unwrap();
    assert_eq!(owner, AccountId(acct.id));
    let lifetime = expires.unix() - Timestamp::now().unix();
    assert!((86_390..=86_400).contains(&lifetime), "24 h lifetime, got {lifetime}s");

    let post = app
        .client
        .post(format!("{}/auth", app.base))
        .header("X-Auth-Identity", acct.id.to_string())
        .header("X-Auth-Key", &acct.key)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 204, "POST /auth works too");
    let new_token = post.headers()["x-auth-token"].to_str().unwrap().to_owned();
    app.raw(Some(&new_token), Method::GET, "/v1.0/account", None).await.spec("get", "/v1.0/account");
    app.raw(Some(&new_token.to_uppercase()), Method::GET, "/v1.0/account", None).await.error_free();
}

async fn auth_refuses_bad_credentials(app: TestApp) {
    let acct = app.account().await;
    let id = acct.id.to_string();
    assert_eq!(app.auth(&id, "wrong-key").await.error(401), "Invalid credentials");
    app.auth("999999999", &acct.key).await.error(401);
    app.auth("not-a-number", &acct.key).await.error(401);
    app.auth(&id, "").await.error(401);
    let no_headers = app.raw(None, Method::GET, "/auth", None).await;
    no_headers.error(401);
    assert!(no_headers.headers.get("x-auth-token").is_none());
    // Another account's key does not open this one.
    let other = app.account().await;
    app.auth(&id, &other.key).await.error(401);
}

async fn repeated_failures_are_refused_with_429(app: TestApp) {
    let (acct, bystander) = (app.account().await, app.account().await);
    let id = acct.id.to_string();
    for _ in 0..5 {
        app.auth(&id, "wrong").await.error(401);
    }
    let limited = app.auth(&id, "wrong").await;
    limited.error(429);
    let retry_after: i64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    // Other accounts are unaffected, and existing tokens keep working.
    app.auth(&bystander.id.to_string(), &bystander.key).await.spec("get", "/auth");
    app.get(&acct, "/v1.0/account").await.spec("get", "/v1.0/account");
    // The right key still logs in: whoever sends wrong keys cannot lock the account's
    // integrations out. Its login clears the count, so the full allowance is back.
    app.auth(&id, &acct.key).await.spec("get", "/auth");
    for _ in 0..5 {
        app.auth(&id, "wrong").await.error(401);
    }
    app.auth(&id, "wrong").await.error(429);
}

/// A key an earlier version stored as an Argon2 hash logs in, and its hash is replaced by
/// the key's digest; until then, past the limit even the right key waits out the window
/// (an Argon2 check is counted before it runs).
async fn a_key_stored_as_argon2_is_rehashed_at_login(app: TestApp) {
    let key = secret::new_api_key();
    let id = accounts::create(&app.db, "Older", &secret::hash_password(&key)).await.unwrap();
    let stored = || async { accounts::credentials(&app.db, id).await.unwrap().unwrap().api_key_hash };
    assert!(secret::is_slow_key_hash(&stored().await));
    let identity = id.0.to_string();
    for _ in 0..5 {
        app.auth(&identity, "wrong").await.error(401);
    }
    app.auth(&identity, &key).await.error(429);
    // A rotation clears the count (here to the same key, still stored as an Argon2 hash).
    accounts::rotate_key(&app.db, id, &secret::hash_password(&key)).await.unwrap();
    app.auth(&identity, &key).await.spec("get", "/auth");
    let rehashed = stored().await;
    assert!(!secret::is_slow_key_hash(&rehashed) && !rehashed.contains(&key), "{rehashed}");
    assert!(secret::verify_api_key(&key, &rehashed));
    app.auth(&identity, &key).await.spec("get", "/auth");
    app.auth(&identity, "wrong").await.error(401);
}

async fn protected_routes_need_a_valid_token(app: TestApp) {
    let acct = app.account().await;
    for (method, path) in [
        (Method::GET, "/v1.0/account"),
        (Method::PUT, "/v1.0/account"),
        (Method::PUT, "/v1.0/account/callbacks/enable"),
        (Method::GET, "/v1.0/members"),
        (Method::POST, "/v1.0/members"),
        (Method::GET, "/v1.0/members/1"),
        (Method::PUT, "/v1.0/members/1"),
        (Method::DELETE, "/v1.0/members/1"),
        (Method::GET, "/v1.0/members/search?identifier=x"),
    ] {
        app.raw(None, method.clone(), path, None).await.error(401);
        app.raw(Some("nonsense"), method.clone(), path, None).await.error(401);
        let unknown = secret::new_token();
        app.raw(Some(&unknown), method.clone(), path, None).await.error(401);
        // An API key is not a token.
        app.raw(Some(&acct.key), method, path, None).await.error(401);
    }
}

async fn expired_tokens_are_refused(app: TestApp) {
    let acct = app.account().await;
    let token = secret::new_token();
    let now = Timestamp::now();
    accounts::issue_token(
        &app.db,
        AccountId(acct.id),
        &secret::token_digest(&token),
        now.plus_seconds(-86_500),
        now.plus_seconds(-100),
    )
    .await
    .unwrap();
    let refused = app.raw(Some(&token), Method::GET, "/v1.0/members", None).await;
    assert_eq!(refused.error(401), "Invalid or expired token");
}

async fn secrets_are_stored_hashed(app: TestApp) {
    let acct = app.account().await;
    let plaintext_rows: Option<i64> = app
        .db
        .fetch_optional(
            "SELECT COUNT(*) FROM auth_tokens WHERE digest = $1 OR account_id = $2 AND digest = $3",
            &[acct.token.as_str().into(), acct.id.into(), acct.key.as_str().into()],
        )
        .await
        .unwrap();
    assert_eq!(plaintext_rows, Some(0), "neither token nor key is stored in the clear");
    let creds = accounts::credentials(&app.db, AccountId(acct.id)).await.unwrap().unwrap();
    assert!(!creds.api_key_hash.contains(&acct.key), "key stored as its digest");
    assert!(!secret::is_slow_key_hash(&creds.api_key_hash) && secret::verify_api_key(&acct.key, &creds.api_key_hash));
    let digest = secret::token_digest(&acct.token);
    assert!(accounts::token_owner(&app.db, &digest).await.unwrap().is_some(), "token found by digest");
    assert!(accounts::token_owner(&app.db, &acct.token).await.unwrap().is_none(), "plaintext token not stored");
}

/// Twenty wrong keys at once: each is counted, so no more than the limit are answered 401
/// and the rest are refused (429).
async fn parallel_wrong_keys_are_limited(backend: Backend) {
    let config = AppConfig { auth_failure_window_seconds: 3, ..AppConfig::default() };
    let Some(app) = TestApp::spawn_with(backend, config).await else { return };
    let acct = app.account().await;
    let id = acct.id.to_string();
    let guesses: Vec<_> = (0..20)
        .map(|i| {
            let (client, base, id) = (app.client.clone(), app.base.clone(), id.clone());
            tokio::spawn(async move {
                let response = client
                    .get(format!("{base}/auth"))
                    .header("X-Auth-Identity", id)
                    .header("X-Auth-Key", format!("wrong-{i}"))
                    .send()
                    .await
                    .unwrap();
                let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
                (response.status(), retry_after)
            })
        })
        .collect();
    let (mut checked, mut refused) = (0, 0);
    for guess in guesses {
        match guess.await.unwrap() {
            (StatusCode::UNAUTHORIZED, _) => checked += 1,
            (StatusCode::TOO_MANY_REQUESTS, Some(retry_after)) => {
                assert!((1..=3).contains(&retry_after.parse::<i64>().unwrap()), "Retry-After {retry_after}");
                refused += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(checked <= 5, "{checked} wrong keys were checked, the limit is 5");
    assert_eq!(checked + refused, 20);
    // The right key logs in at once.
    app.auth(&id, &acct.key).await.spec("get", "/auth");
    // A success clears the count: the full allowance is back.
    for _ in 0..5 {
        app.auth(&id, "wrong").await.error(401);
    }
    app.auth(&id, "wrong").await.error(429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_parallel_wrong_keys_are_limited() {
    parallel_wrong_keys_are_limited(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run scripts/test.sh"]
async fn postgres_parallel_wrong_keys_are_limited() {
    parallel_wrong_keys_are_limited(Backend::Postgres).await;
}

async fn logout(app: &TestApp, token: &str, path: &str) -> crate::helpers::TestResponse {
    app.raw(Some(token), Method::DELETE, path, None).await
}

async fn logout_revokes_the_token_at_once(app: TestApp) {
    let acct = app.account().await;
    let other = app.auth(&acct.id.to_string(), &acct.key).await.headers["x-auth-token"].to_str().unwrap().to_owned();
    // Both tokens are in the server's cache.
    app.get(&acct, "/v1.0/account").await.spec("get", "/v1.0/account");
    app.raw(Some(&other), Method::GET, "/v1.0/account", None).await.error_free();

    let revoked = logout(&app, &acct.token, "/auth").await;
    assert_eq!((revoked.status, revoked.text.as_str()), (StatusCode::NO_CONTENT, ""));
    assert_eq!(app.get(&acct, "/v1.0/account").await.error(401), "Invalid or expired token");
    let digest = secret::token_digest(&acct.token);
    assert!(accounts::token_owner(&app.db, &digest).await.unwrap().is_none(), "the token row is gone");
    // Only that token: the account's other session goes on.
    app.raw(Some(&other), Method::GET, "/v1.0/account", None).await.error_free();
    logout(&app, &acct.token, "/auth").await.error(401);
    app.raw(None, Method::DELETE, "/auth", None).await.error(401);
    logout(&app, &other, "/auth?all=maybe").await.error(400);
}

async fn logout_all_revokes_every_token_of_the_account(app: TestApp) {
    let (acct, bystander) = (app.account().await, app.account().await);
    let id = acct.id.to_string();
    let tokens: Vec<String> = [app.auth(&id, &acct.key).await, app.auth(&id, &acct.key).await]
        .iter()
        .map(|r| r.headers["x-auth-token"].to_str().unwrap().to_owned())
        .collect();
    for token in &tokens {
        app.raw(Some(token), Method::GET, "/v1.0/account", None).await.error_free();
    }
    let revoked = logout(&app, &acct.token, "/auth?all=true").await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    for token in tokens.iter().chain([&acct.token]) {
        app.raw(Some(token), Method::GET, "/v1.0/account", None).await.error(401);
    }
    app.get(&bystander, "/v1.0/account").await.spec("get", "/v1.0/account");
    // The key still opens new sessions.
    app.auth(&id, &acct.key).await.spec("get", "/auth");
}

/// Polls until `token` is refused at `base`; panics after `within`.
pub async fn refused_within(client: &Client, base: &str, token: &str, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let response = client.get(format!("{base}/v1.0/account")).header("X-Auth-Token", token).send().await.unwrap();
        match response.status().as_u16() {
            401 => return start.elapsed(),
            200 => assert!(start.elapsed() < within, "{base} still accepts a revoked token after {within:?}"),
            other => panic!("unexpected status {other}"),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A revocation written straight to the database (as the CLI or another server does)
/// reaches this server's token cache within a second.
async fn revocations_written_elsewhere_reach_the_cache(app: TestApp) {
    let acct = app.account().await;
    app.get(&acct, "/v1.0/account").await.spec("get", "/v1.0/account");
    let digest = secret::token_digest(&acct.token);
    revocations::revoke_token(&app.db, AccountId(acct.id), &digest).await.unwrap();
    refused_within(&app.client, &app.base, &acct.token, Duration::from_secs(1)).await;

    let second = app.account().await;
    app.get(&second, "/v1.0/account").await.spec("get", "/v1.0/account");
    revocations::revoke_all(&app.db, AccountId(second.id)).await.unwrap();
    refused_within(&app.client, &app.base, &second.token, Duration::from_secs(1)).await;
}

/// Two `kindling serve` processes on one database: a logout on one is refused by the other
/// within a second, for one token and for all of an account's tokens.
async fn revocation_reaches_another_process(url: &str) {
    let db = Db::connect(url).await.unwrap();
    let key = secret::new_api_key();
    let id = accounts::create(&db, "Two servers", &secret::hash_api_key(&key)).await.unwrap().0.to_string();
    let servers = [Server::start(url).await, Server::start(url).await];
    let client = Client::new();
    let login = || async {
        let response = client
            .get(format!("{}/auth", servers[0].base))
            .header("X-Auth-Identity", &id)
            .header("X-Auth-Key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        let token = response.headers()["x-auth-token"].to_str().unwrap().to_owned();
        for server in &servers {
            let account =
                client.get(format!("{}/v1.0/account", server.base)).header("X-Auth-Token", &token).send().await;
            assert_eq!(account.unwrap().status(), 200, "{} serves (and caches) the token", server.base);
        }
        token
    };
    let revoke = |base: String, token: String, path: &'static str| {
        let client = client.clone();
        async move {
            let response = client.delete(format!("{base}{path}")).header("X-Auth-Token", token).send().await.unwrap();
            assert_eq!(response.status(), 204);
        }
    };

    let token = login().await;
    revoke(servers[0].base.clone(), token.clone(), "/auth").await;
    refused_within(&client, &servers[0].base, &token, Duration::ZERO).await;
    refused_within(&client, &servers[1].base, &token, Duration::from_secs(1)).await;

    let (first, second) = (login().await, login().await);
    revoke(servers[1].base.clone(), first.clone(), "/auth?all=true").await;
    for token in [&first, &second] {
        refused_within(&client, &servers[1].base, token, Duration::ZERO).await;
        refused_within(&client, &servers[0].base, token, Duration::from_secs(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_revocation_reaches_another_process() {
    let dir = tempfile::tempdir().unwrap();
    revocation_reaches_another_process(&format!("sqlite://{}", dir.path().join("two.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run scripts/test.sh"]
async fn postgres_revocation_reaches_another_process() {
    revocation_reaches_another_process(&postgres_url()).await;
}

/// Polls `check` every 50 ms until it holds; panics if it still does not after `within`.
async fn eventually(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not after {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn account_at(client: &Client, base: &str, token: &str) -> reqwest::Response {
    client.get(format!("{base}/v1.0/account")).header("X-Auth-Token", token).send().await.unwrap()
}

/// Two `kindling serve` processes on one database cache tokens and account records (a
/// cached `GET /v1.0/account` runs no SQL), and each change is seen by the other within a
/// second: a setting changed through one server, a logout on one, a key rotated by the CLI.
/// With `env` the servers may poll the log rarely, leaving PostgreSQL's NOTIFY to do it.
async fn changes_reach_another_process(url: &str, env: &[(&str, &str)]) {
    let (id, key) = crate::cli::account_command(&["create", "--name", "Cached"], url);
    let servers = [Server::start_with(url, env).await, Server::start_with(url, env).await];
    let [first, second] = [servers[0].base.as_str(), servers[1].base.as_str()];
    let client = Client::new();
    let login = async |key: &str| {
        let response = client
            .get(format!("{first}/auth"))
            .header("X-Auth-Identity", id.to_string())
            .header("X-Auth-Key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        response.headers()["x-auth-token"].to_str().unwrap().to_owned()
    };
    let callbacks_on = async |base: &str, token: &str| -> bool {
        let account: serde_json::Value = account_at(&client, base, token).await.json().await.unwrap();
        account["account"]["enable_callbacks"].as_bool().unwrap()
    };
    let token = login(&key).await;
    for base in [first, second] {
        assert!(!callbacks_on(base, &token).await, "{base} serves (and caches) the token and account");
    }
    let scrape_alone = crate::statements::fewest(&client, second, async || {}).await;
    let cached = crate::statements::fewest(&client, second, async || {
        assert_eq!(account_at(&client, second, &token).await.status(), 200);
    })
    .await;
    assert_eq!(cached - scrape_alone, 0, "a cached GET /v1.0/account runs no statement");

    // A setting changed on one server: that one answers it at once, the other within a second.
    let enabled = client.put(format!("{first}/v1.0/account/callbacks/enable")).header("X-Auth-Token", &token);
    assert_eq!(enabled.send().await.unwrap().status(), 200);
    assert!(callbacks_on(first, &token).await, "the writing server evicts at once");
    eventually("the other server sees the setting", Duration::from_secs(1), async || {
        callbacks_on(second, &token).await
    })
    .await;
    let zone = serde_json::json!({"account": {"time_zone": "Europe/Paris"}});
    let updated = client.put(format!("{second}/v1.0/account")).header("X-Auth-Token", &token).json(&zone);
    assert_eq!(updated.send().await.unwrap().status(), 200);
    eventually("the other server sees the time zone", Duration::from_secs(1), async || {
        let account: serde_json::Value = account_at(&client, first, &token).await.json().await.unwrap();
        account["account"]["time_zone"] == "Europe/Paris"
    })
    .await;

    // A logout on one server.
    let logged_out = client.delete(format!("{second}/auth")).header("X-Auth-Token", &token);
    assert_eq!(logged_out.send().await.unwrap().status(), 204);
    eventually("the other server refuses the logged-out token", Duration::from_secs(1), async || {
        account_at(&client, first, &token).await.status() == 401
    })
    .await;

    // A key rotated by the CLI, a third process.
    let token = login(&key).await;
    for base in [first, second] {
        assert_eq!(account_at(&client, base, &token).await.status(), 200, "{base} caches the new token");
    }
    let (_, new_key) = crate::cli::account_command(&["rotate-key", "--account", &id.to_string()], url);
    for base in [first, second] {
        eventually(&format!("{base} refuses the rotated key's token"), Duration::from_secs(1), async || {
            account_at(&client, base, &token).await.status() == 401
        })
        .await;
    }
    let token = login(&new_key).await;
    assert!(callbacks_on(second, &token).await, "the new key's session sees the account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_changes_reach_another_process() {
    let dir = tempfile::tempdir().unwrap();
    changes_reach_another_process(&format!("sqlite://{}", dir.path().join("two.db").display()), &[]).await;
}

/// The servers read the log only every ten minutes (after their first read): NOTIFY alone
/// must bring every change within the second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run scripts/test.sh"]
async fn postgres_changes_reach_another_process_by_notification() {
    changes_reach_another_process(&postgres_url(), &[("KINDLING_AUTH_POLL_MS", "600000")]).await;
}
