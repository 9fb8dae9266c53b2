//! Zidentifiers: a random number that names one member × offer × channel.
//!
//! The spec's client types the `zid` path parameter as an integer while the record's `zid`
//! is a string, so a zid is a string of decimal digits that also parses as an integer: 15
//! digits, the first non-zero (below 2^53, so clients that read numbers as doubles keep it
//! exact). They are drawn from the OS random source, so they are not guessable in bulk; a
//! collision with an existing zid is redrawn by the store.

use rand::rngs::OsRng;
use rand::Rng;

pub const ZID_DIGITS: usize = 15;

/// A fresh zid such as `482019374650218`.
pub fn new_zid() -> String {
    OsRng.gen_range(100_000_000_000_000_i64..1_000_000_000_000_000).to_string()
}

/// Whether `raw` could be a zid: all digits, no sign or spaces. Anything else names no zid.
pub fn looks_like_zid(raw: &str) -> bool {
    !raw.is_empty() && raw.len() <= 19 && raw.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zids_are_fifteen_digits_without_a_leading_zero() {
        for _ in 0..1000 {
            let zid = new_zid();
            assert_eq!(zid.len(), ZID_DIGITS, "{zid}");
            assert!(zid.bytes().all(|b| b.is_ascii_digit()) && !zid.starts_with('0'), "{zid}");
            assert!(zid.parse::<i64>().unwrap() < 1 << 53);
        }
        assert!(looks_like_zid("482019374650218"));
        assert!(!looks_like_zid("-1") && !looks_like_zid("") && !looks_like_zid("12a") && !looks_like_zid(" 1"));
    }
}
