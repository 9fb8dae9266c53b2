//! Offers and how they are distributed: status lifecycle, the active window, formatting,
//! channels (and offer×channel "eligible channels", also seen as campaigns), member lists,
//! and which stores an offer applies at.

pub mod campaign;
pub mod channel;
pub mod eligibility;
pub mod formatting;
pub mod geo;
pub mod member_list;
pub mod offer;
pub mod rule_check;
pub mod status;
