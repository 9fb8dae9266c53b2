//! Handlers grouped by resource, named after the spec's operationIds.

pub mod account;
pub mod catalog;
pub mod counters;
pub mod credentials;
pub mod ctm;
pub mod engine;
pub mod health;
pub mod impressions;
pub mod issuance;
pub mod members;
pub mod offer_states;
pub mod offers;
pub mod pos_offer_codes;
pub mod privacy;
pub mod reports;
