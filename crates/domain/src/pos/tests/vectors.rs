//! The research file's numeric vectors (§5.6) and the guide's example offer.

use super::*;

/// 10% off every item, item level.
fn ten_percent_items() -> Rule {
    rule(2, json!({"percent": 10}), |_| {})
}

#[test]
fn percent_is_rounded_once_per_line() {
    let lines = [line("1", "A", 1, 106), line("2", "B", 1, 206), line("3", "C", 1, 306), line("4", "D", 1, 406)];
    let e = run(&lines, &[offer(1, ten_percent_items())]);
    assert_eq!(line_discounts(&e), [11, 21, 31, 41]);
    assert_eq!((e.discount, e.total), (104, 920));

    let lines = [line("1", "A", 1, 104), line("2", "B", 1, 204), line("3", "C", 1, 304), line("4", "D", 1, 404)];
    assert_eq!(line_discounts(&run(&lines, &[offer(1, ten_percent_items())])), [10, 20, 30, 40]);
}

#[test]
fn basket_percent_is_rounded_once_and_split_by_largest_remainder() {
    let lines = [line("1", "A", 1, 106), line("2", "B", 1, 206), line("3", "C", 1, 306), line("4", "D", 1, 406)];
    let e = run(&lines, &[offer(1, rule(5, json!({"percent": 10}), |_| {}))]);
    assert_eq!(line_discounts(&e), [11, 21, 30, 40]);
    assert_eq!(applied(&e, 1).amount, 102);
    assert_eq!(e.total, 922);
}

#[test]
fn quarter_off_1999_rounds_half_up() {
    let e = run(&[line("1", "A", 1, 1999)], &[offer(1, rule(2, json!({"percent": 25}), |_| {}))]);
    assert_eq!((e.discount, e.total), (500, 1499));
    let even = Policy { rounding: Rounding::HalfEven, ..Policy::default() };
    // 1998 × 25% = 499.5: half-up 500, half-even 500; 1994 × 25% = 498.5: 499 / 498.
    let e = evaluate(&[line("1", "A", 1, 1994)], &[offer(1, rule(2, json!({"percent": 25}), |_| {}))], &even);
    assert_eq!(e.discount, 498);
}

#[test]
fn two_big_basket_offers_never_go_below_zero() {
    let lines = [line("1", "A", 1, 1000)];
    let off = || rule(4, json!({"amount_off": 800}), |_| {});
    let e = run(&lines, &[offer(2, off()), offer(1, off())]);
    assert_eq!(applied(&e, 1).amount, 800);
    assert_eq!(applied(&e, 2).amount, 200);
    assert_eq!((e.discount, e.total), (1000, 0));
}

/// Buy `buy` of A, get `get` of A free, `repeat` times ("unlimited" if None).
fn buy_get_a(buy: u32, get: u32, repeat: Option<u32>) -> Rule {
    let repeat = repeat.map_or(json!("unlimited"), |r| json!(r));
    rule(0, json!({"repeat": repeat}), |i| {
        i.required = Some((codes(&["A"]), buy));
        i.redemption = Some((codes(&["A"]), get));
    })
}

#[test]
fn buy_one_get_one_keeps_qualifiers_and_rewards_apart() {
    for (quantity, discount) in [(1, 0), (2, 500), (3, 500), (4, 1000), (5, 1000)] {
        let e = run(&[line("1", "A", quantity, 500)], &[offer(1, buy_get_a(1, 1, None))]);
        assert_eq!(e.discount, discount, "quantity {quantity}");
        if quantity == 1 {
            assert_eq!(rejected(&e, 1).reason, Reason::RequiredItemsMissing);
        } else {
            let a = applied(&e, 1);
            assert_eq!(a.applications as i64, quantity / 2);
            assert_eq!(a.rewarded[0].units + a.qualifiers[0].units, quantity / 2 * 2);
        }
    }
}

#[test]
fn buy_two_get_one_repeats_by_whole_sets() {
    let free =
        |quantity, repeat| run(&[line("1", "A", quantity, 500)], &[offer(1, buy_get_a(2, 1, repeat))]).discount / 500;
    assert_eq!(free(6, None), 2);
    assert_eq!(free(7, None), 2);
    assert_eq!(free(6, Some(1)), 1);
    // Y > X: buy 1 get 5.
    let e = run(&[line("1", "A", 6, 500)], &[offer(1, buy_get_a(1, 5, None))]);
    assert_eq!(e.discount, 2500);
    assert_eq!(run(&[line("1", "A", 5, 500)], &[offer(1, buy_get_a(1, 5, None))]).discount, 0);
}

#[test]
fn once_per_order_rewards_the_cheapest_eligible_line() {
    let r = rule(2, json!({"percent": 100}), |i| i.redemption = Some((codes(&["A"]), 1)));
    let e = run(&[line("a", "A", 1, 5000), line("b", "B", 1, 1000)], &[offer(1, r)]);
    assert_eq!(line_discounts(&e), [5000, 0]);
    // Cheapest among the eligible units; most expensive when asked.
    let lines = [line("1", "A", 1, 300), line("2", "A", 1, 100), line("3", "A", 1, 200)];
    let r = rule(2, json!({"percent": 50}), |i| i.redemption = Some((codes(&["A"]), 1)));
    assert_eq!(line_discounts(&run(&lines, &[offer(1, r)])), [0, 50, 0]);
    let r = rule(2, json!({"percent": 50, "select": "most_expensive"}), |i| i.redemption = Some((codes(&["A"]), 1)));
    assert_eq!(line_discounts(&run(&lines, &[offer(1, r)])), [150, 0, 0]);
}

#[test]
fn reward_value_types_are_honoured() {
    let lines = [line("q", "Q", 1, 800), line("r", "R", 1, 1200)];
    let with = |value: Value, reward_item_value: Option<Cents>| {
        let r = rule(0, json!({"value": value}), |i| {
            i.required = Some((codes(&["Q"]), 1));
            i.redemption = Some((codes(&["R"]), 1));
            i.reward_item_value = reward_item_value;
        });
        run(&lines, &[offer(1, r)]).lines[1].discount
    };
    assert_eq!(with(json!({"amount_off": 500}), None), 500);
    assert_eq!(with(json!({"percent": 50}), None), 600);
    assert_eq!(with(json!("free"), None), 1200);
    assert_eq!(with(json!({"price": 99}), None), 1101);
    assert_eq!(with(Value::Null, None), 1200);
    // Free up to reward_item_value when criteria says nothing.
    assert_eq!(with(Value::Null, Some(1000)), 1000);
    assert_eq!(with(Value::Null, Some(5000)), 1200);
}

/// The guide's "Buy a Burger, Get Free Medium Fries".
fn burger_fries() -> Rule {
    rule(0, json!({"visits": 10}), |i| {
        i.required = Some((codes(&["BURGER"]), 1));
        i.redemption = Some((codes(&["FRIES-M"]), 1));
    })
}

#[test]
fn burger_and_fries_frees_the_fries() {
    let lines = [line("1", "BURGER", 1, 599), line("2", "FRIES-M", 1, 249)];
    let e = run(&lines, &[offer(7, burger_fries())]);
    assert_eq!(line_discounts(&e), [0, 249]);
    let a = applied(&e, 7);
    assert_eq!(a.amount, 249);
    assert_eq!(a.rewarded, [Portion { line: "2".into(), units: 1, amount: 249 }]);
    assert_eq!(a.qualifiers, [Portion { line: "1".into(), units: 1, amount: 0 }]);
    assert_eq!(a.credential.as_deref(), Some("CODE7"));
}

#[test]
fn fries_without_a_burger_say_why() {
    let e = run(&[line("2", "FRIES-M", 1, 249)], &[offer(7, burger_fries())]);
    assert_eq!(e.discount, 0);
    let r = rejected(&e, 7);
    assert_eq!(r.reason, Reason::RequiredItemsMissing);
    assert_eq!(r.reason.code(), "required_items_missing");
    assert_eq!(r.detail, "requires 1 of BURGER");
    // A burger but no fries: nothing to reward.
    let e = run(&[line("1", "BURGER", 1, 599)], &[offer(7, burger_fries())]);
    assert_eq!(rejected(&e, 7).reason, Reason::NoEligibleItems);
}

#[test]
fn one_burger_two_fries_frees_one_order() {
    for lines in [
        vec![line("1", "BURGER", 1, 599), line("2", "FRIES-M", 2, 249)],
        vec![line("2", "FRIES-M", 1, 249), line("1", "BURGER", 1, 599), line("3", "FRIES-M", 1, 249)],
    ] {
        let e = run(&lines, &[offer(7, burger_fries())]);
        assert_eq!(e.discount, 249);
        assert_eq!(applied(&e, 7).applications, 1);
    }
    // Two burgers and two fries: still once per ticket unless criteria says repeat.
    let lines = [line("1", "BURGER", 2, 599), line("2", "FRIES-M", 2, 249)];
    assert_eq!(run(&lines, &[offer(7, burger_fries())]).discount, 249);
    let repeat = rule(0, json!({"repeat": "unlimited"}), |i| {
        i.required = Some((codes(&["BURGER"]), 1));
        i.redemption = Some((codes(&["FRIES-M"]), 1));
    });
    assert_eq!(run(&lines, &[offer(7, repeat)]).discount, 498);
}

#[test]
fn qualifiers_prefer_units_outside_the_reward() {
    // Medusa #13431: buy 4 apparel, get the T-shirt (also apparel) free, in any order.
    let apparel = ["SHIRT", "PANTS", "HAT", "SOCKS", "TSHIRT"];
    let r = || {
        rule(0, json!({}), |i| {
            i.required = Some((codes(&apparel), 4));
            i.redemption = Some((codes(&["TSHIRT"]), 1));
        })
    };
    let mut lines = vec![
        line("1", "SHIRT", 1, 100),
        line("2", "PANTS", 1, 100),
        line("3", "HAT", 1, 100),
        line("4", "SOCKS", 1, 100),
        line("5", "TSHIRT", 1, 100),
    ];
    for _ in 0..5 {
        lines.rotate_left(1);
        let e = run(&lines, &[offer(1, r())]);
        assert_eq!(e.discount, 100);
        assert_eq!(applied(&e, 1).rewarded[0].line, "5");
    }
}

#[test]
fn qualifiers_cannot_qualify_twice() {
    let lines = [line("1", "BURGER", 1, 599), line("2", "FRIES-M", 1, 249), line("3", "DRINK", 1, 199)];
    let drink = rule(0, json!({}), |i| {
        i.required = Some((codes(&["BURGER"]), 1));
        i.redemption = Some((codes(&["DRINK"]), 1));
    });
    let e = run(&lines, &[offer(7, burger_fries()), offer(8, drink)]);
    assert_eq!(applied(&e, 7).amount, 249);
    assert_eq!(rejected(&e, 8).reason, Reason::RequiredItemsMissing);
}

#[test]
fn later_discounts_work_on_what_is_left() {
    // Saleor #17453: 40% item promotion, then 70% off the basket: on 600, not on 1000.
    let lines = [line("1", "A", 1, 1000)];
    let e = run(
        &lines,
        &[offer(1, rule(2, json!({"percent": 40}), |_| {})), offer(2, rule(5, json!({"percent": 70}), |_| {}))],
    );
    assert_eq!((applied(&e, 1).amount, applied(&e, 2).amount, e.total), (400, 420, 180));
}

#[test]
fn min_spend_is_measured_after_item_discounts() {
    let lines = [line("1", "A", 1, 1000)];
    let basket = rule(4, json!({"amount_off": 100}), |i| i.min_spend_amount = Some(900));
    let e = run(&lines, &[offer(1, rule(2, json!({"percent": 20}), |_| {})), offer(2, basket.clone())]);
    let r = rejected(&e, 2);
    assert_eq!(r.reason, Reason::SpendBelowThreshold);
    assert_eq!(r.detail, "needs a spend of 9.00, the ticket is at 8.00");
    assert_eq!(applied(&run(&lines, &[offer(2, basket)]), 2).amount, 100);
    // trigger_amount counts too, the larger one wins.
    let r = rule(4, json!({"amount_off": 100}), |i| {
        i.min_spend_amount = Some(500);
        i.trigger_amount = Some(1500);
    });
    assert_eq!(run(&lines, &[offer(3, r)]).rejected[0].reason, Reason::SpendBelowThreshold);
}

#[test]
fn non_discountable_lines_count_toward_spend_but_are_never_rewarded() {
    let mut tobacco = line("2", "TOBACCO", 1, 900);
    tobacco.discountable = false;
    let lines = [line("1", "A", 1, 100), tobacco];
    let r = rule(5, json!({"percent": 50}), |i| i.min_spend_amount = Some(1000));
    let e = run(&lines, &[offer(1, r)]);
    assert_eq!(line_discounts(&e), [50, 0]);
    let only = run(&lines[1..], &[offer(1, rule(2, json!({"percent": 50}), |_| {}))]);
    assert_eq!(rejected(&only, 1).reason, Reason::NoEligibleItems);
}

#[test]
fn max_amount_caps_and_reapportions() {
    let lines = [line("1", "A", 1, 1000), line("2", "B", 1, 3000)];
    let r = rule(5, json!({"percent": 50}), |i| i.max_amount = Some(999));
    let e = run(&lines, &[offer(1, r)]);
    assert_eq!(applied(&e, 1).amount, 999);
    assert_eq!(line_discounts(&e), [250, 749]);
    let r = rule(1, json!({"amount_off": 600}), |i| i.max_amount = Some(1000));
    let e = run(&[line("1", "A", 1, 1000), line("2", "B", 1, 1000)], &[offer(1, r)]);
    assert_eq!(line_discounts(&e), [500, 500]);
}

#[test]
fn fixed_price_and_amount_off_per_unit() {
    let lines = [line("1", "A", 3, 500)];
    let price = rule(3, json!({"price": 199}), |_| {});
    assert_eq!(run(&lines, &[offer(1, price)]).discount, 3 * 301);
    let off = rule(1, json!({"amount_off": 600}), |_| {});
    assert_eq!(run(&lines, &[offer(1, off)]).discount, 1500);
    // The column stands in for criteria.amount_off.
    let off = rule(1, json!({}), |i| i.reward_item_value = Some(50));
    assert_eq!(run(&lines, &[offer(1, off)]).discount, 150);
}

#[test]
fn pos_defined_codes_apply_with_zero() {
    let e = run(&[line("1", "A", 1, 100)], &[offer(1, rule(0, json!({}), |_| {}))]);
    let a = applied(&e, 1);
    assert_eq!((a.amount, a.rewarded.len(), e.total), (0, 0, 100));
}

#[test]
fn stored_value_pays_what_is_left_at_tender() {
    let lines = [line("1", "A", 1, 700), line("2", "B", 1, 300)];
    let card = |balance| rule(6, json!({}), |i| i.remaining_value = Some(balance));
    let e = run(&lines, &[offer(9, card(2500)), offer(1, rule(4, json!({"amount_off": 200}), |_| {}))]);
    assert_eq!(applied(&e, 1).amount, 200);
    assert_eq!(applied(&e, 9).amount, 800);
    assert_eq!(e.total, 0);
    assert_eq!(e.applied.iter().map(|a| a.offer_id).collect::<Vec<_>>(), [1, 9]);
    let e = run(&lines, &[offer(9, card(0))]);
    assert_eq!(rejected(&e, 9).reason, Reason::BalanceDepleted);
}

#[test]
fn large_quantities_are_constant_time() {
    let lines = [line("1", "A", 1_000_000, 300), line("2", "A", 999_999, 300)];
    let e = run(&lines, &[offer(1, buy_get_a(2, 1, None)), offer(2, rule(2, json!({"percent": 10}), |_| {}))]);
    let a = applied(&e, 1);
    assert_eq!(a.applications, 666_666);
    assert_eq!(a.amount, 666_666 * 300);
    let total = 1_999_999 * 300;
    assert_eq!(applied(&e, 2).amount, (total - 666_666 * 300) / 10);
}
