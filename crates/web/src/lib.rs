//! Kindling's web pages, server-rendered: the landing page of every offer × channel `xid`
//! (`GET /{xid}`), which shows the offer and hands the visitor a code (docs/LANDING.md), and
//! the Admin Portal under `/admin` (`portal`, docs/PORTAL.md).

// Unsafe code lives only in store::shm; here it cannot be allowed.
#![forbid(unsafe_code)]

mod codes;
pub mod hashing;
mod landing;
mod page;
pub mod portal;
mod render;

pub use landing::{landing, WebState, VISITOR_COOKIE};
