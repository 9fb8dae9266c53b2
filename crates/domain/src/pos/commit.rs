//! Applying a checked offer: reward units first, then qualifiers, then the discount off what
//! is left of them.

use super::apply::{Effect, Plan};
use super::basket::{put_back, remaining, take, unused, Segment, State};
use super::prorate::{percent_of, prorate};
use super::{BasketValue, Cents, ItemMatch, Reward, Rounding, Rule, Select, UnitValue};

/// Applies `rule` as `plan` says on `state`.
pub(super) fn commit(rule: &Rule, plan: Plan<'_>, state: &mut State, rounding: Rounding) -> Effect {
    let mut effect = Effect { applications: u32::try_from(plan.applications).unwrap_or(u32::MAX), ..Effect::default() };
    match &rule.reward {
        Reward::PosDefined => {
            let qualifiers = take_qualifiers(&plan, state);
            put_qualifiers(qualifiers, state, &mut effect);
        }
        Reward::Items { value, .. } => {
            effect.rewards_use_units = true;
            let rewards = take_rewards(&plan, state, rule.select);
            let qualifiers = take_qualifiers(&plan, state);
            put_qualifiers(qualifiers, state, &mut effect);
            let mut discounts: Vec<Vec<Cents>> =
                rewards.iter().map(|(_, segs)| unit_discounts(segs, *value, rounding)).collect();
            let total: Cents = discounts.iter().flatten().sum();
            if let Some(cap) = rule.max_amount.filter(|cap| *cap < total) {
                cap_discounts(&mut discounts, cap);
            }
            for ((b, mut segs), ds) in rewards.into_iter().zip(discounts) {
                let t = effect.touch(b);
                for (s, d) in segs.iter_mut().zip(ds) {
                    if s.used {
                        t.reused += s.units;
                    } else {
                        t.fresh += s.units;
                    }
                    t.amount += d;
                    s.rem -= d;
                    s.used = true;
                }
                effect.amount += t.amount;
                put_back(state.bucket(b), segs);
            }
        }
        Reward::Basket { value, .. } => {
            // The offer's own qualifiers are out of the state while it spreads, so they are
            // not rewarded by it.
            let qualifiers = take_qualifiers(&plan, state);
            let base: Cents = plan.targets.iter().map(|&b| remaining(&state[b])).sum();
            let wanted = match value {
                BasketValue::Amount(a) => (*a).min(base),
                BasketValue::Percent(bp) => percent_of(base, (*bp).min(10_000), rounding),
            };
            spread(&plan.targets, wanted.min(rule.max_amount.unwrap_or(Cents::MAX)), state, &mut effect);
            put_qualifiers(qualifiers, state, &mut effect);
        }
        Reward::StoredValue { balance } => {
            let qualifiers = take_qualifiers(&plan, state);
            let base: Cents = plan.targets.iter().map(|&b| remaining(&state[b])).sum();
            let wanted = (*balance).min(base).min(rule.max_amount.unwrap_or(Cents::MAX));
            spread(&plan.targets, wanted, state, &mut effect);
            put_qualifiers(qualifiers, state, &mut effect);
        }
    }
    effect
}

/// The discount `commit` would give, without changing anything, where that is cheap to
/// know: a basket or stored-value reward with no qualifiers to set aside.
/// `any_base` remembers what is left of all the discountable lines between calls on the
/// same state (offers on every line are common and each would sum every bucket).
pub(super) fn dry_amount(
    rule: &Rule,
    plan: &Plan<'_>,
    state: &State,
    rounding: Rounding,
    any_base: &mut Option<Cents>,
) -> Option<Cents> {
    if plan.qualify_units > 0 {
        return None;
    }
    let on_every_line =
        matches!(rule.reward, Reward::Basket { eligible: ItemMatch::Any, .. } | Reward::StoredValue { .. });
    let mut base = || {
        let sum = || plan.targets.iter().map(|&b| remaining(&state[b])).sum::<Cents>();
        if on_every_line {
            *any_base.get_or_insert_with(sum)
        } else {
            sum()
        }
    };
    let cap = rule.max_amount.unwrap_or(Cents::MAX);
    match &rule.reward {
        Reward::PosDefined => Some(0),
        Reward::Basket { value: BasketValue::Amount(a), .. } => Some((*a).min(base()).min(cap).max(0)),
        Reward::Basket { value: BasketValue::Percent(bp), .. } => {
            Some(percent_of(base(), (*bp).min(10_000), rounding).min(cap).max(0))
        }
        Reward::StoredValue { balance } => Some((*balance).min(base()).min(cap).max(0)),
        Reward::Items { .. } => None,
    }
}

/// Marks the taken qualifiers used and puts them back.
fn put_qualifiers(qualifiers: Vec<(usize, Vec<Segment>)>, state: &mut State, effect: &mut Effect) {
    for (b, mut segs) in qualifiers {
        let units: i64 = segs.iter().map(|s| s.units).sum();
        segs.iter_mut().for_each(|s| s.used = true);
        put_back(state.bucket(b), segs);
        effect.touch(b).qualifiers += units;
    }
}

/// Reward units first, by `select`; units both sets share are left for qualifiers as needed.
fn take_rewards(plan: &Plan<'_>, state: &mut State, select: Select) -> Vec<(usize, Vec<Segment>)> {
    let q_only: i64 =
        plan.qualifying.iter().filter(|b| plan.targets.binary_search(b).is_err()).map(|&b| unused(&state[b])).sum();
    let mut shared_budget = {
        let shared: i64 =
            plan.targets.iter().filter(|b| plan.qualifying.binary_search(b).is_ok()).map(|&b| unused(&state[b])).sum();
        shared - (plan.qualify_units - q_only).max(0)
    };
    let order: Box<dyn Iterator<Item = &usize>> = match select {
        Select::Cheapest => Box::new(plan.targets.iter()),
        Select::MostExpensive => Box::new(plan.targets.iter().rev()),
    };
    let mut need = plan.reward_units;
    let mut out = Vec::new();
    for &b in order {
        if need == 0 {
            break;
        }
        let segs = state.bucket(b);
        let mut taken = if plan.qualifying.binary_search(&b).is_ok() {
            // Units that cannot qualify anyway go first.
            let mut t = take(segs, need, |s| s.used);
            let got: i64 = t.iter().map(|s| s.units).sum();
            let more = take(segs, (need - got).min(shared_budget.max(0)), |s| !s.used);
            shared_budget -= more.iter().map(|s| s.units).sum::<i64>();
            t.extend(more);
            t
        } else {
            take(segs, need, |_| true)
        };
        taken.retain(|s| s.units > 0);
        let got: i64 = taken.iter().map(|s| s.units).sum();
        if got > 0 {
            need -= got;
            out.push((b, taken));
        }
    }
    out
}

/// Qualifiers from the unused units: units outside the reward's targets first, then the
/// most expensive, so the rewarded items stay available (Medusa #13431). They stay out of
/// the state until `put_qualifiers`.
fn take_qualifiers(plan: &Plan<'_>, state: &mut State) -> Vec<(usize, Vec<Segment>)> {
    let mut need = plan.qualify_units;
    let mut out = Vec::new();
    let (outside, inside): (Vec<usize>, Vec<usize>) =
        plan.qualifying.iter().rev().partition(|b| plan.targets.binary_search(b).is_err());
    for b in outside.into_iter().chain(inside) {
        if need == 0 {
            break;
        }
        let taken = take(state.bucket(b), need, |s| !s.used);
        let got: i64 = taken.iter().map(|s| s.units).sum();
        if got > 0 {
            need -= got;
            out.push((b, taken));
        }
    }
    out
}

/// The discount on each taken segment of one bucket; a percentage is rounded once for the
/// bucket and split over its segments.
fn unit_discounts(segs: &[Segment], value: UnitValue, rounding: Rounding) -> Vec<Cents> {
    let per_unit = |s: &Segment, v: Cents| i128::from(v) * i128::from(s.units);
    let clamp = |x: i128, s: &Segment| x.clamp(0, i128::from(s.rem)) as Cents;
    match value {
        UnitValue::Percent(bp) => {
            let base: Cents = segs.iter().map(|s| s.rem).sum();
            let d = percent_of(base, bp.min(10_000), rounding);
            prorate(d, &segs.iter().map(|s| s.rem).collect::<Vec<_>>())
        }
        UnitValue::Free => segs.iter().map(|s| s.rem).collect(),
        UnitValue::FreeUpTo(v) | UnitValue::AmountOff(v) => segs.iter().map(|s| clamp(per_unit(s, v), s)).collect(),
        UnitValue::FixedPrice(p) => segs.iter().map(|s| clamp(i128::from(s.rem) - per_unit(s, p), s)).collect(),
    }
}

/// Brings the discounts down to `cap` in all, re-apportioned by largest remainder.
fn cap_discounts(discounts: &mut [Vec<Cents>], cap: Cents) {
    let flat: Vec<Cents> = discounts.iter().flatten().copied().collect();
    let mut shares = prorate(cap.max(0), &flat).into_iter();
    for d in discounts.iter_mut().flatten() {
        *d = shares.next().unwrap_or(0);
    }
}

/// Spreads a basket-level `amount` over the `targets` by what is left of each (largest
/// remainder, ties by bucket order), then over each bucket's segments the same way.
fn spread(targets: &[usize], amount: Cents, state: &mut State, effect: &mut Effect) {
    let weights: Vec<Cents> = targets.iter().map(|&b| remaining(&state[b])).collect();
    let amount = amount.clamp(0, weights.iter().sum());
    for (&b, share) in targets.iter().zip(prorate(amount, &weights)) {
        if share > 0 {
            let segs = state.bucket(b);
            if let [only] = segs.as_mut_slice() {
                only.rem -= share;
            } else {
                let inner = prorate(share, &segs.iter().map(|s| s.rem).collect::<Vec<_>>());
                segs.iter_mut().zip(inner).for_each(|(s, d)| s.rem -= d);
                put_back(segs, []);
            }
        }
        let (mut fresh, mut reused) = (0, 0);
        for s in state[b].iter() {
            if s.used {
                reused += s.units;
            } else {
                fresh += s.units;
            }
        }
        let t = effect.touch(b);
        (t.fresh, t.reused, t.amount) = (fresh, reused, share);
        effect.amount += share;
    }
}
