//! Kindling's persistence: one interface over SQLite and PostgreSQL.
//!
//! Queries are written once and run on either backend: static ones as portable SQL with
//! `$N` placeholders, dynamic ones built with sea-query for the connection's dialect
//! (`query`). SQLite goes through rusqlite directly on the async worker (short statements on
//! cached prepared statements, no thread hand-off); PostgreSQL goes through sqlx's pool.
//! Every repository function takes the account id, so a query cannot forget tenancy.

pub mod accounts;
mod batch;
mod by_ids;
pub mod catalog;
pub mod counters;
pub mod credentials;
pub mod crud;
mod db;
pub mod engine;
mod error;
pub mod events;
pub mod idempotency;
pub mod impressions;
pub mod issuance;
pub mod landing;
pub mod link_set;
pub mod many;
pub mod members;
mod migrate;
pub mod offer_states;
pub mod offers;
mod pg_commit;
pub mod portal;
pub mod pos;
pub mod pos_offer_codes;
mod postgres;
pub mod privacy;
mod query;
mod read_cache;
pub mod reports;
pub mod revocations;
mod shm;
mod sqlite;
pub mod stats;

pub use db::{Db, Dialect, Exec, FromRow, Reader, Row, Tx, Undo, Value};
pub use error::{MaybeBusy, StoreError};
pub use futures_util::future::BoxFuture;
pub use sqlite::BatchObserver;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub use db::PoolStats;
