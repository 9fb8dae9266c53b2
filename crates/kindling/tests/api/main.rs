//! The integration suite: real HTTP against `kindling_api::app` on SQLite and PostgreSQL.

mod account;
mod auth;
mod callbacks;
mod campaigns;
mod cli;
mod concurrency;
mod conventions;
mod credentials;
mod durability;
mod fuzz;
mod helpers;
mod idempotency;
mod import;
mod input_audit;
mod isolation;
mod items;
mod limits;
mod members;
mod merchants;
mod metrics;
mod offer_links;
mod offers;
mod read_modify_write;
mod rows;
mod spec;
mod stores;
