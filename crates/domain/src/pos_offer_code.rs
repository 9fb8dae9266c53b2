//! POS offer codes: the codes an account's point of sale applies. The spec has no call to
//! create one: an offer's or campaign's `pos_offer_code` registers it (see the store's
//! `pos_offer_codes::register`).

use crate::{AccountId, PosOfferCodeId};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PosOfferCode {
    pub id: PosOfferCodeId,
    pub account_id: AccountId,
    pub code: String,
    /// The name of the offer whose offer or campaign first carried the code.
    pub description: String,
}

/// The code an offer or campaign write registers: none for an absent, null or blank one.
pub fn registrable(code: Option<&str>) -> Option<&str> {
    code.filter(|c| !c.trim().is_empty())
}
