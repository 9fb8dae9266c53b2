//! Background work that must survive restarts: it lives in database tables (the callback
//! outbox, member deletion requests) and is picked up by whichever server process polls first;
//! and the retention job, which deletes what is kept only for a while.

// Unsafe code lives only in store::shm; here it cannot be allowed.
#![forbid(unsafe_code)]

pub mod addresses;
pub mod callbacks;
pub mod clock;
pub mod privacy;
pub mod retention;
