//! Bounds against hostile clients: body size before buffering, slow senders, stalled
//! connections, id-list length, NUL characters, overflowing numbers, and the
//! `Idempotency-Key` edge cases (headers on replay, bad keys, abandoned and disconnected keys).

use crate::backend_tests;
use crate::credentials::setup;
use crate::helpers::{Backend, TestApp};
use kindling_api::AppConfig;
use kindling_domain::secret;
use kindling_store::{accounts, Db};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

backend_tests!(
    idempotent_replay_keeps_the_original_headers,
    idempotency_keys_must_be_printable_ascii,
    an_abandoned_idempotency_key_can_be_claimed_again,
    a_disconnected_client_does_not_leave_its_key_in_progress,
    id_lists_longer_than_the_maximum_are_refused,
    nul_characters_are_refused_on_every_store,
    code_lifetime_cannot_overflow,
);

/// Sends a request with an `Idempotency-Key` given as raw bytes (so non-ASCII keys can be sent).
pub async fn keyed(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    key: impl AsRef<[u8]>,
    body: Option<String>,
) -> reqwest::Response {
    let key = reqwest::header::HeaderValue::from_bytes(key.as_ref()).unwrap();
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("X-Auth-Token", token)
        .header("Idempotency-Key", key);
    if let Some(body) = body {
        request = request.body(body);
    }
    request.send().await.unwrap()
}

async fn count(app: &TestApp, sql: &str, account: i64) -> i64 {
    app.db.fetch_optional::<i64>(sql, &[account.into()]).await.unwrap().unwrap()
}

async fn idempotent_replay_keeps_the_original_headers(app: TestApp) {
    let acct = app.account().await;
    let body = json!({"member": {"identifier": "replayed"}}).to_string();
    let first = keyed(&app, &acct.token, Method::POST, "/v1.0/members", b"m-1", Some(body.clone())).await;
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].clone();
    let again = keyed(&app, &acct.token, Method::POST, "/v1.0/members", b"m-1", Some(body)).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location, "Location survives the replay");
    assert_eq!(again.headers()["content-type"], "application/json; charset=utf-8");
    assert!(again.headers().contains_key("x-request-id"), "a replay still gets its own request id");

    // `/auth` is never replayed: each call issues a fresh token, which is never stored in clear.
    let auth = |key: &'static [u8]| {
        app.client
            .post(format!("{}/auth", app.base))
            .header("X-Auth-Identity", acct.id.to_string())
            .header("X-Auth-Key", &acct.key)
            .header("Idempotency-Key", reqwest::header::HeaderValue::from_bytes(key).unwrap())
            .send()
    };
    let (a, b) = (auth(b"auth-1").await.unwrap(), auth(b"auth-1").await.unwrap());
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (204, 204));
    assert!(a.headers().contains_key("x-auth-token") && b.headers().contains_key("x-auth-token"));
}

async fn idempotency_keys_must_be_printable_ascii(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Keys"})).await;
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    for bad in ["clé-unique".as_bytes(), b"tab\there", &[b'k'; 256], b" "] {
        let response = keyed(&app, &acct.token, Method::POST, &path, bad, None).await;
        assert_eq!(response.status(), 400, "key {bad:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("Idempotency-Key"), "{body}");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM credentials WHERE account_id = $1", acct.id).await, 0);
}

async fn an_abandoned_idempotency_key_can_be_claimed_again(app: TestApp) {
    let acct = app.account().await;
    let body = json!({"member": {"identifier": "after-a-crash"}}).to_string();
    // Claim the key the way a request does, as if its process then died mid-request.
    let fingerprint = format!("POST /v1.0/members\n{body}");
    let hash = secret::digest_bytes(fingerprint.as_bytes());
    let claim = |locked_until: i64| {
        let db = app.db.clone();
        let hash = hash.clone();
        async move {
            db.execute("DELETE FROM idempotency_keys WHERE account_id = $1", &[acct.id.into()]).await.unwrap();
            db.execute(
                "INSERT INTO idempotency_keys (account_id, idempotency_key, request_hash, created_at, locked_until) \
                 VALUES ($1, 'crash-1', $2, $3, $4)",
                &[acct.id.into(), hash.into(), kindling_domain::Timestamp::now().unix().into(), locked_until.into()],
            )
            .await
            .unwrap();
        }
    };
    let now = kindling_domain::Timestamp::now().unix();
    claim(now + 3600).await;
    let busy = keyed(&app, &acct.token, Method::POST, "/v1.0/members", b"crash-1", Some(body.clone())).await;
    assert_eq!(busy.status(), 409, "a live claim is still in progress");
    claim(now - 1).await;
    let taken = keyed(&app, &acct.token, Method::POST, "/v1.0/members", b"crash-1", Some(body.clone())).await;
    assert_eq!(taken.status(), 201, "an expired lease is taken over: {:?}", taken.text().await);
    let replay = keyed(&app, &acct.token, Method::POST, "/v1.0/members", b"crash-1", Some(body)).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM members WHERE account_id = $1", acct.id).await, 1);
}

async fn a_disconnected_client_does_not_leave_its_key_in_progress(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Hang up"})).await;
    let path = format!("/v1.0/credentials?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel);
    let addr = app.base.trim_start_matches("http://");
    for _ in 0..5 {
        // Send the whole request, then hang up without reading the answer.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nX-Auth-Token: {}\r\nIdempotency-Key: hang-up\r\nContent-Length: 0\r\n\r\n",
            acct.token
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        drop(stream);
    }
    // The retry gets the stored answer (or runs it), never a day of 409s.
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        let response = keyed(&app, &acct.token, Method::POST, &path, b"hang-up", None).await;
        if response.status() != 409 || Instant::now() > deadline {
            break response.status();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 201);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM credentials WHERE account_id = $1", acct.id).await, 1);
}

async fn id_lists_longer_than_the_maximum_are_refused(app: TestApp) {
    let acct = app.account().await;
    let merchant = app.post(&acct, "/v1.0/merchants", json!({"merchant": {"name": "M"}})).await.body["merchant"]["id"]
        .as_i64()
        .unwrap();
    let list = app
        .post(&acct, &format!("/v1.0/merchants/{merchant}/store_lists"), json!({"store_list": {"name": "L"}}))
        .await
        .body["store_list"]["id"]
        .as_i64()
        .unwrap();
    let many: Vec<i64> = (1..=40_000).collect();
    let path = format!("/v1.0/merchants/store_lists/{list}/stores");
    let refused = app.post(&acct, &path, json!({"store_list": {"store_ids": many}})).await;
    assert!(refused.error(400).contains("at most 1000"));
    let items: Vec<i64> = (1..=1001).collect();
    let refused = app.post(&acct, "/v1.0/item_sets", json!({"item_set": {"name": "S", "item_ids": items}})).await;
    assert!(refused.error(400).contains("at most 1000"));
    let offers = (1..=1001).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let refused =
        app.raw(Some(&acct.token), Method::POST, &format!("/v1.0/credentials?offer_ids={offers}"), None).await;
    assert!(refused.error(400).contains("at most 1000"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM item_sets WHERE account_id = $1", acct.id).await, 0);
}

async fn nul_characters_are_refused_on_every_store(app: TestApp) {
    let acct = app.account().await;
    let refused = app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "a\u{0}b"}})).await;
    assert!(refused.error(400).contains("NUL"));
    let refused = app.get(&acct, "/v1.0/members/search?identifier=a%00b").await;
    assert!(refused.error(400).contains("NUL"));
    let refused = app.get(&acct, "/v1.0/campaigns/search?external_id=%00").await;
    refused.error(400);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM members WHERE account_id = $1", acct.id).await, 0);
}

async fn code_lifetime_cannot_overflow(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Forever"})).await;
    let path = |lifetime: &str| {
        format!(
            "/v1.0/credentials?member_id={}&offer_id={}&channel_id={}&code_lifetime={lifetime}",
            s.member, s.offer, s.channel
        )
    };
    let refused = app.raw(Some(&acct.token), Method::POST, &path("9223372036854775807"), None).await;
    assert!(refused.error(400).contains("code_lifetime"));
    let year = app.raw(Some(&acct.token), Method::POST, &path("31536000"), None).await;
    assert_eq!(year.status, 201, "{}", year.text);
    let expires = count(&app, "SELECT code_expires_at FROM credentials WHERE account_id = $1", acct.id).await;
    let in_a_year = kindling_domain::Timestamp::now().unix() + 31_536_000;
    assert!((in_a_year - 5..=in_a_year).contains(&expires), "a year from now, not the past: {expires}");
}

/// A body sent slower than the read timeout is answered 408, and the request is not run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_time_out() {
    let config = AppConfig { body_read_timeout: Duration::from_millis(500), ..AppConfig::default() };
    let app = TestApp::spawn_with(Backend::Sqlite, config).await.unwrap();
    let acct = app.account().await;
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1.0/members HTTP/1.1\r\nHost: {addr}\r\nX-Auth-Token: {}\r\nContent-Length: 100\r\n\r\n{{\"member\":",
        acct.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await.expect("answered").unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\""), "{answer}");
}

/// The server process behind `kindling serve`, with an account and a token.
async fn serve_with(env: &[(&str, &str)]) -> (tempfile::TempDir, crate::cli::Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("limits.db").display());
    let db = Db::connect(&url).await.unwrap();
    let key = secret::new_api_key();
    let id = accounts::create(&db, "Limits", &secret::hash_api_key(&key)).await.unwrap().0;
    drop(db);
    let server = crate::cli::Server::start_with(&url, env).await;
    let auth = reqwest::Client::new()
        .get(format!("{}/auth", server.base))
        .header("X-Auth-Identity", id.to_string())
        .header("X-Auth-Key", key)
        .send()
        .await
        .unwrap();
    let token = auth.headers()["x-auth-token"].to_str().unwrap().to_owned();
    (dir, server, token)
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A 300 MB body with an `Idempotency-Key` is refused before it is buffered: the server's
/// peak memory stays put (it used to grow by the body's size).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_before_buffering() {
    let (_dir, server, token) = serve_with(&[]).await;
    let pid = server.child.id();
    let before = peak_rss_kib(pid);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let total: usize = 300 * 1024 * 1024;
    for declared in [true, false] {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        let length = if declared { format!("Content-Length: {total}") } else { "Transfer-Encoding: chunked".into() };
        let head = format!(
            "POST /v1.0/members HTTP/1.1\r\nHost: {addr}\r\nX-Auth-Token: {token}\r\nIdempotency-Key: big\r\n{length}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b' '; 1024 * 1024];
        let framed = if declared {
            chunk.clone()
        } else {
            [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.clone(), b"\r\n".to_vec()].concat()
        };
        let mut sent = 0;
        while sent < total {
            if stream.write_all(&framed).await.is_err() {
                break; // the server answered and hung up
            }
            sent += chunk.len();
        }
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 413"), "{answer}");
    }
    let grown_mib = peak_rss_kib(pid).saturating_sub(before) / 1024;
    assert!(grown_mib < 64, "peak memory grew by {grown_mib} MiB");
    // And the server is fine afterwards.
    let ok =
        reqwest::Client::new().get(format!("{}/v1.0/members", server.base)).header("X-Auth-Token", &token).send().await;
    assert_eq!(ok.unwrap().status(), 200);
}

/// Connections that send half a request and stall are closed after the header timeout, and
/// the connection limit holds the rest in the backlog rather than exhausting the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_are_dropped() {
    let (_dir, server, token) =
        serve_with(&[("KINDLING_HEADER_READ_TIMEOUT_SECONDS", "1"), ("KINDLING_MAX_CONNECTIONS", "50")]).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stalled = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(b"GET /v1.0/members HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        stalled.push(stream);
    }
    // A real request gets through once the stalled ones are timed out.
    let started = Instant::now();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let ok = client.get(format!("{}/v1.0/members", server.base)).header("X-Auth-Token", &token).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(20), "answered after {:?}", started.elapsed());
    // Every stalled connection has been closed by the server.
    for stream in &mut stalled {
        let mut buf = [0u8; 256];
        let read = tokio::time::timeout(Duration::from_secs(15), stream.read(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(_)) | Ok(Err(_))), "a stalled connection stays open");
    }
}

/// While another process holds SQLite's write lock (as `kindling import` does), reads answer
/// at once, waiting writes park no runtime worker, and a write that waits too long is a 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_sqlite_writer_parks_no_worker() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Busy"})).await;
    let other_process = Db::connect(&app.url).await.unwrap();
    let lock = other_process.begin().await.unwrap();

    // Writers queue up behind the other process's lock...
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let (client, base, token) = (app.client.clone(), app.base.clone(), acct.token.clone());
            tokio::spawn(async move {
                let body = json!({"member": {"identifier": format!("waiting-{i}")}}).to_string();
                let sent = client.post(format!("{base}/v1.0/members")).header("X-Auth-Token", token).body(body).send();
                sent.await.unwrap().status().as_u16()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...while reads, including the eligibility check, still answer promptly.
    let started = Instant::now();
    let eligible = app
        .get(
            &acct,
            &format!("/v1.0/credentials/eligible?member_id={}&offer_id={}&channel_id={}", s.member, s.offer, s.channel),
        )
        .await;
    assert_eq!(eligible.status, 200, "{}", eligible.text);
    assert_eq!(app.get(&acct, &format!("/v1.0/members/{}", s.member)).await.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "reads waited {:?} (a busy write waits 5 s)",
        started.elapsed()
    );

    // Released within the wait, every queued write goes through.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(lock);
    for writer in writers {
        assert_eq!(writer.await.unwrap(), 201);
    }

    // Held for longer than the wait, a write is told to come back later.
    let lock = other_process.begin().await.unwrap();
    let refused = app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "too-late"}})).await;
    assert!(refused.error(503).contains("busy"));
    assert!(refused.headers.contains_key("retry-after"));
    drop(lock);
}
