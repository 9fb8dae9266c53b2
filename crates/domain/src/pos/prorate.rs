//! Splitting an amount across weights by largest remainder, and rounding percentages.
//!
//! Everything is integer: a share is computed exactly as `total × weight / Σweights` in
//! `i128`, floored, and the cents left over go one each to the largest fractional parts.
//! Ties go to the lower index, so callers order their weights by a stable key first.

use super::{Cents, Rounding};

/// Splits `total` across `weights` so that the shares sum to `total` exactly (Hamilton /
/// largest remainder, as Vendure's `prorate`). All weights zero (or no positive weight):
/// an even split. A negative total mirrors the positive one. Negative weights count as 0.
pub fn prorate(total: Cents, weights: &[i64]) -> Vec<Cents> {
    if weights.is_empty() {
        return Vec::new();
    }
    if total < 0 {
        return prorate(total.checked_neg().unwrap_or(Cents::MAX), weights).into_iter().map(|s| -s).collect();
    }
    let sum: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    let even;
    let (weights, sum): (&[i64], i128) = if sum == 0 {
        even = vec![1; weights.len()];
        (&even, weights.len() as i128)
    } else {
        (weights, sum)
    };
    let total = i128::from(total);
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut given: i128 = 0;
    for (i, w) in weights.iter().enumerate() {
        let exact = total * i128::from((*w).max(0));
        let share = exact / sum;
        given += share;
        shares.push(share as Cents);
        remainders.push((exact % sum, i));
    }
    let left = (total - given) as usize;
    if left > 0 {
        // Largest fractional part first, then the lower index.
        remainders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in remainders.into_iter().take(left) {
            shares[i] += 1;
        }
    }
    shares
}

/// Splits `total` (0 ≤ total ≤ Σcaps) across `weights`, no share above its cap: shares that
/// would overflow are clamped and the overflow is split again over the others. Where the
/// open weights are all zero the caps themselves are the weights.
pub fn prorate_capped(total: Cents, weights: &[i64], caps: &[Cents]) -> Vec<Cents> {
    debug_assert_eq!(weights.len(), caps.len());
    let mut shares = vec![0; weights.len()];
    let mut open: Vec<usize> = (0..weights.len()).filter(|&i| caps[i] > 0).collect();
    let mut left = total.max(0);
    while left > 0 && !open.is_empty() {
        let mut w: Vec<i64> = open.iter().map(|&i| weights[i].max(0)).collect();
        if w.iter().all(|&x| x == 0) {
            w = open.iter().map(|&i| caps[i] - shares[i]).collect();
        }
        let split = prorate(left, &w);
        left = 0;
        let mut still = Vec::with_capacity(open.len());
        for (&i, s) in open.iter().zip(split) {
            let room = caps[i] - shares[i];
            if s >= room {
                shares[i] += room;
                left += s - room;
            } else {
                shares[i] += s;
                still.push(i);
            }
        }
        open = still;
    }
    shares
}

/// `amount × bp / 10 000`, rounded once to a cent (half away from zero or half to even).
pub fn percent_of(amount: Cents, bp: u32, rounding: Rounding) -> Cents {
    divide(i128::from(amount) * i128::from(bp), 10_000, rounding)
}

/// `numerator / denominator` (denominator > 0) rounded to an integer by `rounding`.
pub fn divide(numerator: i128, denominator: i128, rounding: Rounding) -> Cents {
    debug_assert!(denominator > 0);
    let negative = numerator < 0;
    let n = numerator.abs();
    let (q, r) = (n / denominator, n % denominator);
    let up = match (2 * r).cmp(&denominator) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => match rounding {
            Rounding::HalfUp => true,
            Rounding::HalfEven => q % 2 == 1,
        },
    };
    let q = (q + i128::from(up)) as Cents;
    if negative {
        -q
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendure_vectors() {
        assert_eq!(prorate(300, &[4000, 2000, 2000]), [150, 75, 75]);
        assert_eq!(prorate(-300, &[4000, 2000, 2000]), [-150, -75, -75]);
        assert_eq!(prorate(299, &[4300, 1400, 2300]), [161, 52, 86]);
        assert_eq!(prorate(299, &[1000, 1000, 1000]), [100, 100, 99]);
        assert_eq!(prorate(40, &[10, 0]), [40, 0]);
        assert_eq!(prorate(10, &[0, 0]), [5, 5]);
        assert_eq!(prorate(-20, &[100, 100]), [-10, -10]);
        assert_eq!(prorate(7, &[]), Vec::<Cents>::new());
    }

    #[test]
    fn saleor_basket_ten_percent() {
        // 10% of 1024 is 102, split over 106/206/306/406.
        let total = percent_of(1024, 1000, Rounding::HalfUp);
        assert_eq!(total, 102);
        assert_eq!(prorate(total, &[106, 206, 306, 406]), [11, 21, 30, 40]);
    }

    #[test]
    fn rounding() {
        assert_eq!(percent_of(1999, 2500, Rounding::HalfUp), 500);
        assert_eq!(percent_of(106, 1000, Rounding::HalfUp), 11);
        assert_eq!(percent_of(104, 1000, Rounding::HalfUp), 10);
        assert_eq!(percent_of(250, 1000, Rounding::HalfUp), 25);
        assert_eq!(percent_of(25, 1000, Rounding::HalfUp), 3);
        assert_eq!(percent_of(25, 1000, Rounding::HalfEven), 2);
        assert_eq!(percent_of(35, 1000, Rounding::HalfEven), 4);
        assert_eq!(percent_of(-25, 1000, Rounding::HalfUp), -3);
        assert_eq!(percent_of(1000, 10_000, Rounding::HalfUp), 1000);
    }

    #[test]
    fn capped_reapportions_overflow() {
        assert_eq!(prorate_capped(100, &[1, 1, 1], &[10, 100, 100]), [10, 45, 45]);
        assert_eq!(prorate_capped(30, &[0, 0], &[10, 20]), [10, 20]);
        assert_eq!(prorate_capped(5, &[1, 0], &[2, 10]), [2, 3]);
    }
}
