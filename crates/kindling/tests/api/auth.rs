//! `/auth` and the token every other call carries.

use crate::backend_tests;
use crate::helpers::TestApp;
use kindling_domain::{secret, AccountId, Timestamp};
use kindling_store::accounts;
use reqwest::Method;

backend_tests!(
    auth_issues_a_24h_token,
    auth_refuses_bad_credentials,
    repeated_failures_are_refused_with_429,
    protected_routes_need_a_valid_token,
    expired_tokens_are_refused,
    secrets_are_stored_hashed,
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
    // Even the right key waits out the window, so guessing cannot continue.
    app.auth(&id, &acct.key).await.error(429);
    // Other accounts are unaffected, and existing tokens keep working.
    app.auth(&bystander.id.to_string(), &bystander.key).await.spec("get", "/auth");
    app.get(&acct, "/v1.0/account").await.spec("get", "/v1.0/account");
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
    assert!(creds.api_key_hash.starts_with("$argon2"), "key stored as an Argon2 hash");
    assert!(!creds.api_key_hash.contains(&acct.key));
    let digest = secret::token_digest(&acct.token);
    assert!(accounts::token_owner(&app.db, &digest).await.unwrap().is_some(), "token found by digest");
    assert!(accounts::token_owner(&app.db, &acct.token).await.unwrap().is_none(), "plaintext token not stored");
}
