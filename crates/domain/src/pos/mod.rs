//! The point-of-sale engine: offer rules, basket evaluation, allocation and stacking.
//! Pure: the store hands in the basket and the candidate offers with their rules, the
//! engine answers which discounts apply to which lines and why the others do not.
//! Money is integer cents (`i64`) everywhere; see docs/POS.md for every decision.

mod apply;
mod basket;
mod commit;
mod criteria;
mod detail;
pub mod evaluate;
pub mod prorate;
pub mod reason;
mod report;
pub mod rule;
#[cfg(test)]
mod tests;

pub use evaluate::{evaluate, Applied, Evaluation, LineResult, Portion, Rejected};
pub use reason::Reason;
pub use rule::{
    BasketValue, GroupMode, ItemMatch, Level, OfferType, Reward, Rule, RuleError, RuleInput, Select, Stacking,
    UnitValue,
};

/// Money in minor units.
pub type Cents = i64;

/// How a percentage is rounded to a cent: once per line (never per unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rounding {
    #[default]
    HalfUp,
    HalfEven,
}

/// One line of the ticket as the engine sees it (voided lines are dropped before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The POS's line reference (`ln`, else `entry_id`); stable tie-break key.
    pub key: String,
    pub item_code: String,
    pub category: Option<String>,
    /// Units on the line (≥ 1).
    pub quantity: i64,
    /// Extended amount (quantity × unit price) in cents, before any discount (≥ 0).
    pub amount: Cents,
    /// `false` for lines that must never be discounted (they still count toward spend).
    pub discountable: bool,
}

/// An offer offered to the engine for this ticket, with the code that brought it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub offer_id: i64,
    /// The credential (or wallet state) identifier that brought the offer, if any.
    pub credential: Option<String>,
    pub rule: Rule,
}

/// Account-level settings for an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub rounding: Rounding,
    /// At most this many offers are applied to one ticket (the rest: `ExcludedByStacking`).
    pub max_applied: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self { rounding: Rounding::HalfUp, max_applied: 10 }
    }
}
