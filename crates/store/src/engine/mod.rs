//! The offer engine's member-facing records (issue #11): zidentifiers, store check-ins,
//! loyalty points, and the activity feeds read from what credential writes record.

pub mod activities;
pub mod check_ins;
pub mod points;
pub mod zidentifiers;
