//! The point of sale (CTM): showing a ticket its discounts, holding codes for it, settling
//! it into redemptions, and reading or voiding it afterwards. The engine
//! (`kindling_domain::pos`) decides the discounts; this module gathers what it needs and
//! writes what it decided, each call in one transaction.

pub mod candidates;
pub mod holds;
pub mod settle;
pub mod ticket;
pub mod transactions;

pub use candidates::{CodeFacts, Considered, OfferInfo, PresentedCode, WalletState};
pub use holds::{allocate, deallocate, Held};
pub use settle::{settle, show, Settled, Settlement, Shown, TicketFacts, TicketItem};
pub use ticket::{record_qitems, sites, Site, SiteRow, TicketKey};
pub use transactions::{transaction, void, TransactionView};

use crate::StoreError;
use kindling_domain::pos::Reason;

/// Why a point-of-sale call was refused.
#[derive(Debug)]
pub enum PosError {
    /// A rule refused the code or offer (422 with the reason).
    Refused(Reason, String),
    /// The request cannot be served as asked (422).
    Invalid(String),
    /// The ticket was settled with a different request (422).
    Closed,
    /// No store of the account has this `site_id` (404, as any unknown path resource).
    UnknownSite(String),
    NotFound,
    Store(StoreError),
}

impl From<StoreError> for PosError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}
