//! Kindling's HTTP API: axum routes mirroring the Sparkfly Platform API's paths.

// Unsafe code lives only in store::shm; here it cannot be allowed.
#![forbid(unsafe_code)]

pub mod auth;
mod crud;
pub mod error;
pub mod extract;
mod idempotency;
mod limits;
mod links;
mod metrics;
mod middleware;
mod observe;
mod params;
pub mod response;
mod router;
mod routes;
mod serve;
mod state;

pub use error::ApiError;
pub use observe::{set_response_log, ResponseLine, ResponseLog};
pub use router::{app, landing_app, route_paths};
pub use serve::{serve, ServeConfig};
pub use state::{AppConfig, AppState};
