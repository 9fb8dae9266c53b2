//! Background work that must survive restarts: it lives in database tables (the outbox)
//! and is picked up by whichever server process polls first.

pub mod addresses;
pub mod callbacks;
