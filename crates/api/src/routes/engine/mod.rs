//! The offer engine's member-facing operations (issue #11): zidentifiers, store check-ins,
//! activity feeds and loyalty points.

pub mod activities;
pub mod check_ins;
pub mod points;
pub mod zidentifiers;
