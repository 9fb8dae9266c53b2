//! One offer on the current state: `check` finds the first failed rule without changing
//! anything and plans how often the offer applies; `commit` (in commit.rs) picks the units
//! and takes the discount off them.

use super::basket::{unused, Basket, State};
use super::detail::{count_of, money, none_of, requires, words};
use super::{Cents, ItemMatch, Reason, Reward, Rule};
use std::borrow::Cow;

/// What an offer did to one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Touch {
    pub bucket: usize,
    /// Rewarded units no offer had used before.
    pub fresh: i64,
    /// Rewarded units an earlier offer had used (as qualifier or reward).
    pub reused: i64,
    pub amount: Cents,
    pub qualifiers: i64,
}

/// What an offer did, per bucket.
#[derive(Debug, Clone, Default)]
pub(super) struct Effect {
    pub amount: Cents,
    pub applications: u32,
    /// In bucket order.
    pub touches: Vec<Touch>,
    /// Item rewards use their units up (they cannot qualify later offers); a basket or
    /// stored-value reward does not.
    pub rewards_use_units: bool,
}

impl Effect {
    pub fn touch(&mut self, bucket: usize) -> &mut Touch {
        let at = match self.touches.binary_search_by_key(&bucket, |t| t.bucket) {
            Ok(at) => at,
            Err(at) => {
                self.touches.insert(at, Touch { bucket, ..Touch::default() });
                at
            }
        };
        &mut self.touches[at]
    }
}

/// The first failed rule and the cashier's words for it.
pub(super) type Refusal = (Reason, String);

/// What `check` found: the buckets involved and how many times the offer applies.
pub(super) struct Plan<'a> {
    /// Buckets whose units may be rewarded (discountable and matching), in bucket order.
    pub targets: Cow<'a, [usize]>,
    /// Buckets whose units may qualify, in bucket order.
    pub qualifying: Cow<'a, [usize]>,
    /// Qualifier units per application.
    pub per_qualify: i64,
    pub applications: i64,
    /// Reward units in all (items rewards).
    pub reward_units: i64,
    /// Qualifier units in all.
    pub qualify_units: i64,
}

pub(super) fn check<'a>(basket: &'a Basket<'_>, rule: &Rule, state: &State, spend: Cents) -> Result<Plan<'a>, Refusal> {
    if let Some(min) = rule.min_spend {
        if spend < min {
            let detail = format!("needs a spend of {}, the ticket is at {}", money(min), money(spend));
            return Err((Reason::SpendBelowThreshold, detail));
        }
    }
    let (qualifying, per_qualify) = match &rule.requires {
        Some((m, n)) => (basket.matching(m, false), i64::from(*n)),
        None => (Cow::Borrowed(&[][..]), 0),
    };
    let can_qualify: i64 = qualifying.iter().map(|&b| unused(&state[b])).sum();
    if can_qualify < per_qualify {
        return Err((Reason::RequiredItemsMissing, requires(rule, "")));
    }
    let mut plan = Plan {
        targets: Cow::Borrowed(&[]),
        qualifying,
        per_qualify,
        applications: 1,
        reward_units: 0,
        qualify_units: per_qualify,
    };
    match &rule.reward {
        Reward::PosDefined => {}
        Reward::Basket { eligible, .. } => {
            plan.targets = basket.matching(eligible, true);
            if plan.targets.is_empty() {
                return Err((Reason::NoEligibleItems, none_of(eligible)));
            }
        }
        Reward::StoredValue { balance } => {
            if *balance <= 0 {
                return Err((Reason::BalanceDepleted, "the balance is used up".to_owned()));
            }
            plan.targets = basket.matching(&ItemMatch::Any, true);
            if plan.targets.is_empty() {
                return Err((Reason::NoEligibleItems, none_of(&ItemMatch::Any)));
            }
        }
        Reward::Items { target, count, .. } => {
            plan.targets = basket.matching(target, true);
            plan_items(&mut plan, state, rule, *count).map_err(|r| match r {
                Short::Targets(0) => (Reason::NoEligibleItems, none_of(target)),
                Short::Targets(need) => (
                    Reason::NoEligibleItems,
                    words(|o| count_of(o, "rewards ", need), target, ", the basket has fewer"),
                ),
                Short::Qualifiers => (Reason::RequiredItemsMissing, requires(rule, " besides the rewarded items")),
            })?;
        }
    }
    Ok(plan)
}

enum Short {
    /// Fewer target units than one application rewards (0: none at all).
    Targets(i64),
    /// The qualifiers would have to be the rewarded units.
    Qualifiers,
}

/// How many applications fit, with rewarded and qualifying units disjoint.
fn plan_items(plan: &mut Plan<'_>, state: &State, rule: &Rule, count: Option<u32>) -> Result<(), Short> {
    // Units only rewardable, only qualifying, or either (unused, in both sets).
    let (mut t_only, mut both, mut q_only) = (0i64, 0i64, 0i64);
    for &b in plan.targets.iter() {
        if plan.qualifying.binary_search(&b).is_ok() {
            both += unused(&state[b]);
            t_only += state[b].iter().filter(|s| s.used).map(|s| s.units).sum::<i64>();
        } else {
            t_only += state[b].iter().map(|s| s.units).sum::<i64>();
        }
    }
    for &b in plan.qualifying.iter() {
        if plan.targets.binary_search(&b).is_err() {
            q_only += unused(&state[b]);
        }
    }
    if t_only + both == 0 {
        return Err(Short::Targets(0));
    }
    let q = plan.per_qualify;
    let Some(c) = count.map(|c| i64::from(c.max(1))) else {
        // Every target unit not needed as a qualifier, once.
        let rewards = t_only + both - (q - q_only).max(0);
        if rewards <= 0 {
            return Err(Short::Qualifiers);
        }
        plan.reward_units = rewards;
        return Ok(());
    };
    if t_only + both < c {
        return Err(Short::Targets(c));
    }
    let fits = |k: i64| {
        let (k, c, q) = (i128::from(k), i128::from(c), i128::from(q));
        (k * c - i128::from(t_only)).max(0) + (k * q - i128::from(q_only)).max(0) <= i128::from(both)
    };
    let mut hi = (t_only + both) / c;
    if q > 0 {
        hi = hi.min((q_only + both) / q);
    }
    if let Some(r) = rule.repeat {
        hi = hi.min(i64::from(r));
    }
    let mut lo = 0;
    while lo < hi {
        let mid = lo + (hi - lo + 1) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    if lo == 0 {
        return Err(Short::Qualifiers);
    }
    plan.applications = lo;
    plan.reward_units = lo * c;
    plan.qualify_units = lo * q;
    Ok(())
}
