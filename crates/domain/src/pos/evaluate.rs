//! Evaluating a ticket: which candidate offers apply, to which lines, for how much.

use super::{Candidate, Cents, Line, Policy, Reason};

/// Part of a line an offer used: `amount` is the discount on it (0 for qualifiers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portion {
    pub line: String,
    pub units: i64,
    pub amount: Cents,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub offer_id: i64,
    pub credential: Option<String>,
    /// Total discount of this offer; equals the sum of `rewarded` amounts.
    pub amount: Cents,
    pub applications: u32,
    pub rewarded: Vec<Portion>,
    pub qualifiers: Vec<Portion>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub offer_id: i64,
    pub credential: Option<String>,
    pub reason: Reason,
    /// Words for the cashier, e.g. "requires 1 of Burger".
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineResult {
    pub key: String,
    pub amount: Cents,
    pub discount: Cents,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evaluation {
    pub applied: Vec<Applied>,
    pub rejected: Vec<Rejected>,
    pub lines: Vec<LineResult>,
    pub subtotal: Cents,
    pub discount: Cents,
    pub total: Cents,
}

/// Evaluates `candidates` against the ticket's `lines`.
pub fn evaluate(_lines: &[Line], _candidates: &[Candidate], _policy: &Policy) -> Evaluation {
    unimplemented!("engine: filled in by the pos-engine work")
}
