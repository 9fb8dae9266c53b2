//! Background work that must survive restarts: it lives in database tables (the callback
//! outbox, member deletion requests) and is picked up by whichever server process polls first.

pub mod addresses;
pub mod callbacks;
pub mod privacy;
