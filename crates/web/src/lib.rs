//! Kindling's web pages, server-rendered: the landing page of every offer × channel `xid`
//! (`GET /{xid}`), which shows the offer and hands the visitor a code. See docs/LANDING.md.

mod codes;
mod landing;
mod render;

pub use landing::{landing, WebState, VISITOR_COOKIE};
