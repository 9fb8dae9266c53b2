//! The `kindling` binary's contract: `account create` and `account rotate-key` print one
//! JSON line; `serve` runs migrations, answers, and stops cleanly on SIGTERM.

use crate::helpers::postgres_url;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kindling");

/// A `kindling serve` child process, killed when dropped.
pub struct Server {
    pub base: String,
    pub child: std::process::Child,
}

impl Server {
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[]).await
    }

    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> Self {
        Self::start_full(database_url, env, &[]).await
    }

    /// On PostgreSQL the process delivers no callbacks unless `env` says otherwise (see
    /// `shared_outbox_env`).
    pub async fn start_full(database_url: &str, env: &[(&str, &str)], args: &[&str]) -> Self {
        let port = free_port();
        let child = Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", database_url])
            .args(args)
            .envs(shared_outbox_env(database_url))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&base).await;
        Self { base, child }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The suite's PostgreSQL tests share one database, so one callback outbox, which every
/// test's in-process worker serves quickly (1 s backoff, loopback allowed). A spawned
/// process with the defaults would claim other tests' callbacks too and refuse their
/// loopback targets, retrying 30 s later or more (or, killed mid-attempt, hold them for its
/// 60 s lease), past `Listener::wait_for`: on PostgreSQL spawned servers leave delivery to
/// the tests' workers.
pub fn shared_outbox_env(database_url: &str) -> Vec<(&'static str, &'static str)> {
    if database_url.starts_with("postgres") {
        vec![("KINDLING_CALLBACK_DELIVERY", "off")]
    } else {
        Vec::new()
    }
}

/// Waits (at most 30 s) until `/readyz` answers 200.
async fn wait_ready(base: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            assert_eq!(r.status(), 200);
            return;
        }
        assert!(Instant::now() < deadline, "server at {base} did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs `kindling account ARGS...` and checks its one JSON line:
/// `{"account_id": N, "identity": "N", "key": "..."}`. Returns (account_id, key).
pub fn account_command(args: &[&str], database_url: &str) -> (i64, String) {
    let output = Command::new(BIN)
        .arg("account")
        .args(args)
        .args(["--database-url", database_url])
        .output()
        .expect("kindling runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "exactly one line on stdout: {stdout:?}");
    let line: Value = serde_json::from_str(stdout.trim()).unwrap();
    let object = line.as_object().unwrap();
    assert_eq!(object.len(), 3, "{line}");
    let account_id = line["account_id"].as_i64().expect("account_id is an integer");
    let identity = line["identity"].as_str().expect("identity is a string");
    let key = line["key"].as_str().expect("key is a string");
    assert_eq!(identity, account_id.to_string());
    (account_id, key.to_owned())
}

async fn create_account_then_serve(database_url: &str) {
    let (account_id, key) = account_command(&["create", "--name", "CLI test"], database_url);
    let (identity, key) = (account_id.to_string(), key.as_str());

    let port = free_port();
    let mut server = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", database_url])
        .envs(shared_outbox_env(database_url))
        .env("KINDLING_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let auth = client
        .get(format!("{base}/auth"))
        .header("X-Auth-Identity", identity)
        .header("X-Auth-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(auth.status(), 204, "the printed key authenticates");
    let token = auth.headers()["x-auth-token"].to_str().unwrap().to_owned();
    let members = client.get(format!("{base}/v1.0/members.json")).header("X-Auth-Token", &token).send().await.unwrap();
    assert_eq!(members.status(), 200);

    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "graceful shutdown exits 0: {status}");
    let logs = std::io::read_to_string(server.stderr.take().unwrap()).unwrap();
    let lines: Vec<Value> = logs.lines().map(|l| serde_json::from_str(l).expect("JSON log line")).collect();
    assert!(
        lines.iter().any(|l| l["fields"]["request_id"].as_str().is_some_and(|id| !id.is_empty())),
        "logs carry request ids"
    );
    let answered = |l: &&Value| l["fields"]["message"] == "response" && l["fields"]["path"] == "/v1.0/members";
    let line = lines.iter().find(answered).unwrap_or_else(|| panic!("one line per answered request:\n{logs}"));
    assert_eq!(line["fields"]["status"], 200, "{line}");
    assert_eq!(line["fields"]["method"], "GET", "{line}");
    assert!(line["fields"]["elapsed_us"].is_u64(), "{line}");
    assert!(!logs.contains(key) && !logs.contains(&token), "secrets never logged");
    // Written through the background log thread, the shutdown line still reaches stderr.
    assert!(lines.iter().any(|l| l["fields"]["message"] == "shutting down"), "last log line flushed at exit:\n{logs}");
}

#[tokio::test]
async fn sqlite_account_create_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    create_account_then_serve(&format!("sqlite://{}", dir.path().join("cli.db").display())).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run scripts/test.sh"]
async fn postgres_account_create_and_serve() {
    create_account_then_serve(&postgres_url()).await;
}

/// What a server logging text to a pipe writes to stderr while it answers `GET /healthz`
/// once, with `KINDLING_LOG` set to `filter` (unset: `None`).
async fn text_logs_of_one_request(filter: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let port = free_port();
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &url])
        .env_remove("KINDLING_LOG_FORMAT")
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match filter {
        Some(filter) => command.env("KINDLING_LOG", filter),
        None => command.env_remove("KINDLING_LOG"),
    };
    let mut server = command.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
    server.wait().unwrap();
    std::io::read_to_string(server.stderr.take().unwrap()).unwrap()
}

/// Request lines are written straight to the log writer, not through tracing, yet
/// `KINDLING_LOG` still decides whether they are written, directive by directive.
#[tokio::test]
async fn request_lines_follow_kindling_log() {
    let request_line = |logs: &str| logs.lines().any(|l| l.contains("response method=GET path=\"/healthz\""));
    for (filter, written) in [
        ("warn", false),
        ("warn,kindling_api::observe=info", true),
        ("info,kindling_api::observe=warn", false),
        ("kindling_api=info", true),
    ] {
        let logs = text_logs_of_one_request(Some(filter)).await;
        assert_eq!(request_line(&logs), written, "KINDLING_LOG={filter}:\n{logs}");
    }
}

/// Text logs to a file or pipe are plain text: terminal colour codes only on a terminal.
#[tokio::test]
async fn text_logs_to_a_pipe_have_no_colour_codes() {
    let logs = text_logs_of_one_request(None).await;
    assert!(logs.contains("kindling listening"), "{logs}");
    assert!(!logs.contains('\x1b'), "escape codes in piped logs:\n{logs}");
    // The request's line, in tracing-subscriber's default text layout (src/log_format.rs).
    let line =
        logs.lines().find(|l| l.contains("path=\"/healthz\"")).unwrap_or_else(|| panic!("no request line:\n{logs}"));
    let (time, rest) = line.split_at(27);
    assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok() && time.ends_with('Z'), "{line}");
    let rest = rest.strip_prefix("  INFO kindling_api::observe: response method=GET path=\"/healthz\" request_id=");
    let rest = rest.unwrap_or_else(|| panic!("{line}"));
    let (request_id, rest) = rest.split_once(' ').unwrap();
    assert_eq!(request_id.len(), 36, "{line}");
    let elapsed = rest.strip_prefix("status=200 elapsed_us=").unwrap_or_else(|| panic!("{line}"));
    assert!(elapsed.parse::<u64>().is_ok(), "{line}");
}

async fn login(client: &reqwest::Client, base: &str, identity: &str, key: &str) -> reqwest::Response {
    client
        .get(format!("{base}/auth"))
        .header("X-Auth-Identity", identity)
        .header("X-Auth-Key", key)
        .send()
        .await
        .unwrap()
}

/// `account rotate-key` while a server runs: the old key is refused at once, the server
/// refuses the old token within a second (its cache included), the new key works.
async fn rotate_key_revokes_key_and_tokens(database_url: &str) {
    let (account_id, old_key) = account_command(&["create", "--name", "Rotating"], database_url);
    let identity = account_id.to_string();
    let server = Server::start(database_url).await;
    let client = reqwest::Client::new();
    let auth = login(&client, &server.base, &identity, &old_key).await;
    assert_eq!(auth.status(), 204);
    let old_token = auth.headers()["x-auth-token"].to_str().unwrap().to_owned();
    let account = client.get(format!("{}/v1.0/account", server.base)).header("X-Auth-Token", &old_token);
    assert_eq!(account.send().await.unwrap().status(), 200, "the token is served, and cached");

    let (rotated_id, new_key) = account_command(&["rotate-key", "--account", &identity], database_url);
    assert_eq!(rotated_id, account_id);
    assert_ne!(new_key, old_key);
    assert_eq!(login(&client, &server.base, &identity, &old_key).await.status(), 401, "old key refused at once");
    crate::auth::refused_within(&client, &server.base, &old_token, Duration::from_secs(1)).await;
    let auth = login(&client, &server.base, &identity, &new_key).await;
    assert_eq!(auth.status(), 204, "the new key works");
    let new_token = auth.headers()["x-auth-token"].to_str().unwrap();
    let account = client.get(format!("{}/v1.0/account", server.base)).header("X-Auth-Token", new_token);
    assert_eq!(account.send().await.unwrap().status(), 200);

    let unknown = Command::new(BIN)
        .args(["account", "rotate-key", "--account", "999999999", "--database-url", database_url])
        .output()
        .unwrap();
    assert!(!unknown.status.success(), "an unknown account is an error");
    assert!(unknown.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rotate_key_revokes_key_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    rotate_key_revokes_key_and_tokens(&format!("sqlite://{}", dir.path().join("rotate.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run scripts/test.sh"]
async fn postgres_rotate_key_revokes_key_and_tokens() {
    rotate_key_revokes_key_and_tokens(&postgres_url()).await;
}

/// `kindling demo` prints working credentials and seeds an offer that issues and redeems.
#[tokio::test]
async fn demo_prints_a_working_walkthrough() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["demo", "--listen", &format!("127.0.0.1:{port}"), "--database-file"])
        .arg(dir.path().join("demo.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    wait_ready(&format!("http://127.0.0.1:{port}")).await;
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let stdout = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
    let _ = child.wait();
    let value = |label: &str| -> String {
        let line =
            stdout.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("{label} in {stdout}"));
        line.split_once(':').unwrap().1.trim().to_owned()
    };
    let (identity, key) = (value("X-Auth-Identity"), value("X-Auth-Key"));
    let issue_line = stdout.lines().find(|l| l.contains("/v1.0/credentials.json?")).expect("an issue line");
    let query = issue_line.split_once('?').unwrap().1.trim_end_matches('\'');
    let page_line = stdout.lines().rev().find(|l| l.trim_start().starts_with("http://")).expect("a landing page line");
    let page = page_line.trim().rsplit_once('/').unwrap().1.to_owned();

    // The printed walkthrough works against a fresh start of the same database, here with
    // the landing pages also on a second address.
    let landing_port = free_port();
    let landing_base = format!("http://127.0.0.1:{landing_port}");
    let server = Server::start_full(
        &format!("sqlite://{}", dir.path().join("demo.db").display()),
        &[],
        &["--landing-listen", &format!("127.0.0.1:{landing_port}")],
    )
    .await;
    wait_ready(&landing_base).await;
    for base in [&server.base, &landing_base] {
        let shown = client.get(format!("{base}/{page}")).send().await.unwrap();
        assert_eq!(shown.status(), 200, "{base}/{page}");
        assert!(shown.text().await.unwrap().contains("<span id=\"code-value\">"));
    }
    // The landing address serves no API.
    let api = client.get(format!("{landing_base}/v1.0/members")).send().await.unwrap();
    assert_eq!(api.status(), 404);
    let api = client.get(format!("{landing_base}/auth")).send().await.unwrap();
    assert_eq!(api.status(), 404);
    let auth = client
        .get(format!("{}/auth", server.base))
        .header("X-Auth-Identity", &identity)
        .header("X-Auth-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(auth.status(), 204);
    let token = auth.headers()["x-auth-token"].to_str().unwrap().to_owned();
    let issued = client
        .post(format!("{}/v1.0/credentials.json?{query}", server.base))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), 201);
    let id = issued.json::<Value>().await.unwrap()["credential"]["id"].as_i64().unwrap();
    let redeemed = client
        .put(format!("{}/v1.0/credentials/{id}/redeem.json", server.base))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(redeemed.status(), 201);
}
