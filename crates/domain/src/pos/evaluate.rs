//! Evaluating a ticket: which candidate offers apply, to which lines, for how much.

use super::apply::{check, Effect, Refusal};
use super::basket::{units_and_amount, Basket, State};
use super::commit::{commit, dry_amount};
use super::detail::money;
use super::report::report;
use super::{Candidate, Cents, GroupMode, Level, Line, Policy, Reason};
use std::collections::BTreeMap;

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
///
/// Levels run in order (item, basket, tender); within a level offers run by priority (higher
/// first), then offer id, then credential, never by their position in `candidates`. Each
/// offer works on what the earlier ones left. See docs/POS.md ("Allocation", "Stacking").
pub fn evaluate(lines: &[Line], candidates: &[Candidate], policy: &Policy) -> Evaluation {
    let basket = Basket::new(lines);
    let mut state = basket.initial_state();
    let subtotal: Cents = lines.iter().map(|l| units_and_amount(l).1).sum();
    let order = evaluation_order(candidates);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; candidates.len()];
    let mut run = Run { basket: &basket, candidates, policy, applied: 0, spend: subtotal };
    for level in [Level::Item, Level::Basket, Level::Tender] {
        let members: Vec<usize> =
            order.iter().copied().filter(|&i| candidates[i].rule.stacking.level == level).collect();
        if members.is_empty() {
            continue;
        }
        if level != Level::Item {
            // Minimum spends above the item level see the ticket after item-level discounts.
            run.spend = state.remaining();
        }
        run.level(&members, &mut state, &mut outcomes);
    }
    report(&basket, lines, candidates, &order, outcomes, subtotal)
}

pub(super) type Outcome = Result<Effect, Refusal>;

/// Candidates by level, priority (higher first), offer id, then credential. Level, priority,
/// offer id and position are packed into one integer (2 + 32 + 64 + 30 bits) so that sorting
/// thousands of offers stays cheap.
fn evaluation_order(candidates: &[Candidate]) -> Vec<usize> {
    const POSITION: u32 = 30;
    if candidates.len() >= 1 << POSITION {
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by_key(|&i| {
            let c = &candidates[i];
            (c.rule.stacking.level, std::cmp::Reverse(c.rule.stacking.priority), c.offer_id, &c.credential, i)
        });
        return order;
    }
    let key = |c: &Candidate| {
        let s = &c.rule.stacking;
        let level = s.level as u128;
        // Order-preserving maps to unsigned (flip the sign bit); priority inverted (higher first).
        let priority = u128::from(!((s.priority as u32) ^ (1 << 31)));
        let id = u128::from(c.offer_id as u64 ^ (1 << 63));
        (level << 96 | priority << 64 | id) << POSITION
    };
    let mut keys: Vec<u128> = candidates.iter().enumerate().map(|(i, c)| key(c) | i as u128).collect();
    keys.sort_unstable();
    let position = |k: u128| (k & ((1 << POSITION) - 1)) as usize;
    // The same offer brought by several credentials: by credential, then position.
    let mut start = 0;
    while start < keys.len() {
        let offer = keys[start] >> POSITION;
        let end = start + keys[start..].iter().take_while(|k| *k >> POSITION == offer).count();
        if end - start > 1 {
            keys[start..end].sort_by(|a, b| {
                let (a, b) = (position(*a), position(*b));
                candidates[a].credential.cmp(&candidates[b].credential).then(a.cmp(&b))
            });
        }
        start = end;
    }
    keys.into_iter().map(position).collect()
}

struct Run<'a, 'b> {
    basket: &'a Basket<'b>,
    candidates: &'a [Candidate],
    policy: &'a Policy,
    /// Offers applied so far on the ticket.
    applied: usize,
    /// What minimum spends are measured against at this level.
    spend: Cents,
}

impl Run<'_, '_> {
    /// Resolves one level: best-deal groups, then exclusive offers against the rest.
    fn level(&mut self, members: &[usize], state: &mut State, out: &mut [Option<Outcome>]) {
        let mut decided = vec![false; self.candidates.len()];
        self.best_deal_groups(members, state, out, &mut decided);
        let (exclusive, stacked): (Vec<usize>, Vec<usize>) =
            members.iter().copied().filter(|&i| !decided[i]).partition(|&i| self.candidates[i].rule.stacking.exclusive);
        if exclusive.is_empty() {
            self.applied += self.sequence(&stacked, state, self.applied, out).0;
            return;
        }
        // The stacked offers together are one option; each exclusive offer alone is another.
        let mut trial = state.clone();
        let (stacked_applied, stacked_total) = self.sequence(&stacked, &mut trial, self.applied, out);
        let applied_ids = |out: &[Option<Outcome>]| -> Vec<i64> {
            stacked.iter().filter(|&&i| matches!(out[i], Some(Ok(_)))).map(|&i| self.candidates[i].offer_id).collect()
        };
        let mut best: Option<(Cents, i64, Option<usize>)> =
            applied_ids(out).into_iter().min().map(|id| (stacked_total, id, None));
        let mut alone: Vec<usize> = Vec::new();
        let mut any_base = None;
        for &x in &exclusive {
            match self.value_alone(x, state, &mut any_base) {
                Err(refusal) => out[x] = Some(Err(refusal)),
                Ok(amount) => {
                    let id = self.candidates[x].offer_id;
                    if best.is_none_or(|(best_amount, best_id, _)| (amount, -id) > (best_amount, -best_id)) {
                        best = Some((amount, id, Some(x)));
                    }
                    alone.push(x);
                }
            }
        }
        match best {
            Some((amount, id, Some(winner))) => {
                let why = format!("exclusive offer {id} is worth more ({})", money(amount));
                for &i in stacked.iter().chain(&alone) {
                    if i != winner && !matches!(out[i], Some(Err(_))) {
                        out[i] = Some(Err((Reason::ExcludedByStacking, why.clone())));
                    }
                }
                // Applied for real on the level's state: the same answer as its trial.
                self.applied += self.sequence(&[winner], state, self.applied, out).0;
            }
            _ => {
                if !alone.is_empty() {
                    let ids: Vec<String> = applied_ids(out).iter().map(i64::to_string).collect();
                    let why = format!("offers {} together are worth more ({})", ids.join(", "), money(stacked_total));
                    for x in alone {
                        out[x] = Some(Err((Reason::ExcludedByStacking, why.clone())));
                    }
                }
                *state = trial;
                self.applied += stacked_applied;
            }
        }
    }

    /// In each best-deal group only the offer worth most alone (ties: lower offer id) stays.
    fn best_deal_groups(&self, members: &[usize], state: &State, out: &mut [Option<Outcome>], decided: &mut [bool]) {
        let mut any_base = None;
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in members {
            if let Some(g) = &self.candidates[i].rule.stacking.group {
                groups.entry(g.as_str()).or_default().push(i);
            }
        }
        for (name, group) in groups {
            let best_deal = group.iter().any(|&i| self.candidates[i].rule.stacking.mode == GroupMode::BestDeal);
            if !best_deal || group.len() < 2 {
                continue;
            }
            let mut contenders: Vec<(usize, Cents)> = Vec::new();
            for &i in &group {
                match self.value_alone(i, state, &mut any_base) {
                    Err(refusal) => {
                        out[i] = Some(Err(refusal));
                        decided[i] = true;
                    }
                    Ok(amount) => contenders.push((i, amount)),
                }
            }
            let id = |i: usize| self.candidates[i].offer_id;
            let Some(&(winner, amount)) =
                contenders.iter().min_by(|a, b| b.1.cmp(&a.1).then(id(a.0).cmp(&id(b.0))).then(a.0.cmp(&b.0)))
            else {
                continue;
            };
            let why = format!("the best deal in group {name} is offer {} ({})", id(winner), money(amount));
            for (i, _) in contenders {
                if i != winner {
                    out[i] = Some(Err((Reason::ExcludedByStacking, why.clone())));
                    decided[i] = true;
                }
            }
        }
    }

    /// The discount one offer would give alone on `state` (unchanged).
    fn value_alone(&self, i: usize, state: &State, any_base: &mut Option<Cents>) -> Result<Cents, Refusal> {
        let rule = &self.candidates[i].rule;
        let plan = check(self.basket, rule, state, self.spend)?;
        if self.applied >= self.policy.max_applied {
            return Err(self.too_many());
        }
        if let Some(amount) = dry_amount(rule, &plan, state, self.policy.rounding, any_base) {
            return Ok(amount);
        }
        let mut copy = state.clone();
        Ok(commit(rule, plan, &mut copy, self.policy.rounding).amount)
    }

    /// Offers one after the other on `state`, their outcomes written to `out`; returns how
    /// many applied and their total discount.
    fn sequence(
        &self,
        members: &[usize],
        state: &mut State,
        mut applied: usize,
        out: &mut [Option<Outcome>],
    ) -> (usize, Cents) {
        let (mut count, mut total) = (0, 0);
        for &i in members {
            let rule = &self.candidates[i].rule;
            let outcome = check(self.basket, rule, state, self.spend).and_then(|plan| {
                if applied >= self.policy.max_applied {
                    return Err(self.too_many());
                }
                applied += 1;
                count += 1;
                let effect = commit(rule, plan, state, self.policy.rounding);
                total += effect.amount;
                Ok(effect)
            });
            out[i] = Some(outcome);
        }
        (count, total)
    }

    fn too_many(&self) -> Refusal {
        (Reason::ExcludedByStacking, format!("at most {} offers apply to one ticket", self.policy.max_applied))
    }
}
