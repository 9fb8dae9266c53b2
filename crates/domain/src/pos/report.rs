//! From the engine's per-bucket effects to the answer: each offer's portions per line and
//! the ticket's totals.

use super::apply::Touch;
use super::basket::{units_and_amount, Basket};
use super::evaluate::{Applied, Evaluation, LineResult, Outcome, Portion, Rejected};
use super::prorate::prorate_capped;
use super::{Candidate, Cents, Line, Reason};

/// Turns the per-bucket effects into per-line portions and totals.
pub(super) fn report(
    basket: &Basket<'_>,
    lines: &[Line],
    candidates: &[Candidate],
    order: &[usize],
    mut outcomes: Vec<Option<Outcome>>,
    subtotal: Cents,
) -> Evaluation {
    let mut ledger = Ledger {
        left: lines.iter().map(|l| units_and_amount(l).1).collect(),
        used: vec![0; lines.len()],
        rewarded: Vec::new(),
        qualifiers: Vec::new(),
    };
    let mut eval = Evaluation { subtotal, ..Evaluation::default() };
    eval.rejected.reserve(candidates.len());
    for &i in order {
        let c = &candidates[i];
        let outcome = outcomes[i].take().unwrap_or_else(|| Err((Reason::ExcludedByStacking, String::new())));
        match outcome {
            Err((reason, detail)) => {
                eval.rejected.push(Rejected { offer_id: c.offer_id, credential: c.credential.clone(), reason, detail })
            }
            Ok(effect) => {
                for touch in &effect.touches {
                    ledger.split(basket, lines, touch, effect.rewards_use_units);
                }
                let rewarded = portions(lines, std::mem::take(&mut ledger.rewarded));
                debug_assert_eq!(rewarded.iter().map(|p| p.amount).sum::<Cents>(), effect.amount);
                eval.applied.push(Applied {
                    offer_id: c.offer_id,
                    credential: c.credential.clone(),
                    amount: effect.amount,
                    applications: effect.applications,
                    rewarded,
                    qualifiers: portions(lines, std::mem::take(&mut ledger.qualifiers)),
                });
            }
        }
    }
    for (line, rest) in lines.iter().zip(ledger.left) {
        let amount = units_and_amount(line).1;
        debug_assert!((0..=amount).contains(&rest));
        eval.lines.push(LineResult { key: line.key.clone(), amount, discount: amount - rest });
    }
    eval.discount = eval.lines.iter().map(|l| l.discount).sum();
    eval.total = eval.subtotal - eval.discount;
    eval
}

/// Per line: what is left of its amount and how many of its units offers have used.
struct Ledger {
    left: Vec<Cents>,
    used: Vec<i64>,
    rewarded: Vec<(usize, Portion)>,
    qualifiers: Vec<(usize, Portion)>,
}

impl Ledger {
    /// Splits what an offer did to one bucket over the bucket's lines, keeping per line what
    /// the bucket keeps: qualifiers only from unused units and apart from the offer's
    /// rewarded units, no discount above what is left of the line. Units go by what each
    /// line has free, the discount by the units each line got (largest remainder, ties by
    /// line key).
    fn split(&mut self, basket: &Basket<'_>, lines: &[Line], touch: &Touch, rewards_use_units: bool) {
        let members = &basket.buckets[touch.bucket].lines;
        if let [l] = members[..] {
            // One line: it takes the bucket's figures as they are.
            let units = touch.fresh + touch.reused;
            self.used[l] += touch.qualifiers + if rewards_use_units { touch.fresh } else { 0 };
            self.left[l] -= touch.amount;
            self.push(lines, l, units, touch.amount, touch.qualifiers);
            return;
        }
        let before: Vec<i64> = members.iter().map(|&l| self.used[l]).collect();
        let free: Vec<i64> = members.iter().zip(&before).map(|(&l, u)| units_and_amount(&lines[l]).0 - u).collect();
        let minus = |a: &[i64], b: &[i64]| a.iter().zip(b).map(|(x, y)| x - y).collect::<Vec<i64>>();
        let (fresh, qualifiers) = if rewards_use_units {
            let fresh = prorate_capped(touch.fresh, &free, &free);
            let rest = minus(&free, &fresh);
            let qualifiers = prorate_capped(touch.qualifiers, &rest, &rest);
            (fresh, qualifiers)
        } else {
            let qualifiers = prorate_capped(touch.qualifiers, &free, &free);
            let rest = minus(&free, &qualifiers);
            (prorate_capped(touch.fresh, &rest, &rest), qualifiers)
        };
        let reused = prorate_capped(touch.reused, &before, &before);
        let units: Vec<i64> = fresh.iter().zip(&reused).map(|(f, r)| f + r).collect();
        let caps: Vec<Cents> = members.iter().map(|&l| self.left[l]).collect();
        let amounts = prorate_capped(touch.amount, &units, &caps);
        for (k, &l) in members.iter().enumerate() {
            self.used[l] += qualifiers[k] + if rewards_use_units { fresh[k] } else { 0 };
            self.left[l] -= amounts[k];
            self.push(lines, l, units[k], amounts[k], qualifiers[k]);
        }
    }

    fn push(&mut self, lines: &[Line], l: usize, units: i64, amount: Cents, qualifiers: i64) {
        let line = || lines[l].key.clone();
        if units > 0 || amount > 0 {
            self.rewarded.push((l, Portion { line: line(), units, amount }));
        }
        if qualifiers > 0 {
            self.qualifiers.push((l, Portion { line: line(), units: qualifiers, amount: 0 }));
        }
    }
}

fn portions(lines: &[Line], mut parts: Vec<(usize, Portion)>) -> Vec<Portion> {
    parts.sort_by(|a, b| lines[a.0].key.cmp(&lines[b.0].key).then(a.0.cmp(&b.0)));
    parts.into_iter().map(|(_, p)| p).collect()
}
