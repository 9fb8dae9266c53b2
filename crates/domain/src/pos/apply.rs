//! One offer on the current state: `check` finds the first failed rule without changing
//! anything, `commit` picks the units and takes the discount off them.

use super::basket::{put_back, remaining, take, unused, Basket, Segment, State};
use super::prorate::{percent_of, prorate};
use super::{BasketValue, Cents, ItemMatch, Reason, Reward, Rounding, Rule, Select, UnitValue};
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
    fn touch(&mut self, bucket: usize) -> &mut Touch {
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
    targets: Cow<'a, [usize]>,
    /// Buckets whose units may qualify, in bucket order.
    qualifying: Cow<'a, [usize]>,
    /// Qualifier units per application.
    per_qualify: i64,
    applications: i64,
    /// Reward units in all (items rewards).
    reward_units: i64,
    /// Qualifier units in all.
    qualify_units: i64,
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

/// "none of FRIES-M is in the basket".
fn none_of(m: &ItemMatch) -> String {
    match m {
        ItemMatch::Any => "no line of the ticket can be discounted".to_owned(),
        m => words(|o| o.push_str("none of "), m, " is in the basket"),
    }
}

/// "requires 2 of BURGER" and `suffix`.
fn requires(rule: &Rule, suffix: &str) -> String {
    match &rule.requires {
        Some((m, n)) => words(|o| count_of(o, "requires ", i64::from(*n)), m, suffix),
        None => format!("requires more items{suffix}"),
    }
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
pub(super) fn dry_amount(rule: &Rule, plan: &Plan<'_>, state: &State, rounding: Rounding) -> Option<Cents> {
    if plan.qualify_units > 0 {
        return None;
    }
    let base = || plan.targets.iter().map(|&b| remaining(&state[b])).sum::<Cents>();
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

/// Cents as the cashier reads them: 1234 → "12.34".
pub(super) fn money(c: Cents) -> String {
    let sign = if c < 0 { "-" } else { "" };
    let c = c.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// "requires 2 of " without the formatting machinery (thousands of rejections per ticket).
fn count_of(out: &mut String, verb: &str, n: i64) {
    out.push_str(verb);
    let mut digits = [0u8; 20];
    let (mut n, mut at) = (n.unsigned_abs(), digits.len());
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[at..].iter().for_each(|d| out.push(char::from(*d)));
    out.push_str(" of ");
}

/// `head` (written by the closure) followed by an item match in words (up to three codes)
/// and `suffix`, in one allocation.
pub(super) fn words(head: impl FnOnce(&mut String), m: &ItemMatch, suffix: &str) -> String {
    let mut out = String::with_capacity(48 + suffix.len());
    head(&mut out);
    match m {
        ItemMatch::Any => out.push_str("any item"),
        ItemMatch::Codes(codes) if codes.is_empty() => out.push_str("no item"),
        ItemMatch::Codes(codes) => {
            for (k, code) in codes.iter().take(3).enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                out.push_str(code);
            }
            if codes.len() > 3 {
                out.push_str(", …");
            }
        }
    }
    out.push_str(suffix);
    out
}
