//! The offer engine's member-facing records: zidentifiers (an offer's id for one member on
//! one channel), store check-ins and loyalty points.

pub mod check_in;
pub mod points;
pub mod zid;
