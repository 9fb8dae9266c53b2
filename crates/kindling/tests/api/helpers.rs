//! `TestApp`: a real server on a loopback port over a fresh SQLite file or the throwaway
//! PostgreSQL that `scripts/test.sh` starts, driven with real HTTP requests.

use crate::spec::spec;
use kindling_api::{AppConfig, AppState};
use kindling_domain::secret;
use kindling_store::{accounts, Db};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    /// The database URL, for running the `kindling` binary against the same data.
    pub url: String,
    pub db: Db,
    pub client: Client,
    _dir: Option<tempfile::TempDir>,
    _stop_worker: tokio::sync::watch::Sender<bool>,
}

/// An account created for one test, with a valid token.
pub struct TestAccount {
    pub id: i64,
    pub key: String,
    pub token: String,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

/// The PostgreSQL URL for tests, from `KINDLING_TEST_DATABASE_URL` (set by `scripts/test.sh`).
/// PostgreSQL tests are `#[ignore]`d, so a bare `cargo test` reports them as ignored rather
/// than passed; run with `--include-ignored` and no database, they fail here.
pub fn postgres_url() -> String {
    std::env::var("KINDLING_TEST_DATABASE_URL")
        .expect("PostgreSQL tests need KINDLING_TEST_DATABASE_URL: run them through scripts/test.sh")
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, AppConfig::default()).await
    }

    pub async fn spawn_with(backend: Backend, config: AppConfig) -> Option<Self> {
        let _ = tracing_subscriber::fmt().with_env_filter("warn").with_test_writer().try_init();
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                (format!("sqlite://{}", dir.path().join("kindling.db").display()), Some(dir))
            }
            Backend::Postgres => (postgres_url(), None),
        };
        let db = Db::connect(&url).await.expect("database opens and migrates");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState::new(db.clone(), config);
        kindling_api::auth::spawn_revocation_watcher(&state);
        let app = kindling_api::app(state);
        let limits = kindling_api::ServeConfig::default();
        tokio::spawn(async move {
            kindling_api::serve(listener, app, limits, std::future::pending()).await.expect("server runs")
        });
        // Callbacks go to local listeners in tests, quickly retried.
        let worker = kindling_workers::callbacks::Config {
            poll_interval: std::time::Duration::from_millis(50),
            base_backoff_seconds: 1,
            lease_seconds: 5,
            allow_private: true,
            ..Default::default()
        };
        let (stop, stopped) = tokio::sync::watch::channel(false);
        kindling_workers::callbacks::spawn(db.clone(), worker, stopped);

        Some(Self { base, url, db, client: Client::new(), _dir: dir, _stop_worker: stop })
    }

    /// A fresh account (tests are isolated by tenancy, even on a shared PostgreSQL).
    pub async fn account(&self) -> TestAccount {
        let key = secret::new_api_key();
        let id = accounts::create(&self.db, "Test account", &secret::hash_api_key(&key)).await.unwrap().0;
        let response = self.auth(&id.to_string(), &key).await;
        assert_eq!(response.status, StatusCode::NO_CONTENT, "auth failed: {}", response.text);
        let token = response.headers["x-auth-token"].to_str().unwrap().to_owned();
        TestAccount { id, key, token }
    }

    pub async fn auth(&self, identity: &str, key: &str) -> TestResponse {
        let request = self
            .client
            .get(format!("{}/auth", self.base))
            .header("X-Auth-Identity", identity)
            .header("X-Auth-Key", key);
        TestResponse::from(request.send().await.unwrap()).await
    }

    /// Sends a request with an optional token and raw body (no Content-Type, like the guide).
    pub async fn raw(&self, token: Option<&str>, method: Method, path: &str, body: Option<String>) -> TestResponse {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        TestResponse::from(request.send().await.unwrap()).await
    }

    /// A point-of-sale (CTM) request: the ticket's `term_id` and `tran_id` headers and an
    /// optional JSON body (also on GET, as CTM show sends one).
    pub async fn ctm(
        &self,
        account: &TestAccount,
        method: Method,
        path: &str,
        ticket: (&str, &str),
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("X-Auth-Token", &account.token)
            .header("term_id", ticket.0)
            .header("tran_id", ticket.1);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        TestResponse::from(request.send().await.unwrap()).await
    }

    pub async fn get(&self, account: &TestAccount, path: &str) -> TestResponse {
        self.raw(Some(&account.token), Method::GET, path, None).await
    }

    pub async fn post(&self, account: &TestAccount, path: &str, body: Value) -> TestResponse {
        self.raw(Some(&account.token), Method::POST, path, Some(body.to_string())).await
    }

    pub async fn put(&self, account: &TestAccount, path: &str, body: Value) -> TestResponse {
        self.raw(Some(&account.token), Method::PUT, path, Some(body.to_string())).await
    }

    pub async fn delete(&self, account: &TestAccount, path: &str) -> TestResponse {
        self.raw(Some(&account.token), Method::DELETE, path, None).await
    }
}

impl TestResponse {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        Self { status, headers, body, text }
    }

    /// Asserts the spec's success code for the operation and validates the body's types.
    pub fn spec(&self, method: &str, template: &str) -> &Self {
        match spec() {
            Some(spec) => spec.check_success(method, template, self.status.as_u16(), &self.body),
            None => assert!(self.status.is_success(), "{method} {template}: {} {}", self.status, self.text),
        }
        self
    }

    /// Asserts a 2xx status (for set-up steps whose shape another test checks).
    pub fn error_free(&self) -> &Self {
        assert!(self.status.is_success(), "{} {}", self.status, self.text);
        self
    }

    /// Asserts an error status with a JSON `{"error": "..."}` body; returns the message.
    pub fn error(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        let content_type = self.headers.get("content-type").map(|v| v.to_str().unwrap());
        assert_eq!(content_type, Some("application/json; charset=utf-8"), "error bodies are JSON");
        self.body["error"].as_str().unwrap_or_else(|| panic!("no error message in {}", self.text)).to_owned()
    }
}

/// Runs each listed test against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: run scripts/test.sh"]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
    };
}

/// Statements with their parameters, run in order in one transaction.
pub type Statements = Vec<(&'static str, Vec<kindling_store::Value>)>;

/// What `while_held` saw: the holding transaction's result, the request's output, and
/// whether a backend was seen waiting for the holder.
pub struct Held<T> {
    pub holder: Result<(), kindling_store::StoreError>,
    pub answer: T,
    pub waited: bool,
}

/// PostgreSQL: a transaction of its own runs `hold` (taking row locks, as a concurrent writer
/// holds them until it commits), then `request` starts; once a backend is seen waiting for
/// the holder (or after 10 s), the holder runs `then` and commits. A race made deterministic:
/// the request is caught between its first lock and its next.
pub async fn while_held<T>(
    db: &Db,
    hold: Statements,
    then: Statements,
    request: impl std::future::Future<Output = T>,
) -> Held<T> {
    let (locked, is_locked) = tokio::sync::oneshot::channel();
    let (go, gone) = tokio::sync::oneshot::channel::<()>();
    let holder = db.transaction(move |tx| {
        Box::pin(async move {
            for (sql, params) in &hold {
                tx.execute(sql, params).await?;
            }
            let pid: Option<i64> = tx.fetch_optional("SELECT pg_backend_pid()::bigint", &[]).await?;
            let _ = locked.send(pid.unwrap_or_default());
            let _ = gone.await;
            for (sql, params) in &then {
                tx.execute(sql, params).await?;
            }
            Ok::<_, kindling_store::StoreError>(())
        })
    });
    let requested = async {
        let holder_pid = is_locked.await.unwrap_or_default();
        let release = async {
            let waiting = "SELECT COUNT(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))";
            let mut seen = false;
            for _ in 0..1000 {
                seen = db.fetch_optional::<i64>(waiting, &[holder_pid.into()]).await.unwrap() >= Some(1);
                if seen {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            let _ = go.send(());
            seen
        };
        tokio::join!(request, release)
    };
    let (holder, (answer, waited)) = tokio::join!(holder, requested);
    Held { holder, answer, waited }
}
