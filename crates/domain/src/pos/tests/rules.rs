//! Offer rules from columns and criteria, reason codes, and stacking.

use super::*;

fn err(offer_type: i64, c: Value) -> RuleError {
    rule::validate(offer_type, Some(&criteria(c))).expect_err("refused")
}

#[test]
fn unknown_types_and_bad_criteria_are_refused() {
    assert_eq!(rule::validate(7, None), Err(RuleError::UnknownType(7)));
    assert_eq!(rule::validate(-1, None), Err(RuleError::UnknownType(-1)));
    assert!(rule::validate(0, Some(&criteria(json!({"visits": 10, "anything": [1]})))).is_ok());
    for t in [0, 1, 3, 4, 6] {
        assert!(rule::validate(t, Some(&criteria(json!({"price": 1})))).is_ok(), "type {t}");
    }
    let field = |e: RuleError| match e {
        RuleError::Criteria(f, _) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(err(2, json!({}))), "percent");
    assert_eq!(field(err(5, json!({"percent": 100.001}))), "percent");
    assert_eq!(field(err(5, json!({"percent": 101}))), "percent");
    assert_eq!(field(err(5, json!({"percent": -1}))), "percent");
    assert_eq!(field(err(5, json!({"percent": "ten"}))), "percent");
    assert_eq!(field(err(3, json!({}))), "price");
    assert_eq!(field(err(1, json!({"amount_off": 1.5}))), "amount_off");
    assert_eq!(field(err(1, json!({"amount_off": -5}))), "amount_off");
    assert_eq!(field(err(0, json!({"value": "half"}))), "value");
    assert_eq!(field(err(0, json!({"value": {"percent": 150}}))), "value.percent");
    assert_eq!(field(err(0, json!({"repeat": 0}))), "repeat");
    assert_eq!(field(err(0, json!({"repeat": "always"}))), "repeat");
    assert_eq!(field(err(0, json!({"select": "random"}))), "select");
    assert_eq!(field(err(0, json!({"level": "order"}))), "level");
    assert_eq!(field(err(0, json!({"group": ""}))), "group");
    assert_eq!(field(err(0, json!({"group_mode": "first"}))), "group_mode");
    assert_eq!(field(err(0, json!({"exclusive": "yes"}))), "exclusive");
    assert_eq!(field(err(0, json!({"priority": 1.5}))), "priority");
    assert_eq!(field(err(0, json!({"item_codes": ["A", 3]}))), "item_codes");
    assert_eq!(field(err(0, json!({"count": 0}))), "count");
}

#[test]
fn percentages_are_read_exactly() {
    let bp = |v: Value| match rule(2, json!({ "percent": v }), |_| {}).reward {
        Reward::Items { value: UnitValue::Percent(bp), .. } => bp,
        other => panic!("{other:?}"),
    };
    assert_eq!(bp(json!(10)), 1000);
    assert_eq!(bp(json!(12.5)), 1250);
    assert_eq!(bp(json!(33.33)), 3333);
    assert_eq!(bp(json!(0.07)), 7);
    assert_eq!(bp(json!("15.10")), 1510);
    assert_eq!(bp(json!(100)), 10_000);
}

#[test]
fn amount_off_needs_a_value_at_build() {
    let c = criteria(json!({}));
    let input = RuleInput { offer_type: 4, criteria: Some(&c), ..RuleInput::default() };
    assert!(matches!(rule::build(&input), Err(RuleError::Criteria(f, _)) if f == "amount_off"));
    let input = RuleInput { offer_type: 4, reward_item_value: Some(300), ..RuleInput::default() };
    let r = rule::build(&input).expect("rule");
    assert_eq!(r.reward, Reward::Basket { eligible: ItemMatch::Any, value: BasketValue::Amount(300) });
    assert_eq!(r.stacking.level, Level::Basket);
    let input = RuleInput { offer_type: 1, max_amount: Some(-1), reward_item_value: Some(1), ..RuleInput::default() };
    assert!(rule::build(&input).is_err());
}

#[test]
fn defaults_and_column_fallbacks() {
    let r = rule(0, json!({"item_codes": ["FRIES-L"]}), |i| {
        i.required = Some((codes(&["BURGER"]), 0));
        i.redemption = Some((codes(&["FRIES-M"]), 0));
        i.reward_item_value = Some(300);
        i.min_spend_amount = Some(500);
        i.trigger_amount = Some(200);
    });
    assert_eq!(r.requires, Some((ItemMatch::Codes(codes(&["BURGER"])), 1)));
    assert_eq!(
        r.reward,
        Reward::Items {
            target: ItemMatch::Codes(codes(&["FRIES-L", "FRIES-M"])),
            count: Some(1),
            value: UnitValue::FreeUpTo(300)
        }
    );
    assert_eq!((r.min_spend, r.repeat, r.select), (Some(500), Some(1), Select::Cheapest));
    assert_eq!(
        r.stacking,
        Stacking { level: Level::Item, group: None, mode: GroupMode::Stack, exclusive: false, priority: 0 }
    );
    assert_eq!(rule(0, json!({}), |_| {}).reward, Reward::PosDefined);
    assert_eq!(rule(6, json!({}), |i| i.remaining_value = Some(900)).stacking.level, Level::Tender);
    let f = json!({"multiple_offers_can_be_combined_on_an_order": false, "highest_value_to_customer": true});
    let r = rule_with(2, json!({"percent": 5, "priority": 3, "repeat": "unlimited"}), f.clone(), |_| {});
    assert_eq!(r.repeat, None);
    assert_eq!(
        r.stacking,
        Stacking {
            level: Level::Item,
            group: Some(rule::BEST_DEAL_GROUP.into()),
            mode: GroupMode::BestDeal,
            exclusive: true,
            priority: 3
        }
    );
    let c = json!({"percent": 5, "exclusive": false, "group": "lunch", "group_mode": "stack", "level": "basket"});
    let r = rule_with(2, c, f, |_| {});
    assert_eq!(
        r.stacking,
        Stacking {
            level: Level::Basket,
            group: Some("lunch".into()),
            mode: GroupMode::Stack,
            exclusive: false,
            priority: 0
        }
    );
}

#[test]
fn reason_codes_are_stable() {
    let codes: Vec<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(
        codes,
        [
            "not_found",
            "not_active_yet",
            "expired",
            "already_redeemed",
            "voided",
            "store_not_eligible",
            "member_not_eligible",
            "total_limit",
            "member_limit",
            "day_limit",
            "held_by_other_transaction",
            "spend_below_threshold",
            "required_items_missing",
            "no_eligible_items",
            "excluded_by_stacking",
            "unsupported_offer_type",
            "balance_depleted"
        ]
    );
}

fn exclusive(percent: u32) -> Rule {
    rule(2, json!({"percent": percent, "exclusive": true}), |_| {})
}

#[test]
fn an_exclusive_offer_competes_with_the_stacked_ones() {
    let lines = [line("1", "A", 1, 1000)];
    let stacked =
        [offer(1, rule(2, json!({"percent": 10}), |_| {})), offer(2, rule(2, json!({"percent": 10}), |_| {}))];
    // 10% then 10% of the rest = 190; an exclusive 20% = 200 wins.
    let mut all = stacked.to_vec();
    all.push(offer(3, exclusive(20)));
    let e = run(&lines, &all);
    assert_eq!(applied(&e, 3).amount, 200);
    let r = rejected(&e, 1);
    assert_eq!(r.reason, Reason::ExcludedByStacking);
    assert_eq!(r.detail, "exclusive offer 3 is worth more (2.00)");
    // An exclusive 15% loses to the stacked 190.
    let mut all = stacked.to_vec();
    all.push(offer(3, exclusive(15)));
    let e = run(&lines, &all);
    assert_eq!(e.discount, 190);
    assert_eq!(rejected(&e, 3).detail, "offers 1, 2 together are worth more (1.90)");
    // Equal exclusive offers: the lower offer id wins, whatever the input order.
    for candidates in
        [[offer(5, exclusive(20)), offer(4, exclusive(20))], [offer(4, exclusive(20)), offer(5, exclusive(20))]]
    {
        let e = run(&lines, &candidates);
        assert_eq!(applied(&e, 4).amount, 200);
        assert_eq!(rejected(&e, 5).reason, Reason::ExcludedByStacking);
    }
}

#[test]
fn a_best_deal_group_keeps_its_best_offer() {
    let lines = [line("1", "A", 2, 500)];
    let member = |t: i64, c: Value| {
        let mut c = c;
        c["group"] = json!("lunch");
        c["group_mode"] = json!("best_deal");
        rule(t, c, |_| {})
    };
    let e = run(
        &lines,
        &[
            offer(1, member(2, json!({"percent": 10}))),
            offer(2, member(4, json!({"amount_off": 150, "level": "item"}))),
            offer(3, member(2, json!({"percent": 50, "count": 1}))),
            offer(4, rule(4, json!({"amount_off": 100}), |_| {})),
        ],
    );
    assert_eq!(applied(&e, 3).amount, 250);
    assert_eq!(rejected(&e, 1).detail, "the best deal in group lunch is offer 3 (2.50)");
    assert_eq!(rejected(&e, 2).reason, Reason::ExcludedByStacking);
    assert_eq!(applied(&e, 4).amount, 100);
    assert_eq!(e.total, 650);
}

#[test]
fn highest_value_to_customer_offers_compete() {
    let f = json!({"highest_value_to_customer": true});
    let lines = [line("1", "A", 1, 1000)];
    let e = run(
        &lines,
        &[
            offer(1, rule_with(2, json!({"percent": 10}), f.clone(), |_| {})),
            offer(2, rule_with(1, json!({"amount_off": 150}), f, |_| {})),
        ],
    );
    assert_eq!(e.applied.len(), 1);
    assert_eq!(applied(&e, 2).amount, 150);
}

#[test]
fn max_applied_limits_the_ticket() {
    let lines = [line("1", "A", 1, 1000)];
    let ten = || rule(4, json!({"amount_off": 10}), |_| {});
    let candidates: Vec<Candidate> = (1..=4).rev().map(|id| offer(id, ten())).collect();
    let e = evaluate(&lines, &candidates, &Policy { max_applied: 2, ..Policy::default() });
    assert_eq!(e.applied.iter().map(|a| a.offer_id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(rejected(&e, 3).detail, "at most 2 offers apply to one ticket");
    // An offer that fails its own rule says so rather than "excluded".
    let mut candidates = candidates;
    candidates.push(offer(9, rule(4, json!({"amount_off": 10}), |i| i.min_spend_amount = Some(5000))));
    let e = evaluate(&lines, &candidates, &Policy { max_applied: 2, ..Policy::default() });
    assert_eq!(rejected(&e, 9).reason, Reason::SpendBelowThreshold);
}

#[test]
fn priority_orders_offers_within_a_level() {
    let lines = [line("1", "A", 1, 1000)];
    let e = run(
        &lines,
        &[
            offer(1, rule(2, json!({"percent": 50}), |_| {})),
            offer(2, rule(1, json!({"amount_off": 100, "priority": 5}), |_| {})),
        ],
    );
    assert_eq!(e.applied.iter().map(|a| (a.offer_id, a.amount)).collect::<Vec<_>>(), [(2, 100), (1, 450)]);
}

#[test]
fn order_is_level_priority_offer_id_credential() {
    let lines = [line("1", "A", 1, 1000)];
    let with = |id: i64, credential: &str, priority: i32, level: &str| {
        let mut r = rule(4, json!({"amount_off": 1, "level": level}), |_| {});
        r.stacking.priority = priority;
        Candidate { offer_id: id, credential: Some(credential.into()), rule: r }
    };
    let candidates = [
        with(5, "b", 0, "item"),
        with(i64::MIN, "x", i32::MIN, "item"),
        with(5, "a", 0, "item"),
        with(-3, "x", 0, "item"),
        with(1, "x", i32::MAX, "basket"),
        with(i64::MAX, "x", i32::MAX, "item"),
        with(2, "x", -1, "tender"),
    ];
    let e = run(&lines, &candidates);
    let order: Vec<(i64, &str)> =
        e.applied.iter().map(|a| (a.offer_id, a.credential.as_deref().unwrap_or_default())).collect();
    assert_eq!(order, [(i64::MAX, "x"), (-3, "x"), (5, "a"), (5, "b"), (i64::MIN, "x"), (1, "x"), (2, "x")]);
}

#[test]
fn exclusive_offers_compete_within_their_level_only() {
    let lines = [line("1", "A", 1, 1000)];
    let e = run(&lines, &[offer(1, exclusive(10)), offer(2, rule(4, json!({"amount_off": 500}), |_| {}))]);
    assert_eq!((applied(&e, 1).amount, applied(&e, 2).amount), (100, 500));
}

/// The burger offer brought by the code `credential`.
fn burger_code(credential: &str) -> Candidate {
    let r = rule(0, json!({}), |i| {
        i.required = Some((codes(&["BURGER"]), 1));
        i.redemption = Some((codes(&["FRIES-M"]), 1));
    });
    Candidate { offer_id: 7, credential: Some(credential.into()), rule: r }
}

#[test]
fn two_codes_of_one_offer_apply_twice() {
    let lines = [line("1", "BURGER", 2, 599), line("2", "FRIES-M", 2, 249)];
    let e = run(&lines, &[burger_code("BBB"), burger_code("AAA")]);
    assert_eq!(e.applied.len(), 2);
    assert_eq!(e.applied[0].credential.as_deref(), Some("AAA"));
    assert_eq!(e.discount, 498);
    // A third code finds no burger left to qualify it.
    let e = run(&lines, &[burger_code("AAA"), burger_code("BBB"), burger_code("CCC")]);
    assert_eq!(rejected(&e, 7).credential.as_deref(), Some("CCC"));
    assert_eq!(rejected(&e, 7).reason, Reason::RequiredItemsMissing);
}
