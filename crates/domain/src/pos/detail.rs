//! The words of a rejection's `detail`, built in one allocation each: a ticket against
//! thousands of offers rejects most of them.

use super::{Cents, ItemMatch, Rule};

/// "none of FRIES-M is in the basket".
pub(super) fn none_of(m: &ItemMatch) -> String {
    match m {
        ItemMatch::Any => "no line of the ticket can be discounted".to_owned(),
        m => words(|o| o.push_str("none of "), m, " is in the basket"),
    }
}

/// "requires 2 of BURGER" and `suffix`.
pub(super) fn requires(rule: &Rule, suffix: &str) -> String {
    match &rule.requires {
        Some((m, n)) => words(|o| count_of(o, "requires ", i64::from(*n)), m, suffix),
        None => format!("requires more items{suffix}"),
    }
}

/// Cents as the cashier reads them: 1234 → "12.34".
pub(super) fn money(c: Cents) -> String {
    let sign = if c < 0 { "-" } else { "" };
    let c = c.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// "requires 2 of " without the formatting machinery (thousands of rejections per ticket).
pub(super) fn count_of(out: &mut String, verb: &str, n: i64) {
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
