//! The SQLite read cache (crates/store/src/read_cache.rs) serves `GET /v1.0/members/{id}`
//! only while nothing has been committed since the row was read, by any process. Two
//! `kindling serve` processes on one database: every change made through one is seen by the
//! other's very next read, with no wait. PostgreSQL (no cache) is held to the same rule.

use crate::cli::Server;
use crate::helpers::postgres_url;
use crate::statements::fewest;
use kindling_domain::secret;
use kindling_store::{accounts, Db};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn token(client: &Client, base: &str, id: &str, key: &str) -> String {
    let response = client
        .get(format!("{base}/auth"))
        .header("X-Auth-Identity", id)
        .header("X-Auth-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    response.headers()["x-auth-token"].to_str().unwrap().to_owned()
}

async fn member(client: &Client, base: &str, token: &str, id: i64) -> (StatusCode, Value) {
    let response = client.get(format!("{base}/v1.0/members/{id}")).header("X-Auth-Token", token).send().await.unwrap();
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

async fn every_change_is_seen_by_the_other_process_at_once(url: &str, env: &[(&str, &str)], cached: bool) {
    let db = Db::connect(url).await.unwrap();
    let key = secret::new_api_key();
    let id = accounts::create(&db, "Two readers", &secret::hash_api_key(&key)).await.unwrap().0.to_string();
    let (writer, reader) = (Server::start_with(url, env).await, Server::start_with(url, env).await);
    let client = Client::new();
    let token = token(&client, &writer.base, &id, &key).await;

    let created: Value = client
        .post(format!("{}/v1.0/members", writer.base))
        .header("X-Auth-Token", &token)
        .json(&json!({"member": {"identifier": "first"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let member_id = created["member"]["id"].as_i64().unwrap();

    for round in 0..40 {
        // Read twice on the reader (the second read can be a cache hit) ...
        for _ in 0..2 {
            let (status, body) = member(&client, &reader.base, &token, member_id).await;
            assert_eq!(status, 200);
            let expected = if round == 0 { "first".to_owned() } else { format!("round-{}", round - 1) };
            assert_eq!(body["member"]["identifier"], expected.as_str(), "round {round}");
        }
        // ... then change the member through the other process: the reader's next read shows it.
        let response = client
            .put(format!("{}/v1.0/members/{member_id}", writer.base))
            .header("X-Auth-Token", &token)
            .json(&json!({"member": {"identifier": format!("round-{round}")}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let (status, body) = member(&client, &reader.base, &token, member_id).await;
    assert_eq!((status, body["member"]["identifier"].as_str()), (StatusCode::OK, Some("round-39")));
    // While nothing is written, a repeated read runs no SQL on SQLite (the cache answers):
    // as many statements between two scrapes of /metrics (which runs a few itself) as with
    // a request that reads nothing.
    let read = fewest(&client, &reader.base, async || {
        assert_eq!(member(&client, &reader.base, &token, member_id).await.0, 200);
    })
    .await;
    let nothing = fewest(&client, &reader.base, async || {
        assert_eq!(client.get(format!("{}/healthz", reader.base)).send().await.unwrap().status(), 200);
    })
    .await;
    assert_eq!(read == nothing, cached, "{read} statements for a repeated GET member, {nothing} for /healthz");

    // A write to any other table also makes the entry stale (and the member stays as it was).
    let other = client
        .post(format!("{}/v1.0/merchants", writer.base))
        .header("X-Auth-Token", &token)
        .json(&json!({"merchant": {"name": "Elsewhere"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 201);
    assert_eq!(member(&client, &reader.base, &token, member_id).await.1["member"]["identifier"], "round-39");

    // A delete through the other process: the reader's next read is a 404.
    let deleted = client
        .delete(format!("{}/v1.0/members/{member_id}", writer.base))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    assert_eq!(member(&client, &reader.base, &token, member_id).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_every_change_is_seen_by_the_other_process_at_once() {
    let dir = tempfile::tempdir().unwrap();
    every_change_is_seen_by_the_other_process_at_once(
        &format!("sqlite://{}", dir.path().join("two.db").display()),
        &[],
        true,
    )
    .await;
}

/// `KINDLING_SQLITE_READ_CACHE=off`: the same answers, and every read runs its SQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_with_the_cache_off_every_read_runs_its_sql() {
    let dir = tempfile::tempdir().unwrap();
    every_change_is_seen_by_the_other_process_at_once(
        &format!("sqlite://{}", dir.path().join("off.db").display()),
        &[("KINDLING_SQLITE_READ_CACHE", "off")],
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run scripts/test.sh"]
async fn postgres_every_change_is_seen_by_the_other_process_at_once() {
    every_change_is_seen_by_the_other_process_at_once(&postgres_url(), &[], false).await;
}

/// The read cache maps the `-shm` file through a descriptor of its own. Closing any descriptor
/// of a file drops every POSIX lock the process holds on it, SQLite's included; without the
/// shared lock each connection keeps on the "dead man switch" byte (128), the next process to
/// open the database would take the file for its first opener and reinitialise it under the
/// server. A version of the cache that closed its descriptor after mapping failed this test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_keeps_sqlite_s_lock_on_the_shared_memory_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locks.db");
    let server = Server::start(&format!("sqlite://{}", path.display())).await;
    let client = Client::new();
    assert!(client.get(format!("{}/readyz", server.base)).send().await.unwrap().status().is_success());
    let shm = std::fs::File::open(format!("{}-shm", path.display())).unwrap();
    let holder = lock_holder(&shm, 128);
    assert_eq!(holder, Some((libc::F_RDLCK, server.child.id() as libc::pid_t)), "byte 128 of the -shm");
}

/// Who holds a lock that would block an exclusive lock of byte `offset`: its type and pid.
#[allow(unsafe_code)]
fn lock_holder(file: &std::fs::File, offset: i64) -> Option<(i32, libc::pid_t)> {
    use std::os::fd::AsRawFd;
    // SAFETY: `flock` is plain data, zero is a valid value of it, and F_GETLK writes only into it.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as _;
    lock.l_whence = libc::SEEK_SET as _;
    lock.l_start = offset;
    lock.l_len = 1;
    // SAFETY: a valid open descriptor and a pointer to a live `flock`.
    let done = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) };
    assert_eq!(done, 0, "fcntl(F_GETLK): {}", std::io::Error::last_os_error());
    (i32::from(lock.l_type) != libc::F_UNLCK).then_some((i32::from(lock.l_type), lock.l_pid))
}
