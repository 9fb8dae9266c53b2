//! Engine tests: the research file's vectors re-expressed as fixtures, the guide's burger
//! offer, stacking, and property tests for the allocation invariants.

mod props;
mod rules;
mod vectors;

use super::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

pub(super) fn line(key: &str, code: &str, quantity: i64, unit: Cents) -> Line {
    Line {
        key: key.into(),
        item_code: code.into(),
        category: None,
        quantity,
        amount: quantity * unit,
        discountable: true,
    }
}

pub(super) fn codes(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|c| c.to_string()).collect()
}

pub(super) fn criteria(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// A rule from the offer's columns, as the store builds it.
pub(super) fn rule(offer_type: i64, criteria: Value, f: impl FnOnce(&mut RuleInput<'_>)) -> Rule {
    rule_with(offer_type, criteria, json!({}), f)
}

/// The same with the offer's `formatting`.
pub(super) fn rule_with(
    offer_type: i64,
    criteria: Value,
    formatting: Value,
    f: impl FnOnce(&mut RuleInput<'_>),
) -> Rule {
    let (c, fmt) = (self::criteria(criteria), self::criteria(formatting));
    let mut input = RuleInput { offer_type, criteria: Some(&c), formatting: Some(&fmt), ..RuleInput::default() };
    f(&mut input);
    rule::build(&input).expect("valid rule")
}

pub(super) fn offer(offer_id: i64, rule: Rule) -> Candidate {
    Candidate { offer_id, credential: Some(format!("CODE{offer_id}")), rule }
}

pub(super) fn run(lines: &[Line], candidates: &[Candidate]) -> Evaluation {
    evaluate(lines, candidates, &Policy::default())
}

pub(super) fn line_discounts(e: &Evaluation) -> Vec<Cents> {
    e.lines.iter().map(|l| l.discount).collect()
}

pub(super) fn applied(e: &Evaluation, offer_id: i64) -> &Applied {
    e.applied.iter().find(|a| a.offer_id == offer_id).unwrap_or_else(|| panic!("offer {offer_id} not applied: {e:#?}"))
}

pub(super) fn rejected(e: &Evaluation, offer_id: i64) -> &Rejected {
    e.rejected
        .iter()
        .find(|a| a.offer_id == offer_id)
        .unwrap_or_else(|| panic!("offer {offer_id} not rejected: {e:#?}"))
}
