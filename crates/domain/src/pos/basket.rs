//! The ticket as the engine works on it: identical lines merged into buckets, and each
//! bucket's units kept run-length as segments (units, what is left of their price, whether
//! an offer already used them), so a quantity of a million costs what a quantity of one does.

use super::prorate::prorate;
use super::{Cents, ItemMatch, Line};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Index;
use std::rc::Rc;

/// Lines with the same item code, category, discountable flag and unit price, merged. The
/// engine computes on buckets only, which makes its answer independent of how the POS
/// splits or merges identical lines and of their order.
#[derive(Debug)]
pub(super) struct Bucket<'a> {
    pub code: &'a str,
    pub category: Option<&'a str>,
    pub discountable: bool,
    pub quantity: i64,
    pub amount: Cents,
    /// Indices into the ticket's lines, ordered by line key.
    pub lines: Vec<usize>,
}

/// Units of one bucket that share their history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Segment {
    pub units: i64,
    /// What is left of these units' price after earlier discounts.
    pub rem: Cents,
    /// Used by an offer (as qualifier or reward): cannot qualify another offer.
    pub used: bool,
}

impl Segment {
    /// Compares the value left per unit (higher first), exactly.
    fn richer(&self, other: &Segment) -> Ordering {
        (i128::from(other.rem) * i128::from(self.units)).cmp(&(i128::from(self.rem) * i128::from(other.units)))
    }
}

/// Every bucket's segments: the state offers change as they apply. Buckets are shared
/// copy-on-write, so trying an offer alone (best deal, exclusive) copies only the buckets
/// it changes.
#[derive(Debug, Clone)]
pub(super) struct State(Vec<Rc<Vec<Segment>>>);

impl State {
    /// A bucket's segments, to change.
    pub fn bucket(&mut self, b: usize) -> &mut Vec<Segment> {
        Rc::make_mut(&mut self.0[b])
    }

    /// What is left of the whole ticket.
    pub fn remaining(&self) -> Cents {
        self.0.iter().map(|segs| remaining(segs)).sum()
    }
}

impl Index<usize> for State {
    type Output = Vec<Segment>;

    fn index(&self, b: usize) -> &Vec<Segment> {
        &self.0[b]
    }
}

/// A line's quantity and amount as the engine counts them (at least one unit, never negative).
pub(super) fn units_and_amount(line: &Line) -> (i64, Cents) {
    (line.quantity.max(1), line.amount.max(0))
}

pub(super) struct Basket<'a> {
    /// In canonical order: unit price, then item code, category, discountable. A bucket's
    /// index is its stable tie-break key.
    pub buckets: Vec<Bucket<'a>>,
    by_code: HashMap<&'a str, Vec<usize>, BuildHasherDefault<CodeHash>>,
    all: Vec<usize>,
    discountable: Vec<usize>,
}

/// An Fx-style hash (rotate, xor, multiply; eight bytes at a time): item codes are short and
/// come from one ticket, and the engine looks codes up for every offer, so a cheap hash
/// matters more here than SipHash's flood resistance.
#[derive(Default)]
pub(super) struct CodeHash(u64);

impl CodeHash {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for CodeHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        if !rest.is_empty() {
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }
}

impl<'a> Basket<'a> {
    pub fn new(lines: &'a [Line]) -> Self {
        let mut order: Vec<usize> = (0..lines.len()).collect();
        let key = |i: usize| {
            let l = &lines[i];
            let (q, a) = units_and_amount(l);
            (a, q, l.item_code.as_str(), l.category.as_deref(), l.discountable, l.key.as_str())
        };
        // Canonical order: unit price (a/q, exactly), identity, then line key.
        order.sort_by(|&x, &y| {
            let (ax, qx, cx, catx, dx, kx) = key(x);
            let (ay, qy, cy, caty, dy, ky) = key(y);
            (i128::from(ax) * i128::from(qy))
                .cmp(&(i128::from(ay) * i128::from(qx)))
                .then_with(|| (cx, catx, dx).cmp(&(cy, caty, dy)))
                .then_with(|| kx.cmp(ky))
                .then_with(|| (qx, ax).cmp(&(qy, ay)))
        });
        let mut buckets: Vec<Bucket<'a>> = Vec::new();
        for i in order {
            let l = &lines[i];
            let (q, a) = units_and_amount(l);
            let same = buckets.last().is_some_and(|b| {
                b.code == l.item_code
                    && b.category == l.category.as_deref()
                    && b.discountable == l.discountable
                    && i128::from(b.amount) * i128::from(q) == i128::from(a) * i128::from(b.quantity)
            });
            match buckets.last_mut() {
                Some(b) if same => {
                    b.quantity += q;
                    b.amount += a;
                    b.lines.push(i);
                }
                _ => buckets.push(Bucket {
                    code: &l.item_code,
                    category: l.category.as_deref(),
                    discountable: l.discountable,
                    quantity: q,
                    amount: a,
                    lines: vec![i],
                }),
            }
        }
        let mut by_code: HashMap<&'a str, Vec<usize>, BuildHasherDefault<CodeHash>> =
            HashMap::with_capacity_and_hasher(buckets.len(), BuildHasherDefault::default());
        for (i, b) in buckets.iter().enumerate() {
            by_code.entry(b.code).or_default().push(i);
        }
        let all = (0..buckets.len()).collect();
        let discountable = (0..buckets.len()).filter(|&b| buckets[b].discountable).collect();
        Basket { buckets, by_code, all, discountable }
    }

    pub fn initial_state(&self) -> State {
        State(
            self.buckets
                .iter()
                .map(|b| Rc::new(vec![Segment { units: b.quantity, rem: b.amount, used: false }]))
                .collect(),
        )
    }

    /// The buckets an item match covers, in bucket order (only the discountable ones when
    /// `discountable`). `Any` borrows a list made once per ticket.
    pub fn matching(&self, m: &ItemMatch, discountable: bool) -> Cow<'_, [usize]> {
        let mut found: Vec<usize> = match m {
            ItemMatch::Any if discountable => return Cow::Borrowed(&self.discountable),
            ItemMatch::Any => return Cow::Borrowed(&self.all),
            ItemMatch::Codes(codes) if codes.len() < self.by_code.len() => {
                let mut found: Vec<usize> =
                    codes.iter().filter_map(|c| self.by_code.get(c.as_str())).flatten().copied().collect();
                found.sort_unstable();
                found
            }
            ItemMatch::Codes(codes) => {
                (0..self.buckets.len()).filter(|&i| codes.contains(self.buckets[i].code)).collect()
            }
        };
        if discountable {
            found.retain(|&b| self.buckets[b].discountable);
        }
        Cow::Owned(found)
    }
}

/// What is left of a bucket's price.
pub(super) fn remaining(segs: &[Segment]) -> Cents {
    segs.iter().map(|s| s.rem).sum()
}

/// Units not yet used by an offer.
pub(super) fn unused(segs: &[Segment]) -> i64 {
    segs.iter().filter(|s| !s.used).map(|s| s.units).sum()
}

/// Takes up to `n` units out of `segs` from segments passing `pick`, richest first; the
/// taken parts are returned, split segments keep their share of the price (largest remainder).
pub(super) fn take(segs: &mut [Segment], mut n: i64, pick: impl Fn(&Segment) -> bool) -> Vec<Segment> {
    let mut order: Vec<usize> = (0..segs.len()).filter(|&i| segs[i].units > 0 && pick(&segs[i])).collect();
    order.sort_by(|&a, &b| segs[a].richer(&segs[b]).then(a.cmp(&b)));
    let mut taken = Vec::new();
    for i in order {
        if n == 0 {
            break;
        }
        let s = &mut segs[i];
        let k = n.min(s.units);
        n -= k;
        if k == s.units {
            taken.push(Segment { units: k, rem: s.rem, used: s.used });
            s.units = 0;
            s.rem = 0;
        } else {
            let parts = prorate(s.rem, &[k, s.units - k]);
            taken.push(Segment { units: k, rem: parts[0], used: s.used });
            s.units -= k;
            s.rem = parts[1];
        }
    }
    taken
}

/// Puts segments back, merging the ones with the same history and value per unit, in a
/// canonical order (unused first, then richest first).
pub(super) fn put_back(segs: &mut Vec<Segment>, back: impl IntoIterator<Item = Segment>) {
    for s in back {
        segs.push(s);
    }
    segs.retain(|s| s.units > 0);
    if segs.len() < 2 {
        return;
    }
    segs.sort_by(|a, b| a.used.cmp(&b.used).then_with(|| a.richer(b)).then(b.units.cmp(&a.units)));
    let mut merged: Vec<Segment> = Vec::with_capacity(segs.len());
    for s in segs.drain(..) {
        match merged.last_mut() {
            Some(m) if m.used == s.used && m.richer(&s) == Ordering::Equal => {
                m.units += s.units;
                m.rem += s.rem;
            }
            _ => merged.push(s),
        }
    }
    *segs = merged;
}
