//! The POS engine on synthetic baskets: 20 lines × 50 offers (target ≤ 20 µs) and
//! 200 lines × 5,000 offers (target ≤ 1 ms). `cargo bench -p kindling-domain --bench pos`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use kindling_domain::pos::{evaluate, rule, Candidate, Line, Policy, RuleInput};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// A small deterministic generator (no dependency, same basket every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

fn code(i: u64) -> String {
    format!("SKU{i:05}")
}

fn basket(lines: usize, catalog: u64, rng: &mut Lcg) -> Vec<Line> {
    (0..lines)
        .map(|i| {
            let quantity = 1 + rng.next(3) as i64;
            Line {
                key: format!("{}", i + 1),
                item_code: code(rng.next(catalog)),
                category: None,
                quantity,
                amount: quantity * (99 + rng.next(1_500) as i64),
                discountable: rng.next(20) != 0,
            }
        })
        .collect()
}

fn codes(n: u64, catalog: u64, rng: &mut Lcg) -> BTreeSet<String> {
    (0..n).map(|_| code(rng.next(catalog))).collect()
}

/// A mix of the offer types, as the store would build them.
fn offers(n: usize, catalog: u64, rng: &mut Lcg) -> Vec<Candidate> {
    (0..n)
        .map(|i| {
            let kind = rng.next(10);
            let (offer_type, criteria): (i64, Value) = match kind {
                0..=2 => (0, json!({})),
                3 => (1, json!({"amount_off": 50 + rng.next(200)})),
                4 | 5 => (2, json!({"percent": 5 + rng.next(40), "repeat": "unlimited"})),
                6 => (3, json!({"price": 99})),
                7 => (4, json!({"amount_off": 100 + rng.next(500), "group": "basket", "group_mode": "best_deal"})),
                8 => (5, json!({"percent": 5 + rng.next(10), "exclusive": rng.next(4) == 0})),
                _ => (2, json!({"percent": 15, "group": format!("g{}", rng.next(5)), "group_mode": "best_deal"})),
            };
            let criteria: Map<String, Value> = criteria.as_object().cloned().unwrap_or_default();
            let targeted = offer_type != 4 && offer_type != 5 || rng.next(2) == 0;
            let input = RuleInput {
                offer_type,
                criteria: Some(&criteria),
                min_spend_amount: (rng.next(3) == 0).then(|| 500 + rng.next(3_000) as i64),
                max_amount: (rng.next(4) == 0).then(|| 300 + rng.next(1_000) as i64),
                required: (offer_type == 0).then(|| (codes(1 + rng.next(3), catalog, rng), 1)),
                redemption: targeted.then(|| (codes(1 + rng.next(4), catalog, rng), 1 + rng.next(2) as u32)),
                ..RuleInput::default()
            };
            let rule = rule::build(&input).expect("bench rule");
            Candidate { offer_id: 1 + i as i64, credential: Some(format!("CODE{i}")), rule }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let policy = Policy::default();
    let mut rng = Lcg(12);
    let (lines, candidates) = (basket(20, 60, &mut rng), offers(50, 60, &mut rng));
    let e = evaluate(&lines, &candidates, &policy);
    eprintln!("20×50: {} applied, {} rejected, discount {}", e.applied.len(), e.rejected.len(), e.discount);
    c.bench_function("pos 20 lines x 50 offers", |b| {
        b.iter(|| evaluate(black_box(&lines), black_box(&candidates), &policy))
    });

    let mut rng = Lcg(34);
    let (lines, candidates) = (basket(200, 10_000, &mut rng), offers(5_000, 10_000, &mut rng));
    let e = evaluate(&lines, &candidates, &policy);
    eprintln!("200×5000: {} applied, {} rejected, discount {}", e.applied.len(), e.rejected.len(), e.discount);
    c.bench_function("pos 200 lines x 5000 offers", |b| {
        b.iter(|| evaluate(black_box(&lines), black_box(&candidates), &policy))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
