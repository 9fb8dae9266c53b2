//! Property tests for the allocation invariants (docs/POS.md, "Property tests"). The case
//! count is proptest's default (256) unless `PROPTEST_CASES` says otherwise.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const CODES: [&str; 4] = ["A", "B", "C", "D"];

/// (code, category?, quantity, unit price, discountable)
type Spec = (usize, bool, i64, Cents, bool);

fn spec(big: bool) -> impl Strategy<Value = Spec> {
    let quantity = if big { prop_oneof![1i64..6, 100_000i64..1_000_001].boxed() } else { (1i64..6).boxed() };
    (0..CODES.len(), any::<bool>(), quantity, prop_oneof![Just(0), 1i64..2_000], prop::bool::weighted(0.85))
}

fn lines_of(specs: &[Spec]) -> Vec<Line> {
    specs
        .iter()
        .enumerate()
        .map(|(i, &(code, cat, quantity, unit, discountable))| Line {
            key: format!("L{i:02}"),
            item_code: CODES[code].into(),
            category: cat.then(|| "food".into()),
            quantity,
            amount: quantity * unit,
            discountable,
        })
        .collect()
}

fn item_match() -> impl Strategy<Value = ItemMatch> {
    prop_oneof![
        1 => Just(ItemMatch::Any),
        3 => prop::collection::btree_set(prop::sample::select(CODES.to_vec()), 1..3)
            .prop_map(|s| ItemMatch::Codes(s.into_iter().map(String::from).collect())),
    ]
}

fn unit_value() -> impl Strategy<Value = UnitValue> {
    prop_oneof![
        Just(UnitValue::Free),
        (0i64..1_500).prop_map(UnitValue::FreeUpTo),
        (0u32..=10_000).prop_map(UnitValue::Percent),
        (0i64..1_500).prop_map(UnitValue::AmountOff),
        (0i64..1_500).prop_map(UnitValue::FixedPrice),
    ]
}

fn reward() -> impl Strategy<Value = Reward> {
    prop_oneof![
        1 => Just(Reward::PosDefined),
        5 => (item_match(), prop::option::of(1u32..4), unit_value())
            .prop_map(|(target, count, value)| Reward::Items { target, count, value }),
        3 => (item_match(), prop_oneof![(0i64..3_000).prop_map(BasketValue::Amount), (0u32..=10_000).prop_map(BasketValue::Percent)])
            .prop_map(|(eligible, value)| Reward::Basket { eligible, value }),
        1 => (0i64..5_000).prop_map(|balance| Reward::StoredValue { balance }),
    ]
}

fn stacking() -> impl Strategy<Value = Stacking> {
    (
        prop::sample::select(vec![Level::Item, Level::Basket, Level::Tender]),
        prop::option::of(prop::sample::select(vec!["g1", "g2"])),
        prop::bool::weighted(0.5),
        prop::bool::weighted(0.15),
        -2i32..3,
    )
        .prop_map(|(level, group, best, exclusive, priority)| Stacking {
            level,
            group: group.map(String::from),
            mode: if best { GroupMode::BestDeal } else { GroupMode::Stack },
            exclusive,
            priority,
        })
}

fn rule_strategy() -> impl Strategy<Value = Rule> {
    (
        reward(),
        prop::option::of((item_match(), 1u32..4)),
        prop::option::of(0i64..5_000),
        prop::option::of(0i64..3_000),
        prop::option::of(1u32..4),
        any::<bool>(),
        stacking(),
    )
        .prop_map(|(reward, requires, min_spend, max_amount, repeat, expensive, stacking)| Rule {
            offer_type: OfferType::ItemReward,
            min_spend,
            requires,
            reward,
            max_amount,
            repeat,
            select: if expensive { Select::MostExpensive } else { Select::Cheapest },
            stacking,
        })
}

fn candidates() -> impl Strategy<Value = Vec<Candidate>> {
    prop::collection::vec(rule_strategy(), 0..7).prop_map(|rules| {
        rules
            .into_iter()
            .enumerate()
            .map(|(i, rule)| Candidate { offer_id: 1 + i as i64, credential: Some(format!("C{i}")), rule })
            .collect()
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    (any::<bool>(), 1usize..6).prop_map(|(even, max_applied)| Policy {
        rounding: if even { Rounding::HalfEven } else { Rounding::HalfUp },
        max_applied,
    })
}

/// Every invariant of the allocation, on one evaluation.
fn check_invariants(lines: &[Line], candidates: &[Candidate], policy: &Policy, e: &Evaluation) {
    let by_key: BTreeMap<&str, &Line> = lines.iter().map(|l| (l.key.as_str(), l)).collect();
    assert_eq!(e.applied.len() + e.rejected.len(), candidates.len(), "every offer is answered");
    assert!(e.applied.len() <= policy.max_applied);
    let mut from_portions: BTreeMap<&str, Cents> = BTreeMap::new();
    let mut qualified: BTreeMap<&str, i64> = BTreeMap::new();
    for a in &e.applied {
        assert!(a.amount >= 0);
        assert_eq!(a.rewarded.iter().map(|p| p.amount).sum::<Cents>(), a.amount, "Σ allocations = amount");
        let mut units: BTreeMap<&str, i64> = BTreeMap::new();
        for p in &a.rewarded {
            assert!(p.amount >= 0 && p.units >= 0);
            assert!(by_key[p.line.as_str()].discountable || p.amount == 0, "non-discountable line rewarded");
            *from_portions.entry(&p.line).or_default() += p.amount;
            *units.entry(&p.line).or_default() += p.units;
        }
        for p in &a.qualifiers {
            assert!(p.units > 0 && p.amount == 0);
            *units.entry(&p.line).or_default() += p.units;
            *qualified.entry(&p.line).or_default() += p.units;
        }
        for (key, n) in units {
            assert!(n <= by_key[key].quantity, "offer {}: qualifiers and rewards overlap on {key}", a.offer_id);
        }
    }
    for (key, n) in qualified {
        assert!(n <= by_key[key].quantity, "a unit of {key} qualified twice");
    }
    for l in &e.lines {
        assert!(0 <= l.discount && l.discount <= l.amount, "line {} discount {} of {}", l.key, l.discount, l.amount);
        assert_eq!(from_portions.get(l.key.as_str()).copied().unwrap_or(0), l.discount);
    }
    assert_eq!(e.subtotal, lines.iter().map(|l| l.amount).sum::<Cents>());
    assert_eq!(e.discount, e.lines.iter().map(|l| l.discount).sum::<Cents>());
    assert_eq!(e.total, e.subtotal - e.discount);
    assert!(e.total >= 0);
}

/// Each applied offer (id, amount, applications), each rejected (id, reason), and per kind
/// of line its discount and qualifier units.
type Summary = (Vec<(i64, Cents, u32)>, Vec<(i64, Reason)>, BTreeMap<String, (Cents, i64)>);

/// What must not change when identical lines are split or merged.
fn summary(lines: &[Line], e: &Evaluation) -> Summary {
    let kind = |key: &str| {
        let l = lines.iter().find(|l| l.key == key).expect("line");
        format!("{}/{:?}/{}/{}", l.item_code, l.category, l.discountable, l.amount / l.quantity.max(1))
    };
    let mut per_kind: BTreeMap<String, (Cents, i64)> = BTreeMap::new();
    for l in &e.lines {
        per_kind.entry(kind(&l.key)).or_default().0 += l.discount;
    }
    for a in &e.applied {
        for p in &a.qualifiers {
            per_kind.entry(kind(&p.line)).or_default().1 += p.units;
        }
    }
    (
        e.applied.iter().map(|a| (a.offer_id, a.amount, a.applications)).collect(),
        e.rejected.iter().map(|r| (r.offer_id, r.reason)).collect(),
        per_kind,
    )
}

proptest! {
    #[test]
    fn allocation_invariants(specs in prop::collection::vec(spec(false), 0..8), cands in candidates(), policy in policy()) {
        let lines = lines_of(&specs);
        check_invariants(&lines, &cands, &policy, &evaluate(&lines, &cands, &policy));
    }

    #[test]
    fn large_quantities(specs in prop::collection::vec(spec(true), 1..6), cands in candidates(), policy in policy()) {
        let lines = lines_of(&specs);
        check_invariants(&lines, &cands, &policy, &evaluate(&lines, &cands, &policy));
    }

    #[test]
    fn amounts_that_do_not_divide_by_the_quantity(
        specs in prop::collection::vec(spec(false), 0..8),
        extra in prop::collection::vec(0i64..5, 8),
        cands in candidates(),
        policy in policy(),
    ) {
        let mut lines = lines_of(&specs);
        for (l, e) in lines.iter_mut().zip(extra) {
            l.amount += e.min(l.quantity - 1);
        }
        check_invariants(&lines, &cands, &policy, &evaluate(&lines, &cands, &policy));
    }

    #[test]
    fn independent_of_line_and_offer_order(
        (specs, shuffled) in prop::collection::vec(spec(false), 0..8).prop_flat_map(|s| {
            let order: Vec<usize> = (0..s.len()).collect();
            (Just(s), Just(order).prop_shuffle())
        }),
        (cands, cand_order) in candidates().prop_flat_map(|c| {
            let order: Vec<usize> = (0..c.len()).collect();
            (Just(c), Just(order).prop_shuffle())
        }),
        policy in policy(),
    ) {
        let lines = lines_of(&specs);
        let e = evaluate(&lines, &cands, &policy);
        let lines2: Vec<Line> = shuffled.iter().map(|&i| lines[i].clone()).collect();
        let cands2: Vec<Candidate> = cand_order.iter().map(|&i| cands[i].clone()).collect();
        let mut e2 = evaluate(&lines2, &cands2, &policy);
        e2.lines.sort_by(|a, b| a.key.cmp(&b.key));
        prop_assert_eq!(e, e2);
    }

    #[test]
    fn independent_of_splitting_identical_lines(
        specs in prop::collection::vec(spec(false), 1..8),
        which in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        cands in candidates(),
        policy in policy(),
    ) {
        let mut lines = lines_of(&specs);
        let at = which.index(lines.len());
        let unit = lines[at].amount / lines[at].quantity;
        if lines[at].quantity < 2 {
            lines[at].quantity = 2;
            lines[at].amount = 2 * unit;
        }
        let l = &lines[at];
        let first = 1 + cut.index(l.quantity as usize - 1) as i64;
        let mut split = lines.clone();
        split[at].quantity = first;
        split[at].amount = first * unit;
        split.push(Line { key: "Z-split".into(), quantity: l.quantity - first, amount: (l.quantity - first) * unit, ..l.clone() });
        let merged = evaluate(&lines, &cands, &policy);
        let parts = evaluate(&split, &cands, &policy);
        check_invariants(&split, &cands, &policy, &parts);
        prop_assert_eq!(summary(&lines, &merged), summary(&split, &parts));
    }
}

#[test]
fn zero_quantity_and_negative_amounts_are_tolerated() {
    let lines =
        [Line { key: "x".into(), item_code: "A".into(), category: None, quantity: 0, amount: -5, discountable: true }];
    let e = run(&lines, &[offer(1, rule(5, json!({"percent": 50}), |_| {}))]);
    assert_eq!((e.subtotal, e.discount, e.total), (0, 0, 0));
}

/// The most applications a buy-X-get-Y offer can have on a few units, by trying every way of
/// giving each unit a role (none, reward, qualifier).
fn most_applications(lines: &[Line], target: &ItemMatch, requires: &ItemMatch, get: i64, buy: i64) -> i64 {
    let hits = |m: &ItemMatch, l: &Line| match m {
        ItemMatch::Any => true,
        ItemMatch::Codes(c) => c.contains(&l.item_code),
    };
    let units: Vec<(bool, bool)> = lines
        .iter()
        .flat_map(|l| std::iter::repeat_n((l.discountable && hits(target, l), hits(requires, l)), l.quantity as usize))
        .collect();
    let mut best = 0;
    for mut code in 0..3usize.pow(units.len() as u32) {
        let (mut rewards, mut qualifiers, mut ok) = (0, 0, true);
        for &(can_reward, can_qualify) in &units {
            match code % 3 {
                1 if can_reward => rewards += 1,
                2 if can_qualify => qualifiers += 1,
                0 => {}
                _ => ok = false,
            }
            code /= 3;
        }
        if ok && rewards % get == 0 && rewards / get * buy == qualifiers {
            best = best.max(rewards / get);
        }
    }
    best
}

proptest! {
    #[test]
    fn buy_get_applies_as_often_as_the_units_allow(
        specs in prop::collection::vec((0..CODES.len(), Just(false), 1i64..3, 1i64..500, prop::bool::weighted(0.8)), 1..4),
        target in item_match(),
        requires in item_match(),
        get in 1u32..3,
        buy in 1u32..3,
    ) {
        let lines = lines_of(&specs);
        prop_assume!(lines.iter().map(|l| l.quantity).sum::<i64>() <= 7);
        let rule = Rule {
            offer_type: OfferType::ItemReward,
            min_spend: None,
            requires: Some((requires.clone(), buy)),
            reward: Reward::Items { target: target.clone(), count: Some(get), value: UnitValue::Free },
            max_amount: None,
            repeat: None,
            select: Select::Cheapest,
            stacking: Stacking { level: Level::Item, group: None, mode: GroupMode::Stack, exclusive: false, priority: 0 },
        };
        let e = run(&lines, &[offer(1, rule)]);
        let got = e.applied.first().map_or(0, |a| i64::from(a.applications));
        prop_assert_eq!(got, most_applications(&lines, &target, &requires, i64::from(get), i64::from(buy)));
    }
}
