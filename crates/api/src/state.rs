use crate::auth::AuthCache;
use crate::metrics::Metrics;
use kindling_store::Db;
use std::sync::Arc;
use std::time::Duration;

/// Tunables with production defaults; tests may shorten them.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// A request body must arrive within this long of the handler starting to read it.
    pub body_read_timeout: Duration,
    /// An unfinished `Idempotency-Key` (its process died) can be claimed again after this.
    pub idempotency_lease_seconds: i64,
    /// `/auth` attempts for one identity within the window before 429; each is counted
    /// before its key is checked, and a successful login clears the count.
    pub auth_max_failures: i64,
    pub auth_failure_window_seconds: i64,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            body_read_timeout: Duration::from_secs(30),
            idempotency_lease_seconds: 30,
            auth_max_failures: 5,
            auth_failure_window_seconds: 60,
        }
    }
}

/// Shared by every request. Holds no per-request state, so many server processes can run
/// against one database. Cloned by every extractor and middleware of every request, so it
/// is one `Arc` (one atomic increment a clone) around the shared parts.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What `AppState` shares; its fields are reached through `Deref` (`state.db`).
pub struct Shared {
    pub db: Db,
    pub config: Arc<AppConfig>,
    /// Tokens and account records, see `auth::cache`.
    pub(crate) auth: Arc<AuthCache>,
    pub(crate) metrics: Arc<Metrics>,
    /// The landing pages' database handle and page cache.
    pub(crate) web: kindling_web::WebState,
    /// The Admin Portal's database handle and sign-in limit.
    pub(crate) portal: kindling_web::portal::PortalState,
    /// The high-throughput issuance's batches (`issuance::Issuer`).
    pub(crate) issuer: kindling_store::issuance::Issuer,
    /// `POST /v1.0/credentials`' batches (`many::Queue`).
    pub(crate) credentials: kindling_store::many::Queue<kindling_store::credentials::write::CredentialInput>,
    /// `PUT /v1.0/credentials/{id}/redeem`'s batches (`many::Queue`).
    pub(crate) redemptions: kindling_store::many::Queue<kindling_store::credentials::redeem_many::Redemption>,
}

impl axum::extract::FromRef<AppState> for kindling_web::WebState {
    fn from_ref(state: &AppState) -> Self {
        state.web.clone()
    }
}

impl axum::extract::FromRef<AppState> for kindling_web::portal::PortalState {
    fn from_ref(state: &AppState) -> Self {
        state.portal.clone()
    }
}

impl AppState {
    pub fn new(db: Db, config: AppConfig) -> Self {
        let metrics = Arc::new(Metrics::new());
        let batches = metrics.batch_sizes();
        db.observe_batches(Arc::new(move |size| batches.observe(size as f64)));
        let web = kindling_web::WebState::new(db.clone());
        // Portal sign-ins are limited per email with `/auth`'s numbers.
        let limit = kindling_web::portal::LoginLimit {
            max_failures: config.auth_max_failures,
            window_seconds: config.auth_failure_window_seconds,
        };
        let portal = kindling_web::portal::PortalState::new(db.clone(), limit);
        let issuer = kindling_store::many::Queue::start(db.clone(), 2);
        let credentials = kindling_store::many::Queue::start(db.clone(), 2);
        let redemptions = kindling_store::many::Queue::start(db.clone(), 2);
        let config = Arc::new(config);
        let auth = Arc::new(AuthCache::new());
        Self(Arc::new(Shared { db, config, auth, metrics, web, portal, issuer, credentials, redemptions }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
