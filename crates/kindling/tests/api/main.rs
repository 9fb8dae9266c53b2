//! The integration suite: real HTTP against `kindling_api::app` on SQLite and PostgreSQL.

mod account;
mod auth;
mod cli;
mod conventions;
mod helpers;
mod import;
mod items;
mod members;
mod merchants;
mod offers;
mod spec;
mod stores;
