//! Redemption identifiers (codes). A code is a number, its *key*, encrypted with FF1
//! format-preserving encryption (NIST SP 800-38G, AES-128) under the database's secret: the
//! result has the code's format, and only the secret maps it back to its key.
//!
//! Why not a random string: an index of random codes takes each new code on a random page,
//! so every issuance writes a page of its own, and issuance slowed as the table grew. Keys
//! drawn in increasing order (a credential's own id) keep the index's writes at its end,
//! while the codes stay as unguessable as random ones to anyone without the secret (FF1 is a
//! pseudorandom permutation: seeing codes and their ids says nothing of another id's code).
//! Keys drawn at random (`random_key`) stand in when an ordered key is taken.
//!
//! Two formats, chosen by the merchant's `redemption_identifier_type`:
//! - short numeric (default): 8 digits, easy to key in at a register. 10^8 possibilities: with
//!   L live codes in an account, one guess hits a live code with probability L/10^8
//!   (1 in 1,000 with 100,000 live codes), so POS attempts must be rate limited.
//! - long alphanumeric: 16 characters of Crockford base32 (no I, L, O, U), 80 bits; one guess
//!   hits with probability L/2^80, i.e. never in practice. For barcode scanners.
//!
//! FF1 is computed by `ff1` (checked against the `fpe` crate in its tests).
//!
//! Their keys never overlap (short below 10^8, long from 10^8 up), so one index of keys keeps
//! both formats' codes unique.

mod ff1;

use crate::catalog::merchant::RedemptionIdentifierType;
use ff1::Ff1;
use rand::Rng;

pub const SHORT_LEN: usize = 8;
pub const LONG_LEN: usize = 16;
const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Short keys are below this; long keys start here.
const SHORT_KEYS: i64 = 100_000_000;

/// Encrypts keys into codes and decrypts codes into keys, under one database's secret.
pub struct CodeCipher {
    short: Ff1,
    long: Ff1,
}

impl std::fmt::Debug for CodeCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeCipher(..)")
    }
}

impl CodeCipher {
    /// A new random secret, as the hex text `from_secret` reads.
    pub fn new_secret() -> String {
        hex::encode(rand::random::<[u8; 16]>())
    }

    /// The cipher of a secret made by `new_secret`; `None` if it is not 32 hex digits.
    pub fn from_secret(secret: &str) -> Option<Self> {
        let key: [u8; 16] = hex::decode(secret.trim()).ok()?.try_into().ok()?;
        Some(Self { short: Ff1::new(&key, 10, SHORT_LEN as u32), long: Ff1::new(&key, 32, LONG_LEN as u32) })
    }

    /// The key of the credential with this id: the id itself, within the format's keys.
    /// Ids grow, so these keys are written in order.
    pub fn ordered_key(kind: RedemptionIdentifierType, id: i64) -> i64 {
        match kind {
            RedemptionIdentifierType::ShortNumeric => id.rem_euclid(SHORT_KEYS),
            RedemptionIdentifierType::LongAlphanumeric => {
                id.checked_add(SHORT_KEYS).filter(|k| *k >= SHORT_KEYS).unwrap_or_else(|| Self::random_key(kind))
            }
        }
    }

    /// A key drawn at random from the format's keys.
    pub fn random_key(kind: RedemptionIdentifierType) -> i64 {
        let mut rng = rand::thread_rng();
        match kind {
            RedemptionIdentifierType::ShortNumeric => rng.gen_range(0..SHORT_KEYS),
            RedemptionIdentifierType::LongAlphanumeric => rng.gen_range(SHORT_KEYS..=i64::MAX),
        }
    }

    /// The code of `key` (a key of `kind`'s range, as `ordered_key` and `random_key` give).
    pub fn code(&self, kind: RedemptionIdentifierType, key: i64) -> String {
        let (cipher, radix, len, alphabet): (_, u128, _, &[u8]) = match kind {
            RedemptionIdentifierType::ShortNumeric => (&self.short, 10, SHORT_LEN, b"0123456789"),
            RedemptionIdentifierType::LongAlphanumeric => (&self.long, 32, LONG_LEN, CROCKFORD),
        };
        let mut value = cipher.encrypt(u128::try_from(key).unwrap_or_default());
        let mut code = vec![b'0'; len];
        for c in code.iter_mut().rev() {
            *c = alphabet[(value % radix) as usize];
            value /= radix;
        }
        code.into_iter().map(char::from).collect()
    }

    /// The key of `code`, or `None` when no key encrypts to it (it is not a code of either
    /// format, or a long code whose number is outside the keys).
    pub fn key(&self, code: &str) -> Option<i64> {
        let bytes = code.as_bytes();
        let number = |radix: u128, digit: &dyn Fn(u8) -> Option<u128>| {
            bytes.iter().try_fold(0u128, |n, &b| Some(n * radix + digit(b)?))
        };
        let key = if bytes.len() == SHORT_LEN {
            let value = number(10, &|b| b.is_ascii_digit().then(|| u128::from(b - b'0')))?;
            i64::try_from(self.short.decrypt(value)).ok()?
        } else if bytes.len() == LONG_LEN {
            let value = number(32, &|b| CROCKFORD.iter().position(|c| *c == b).map(|p| p as u128))?;
            i64::try_from(self.long.decrypt(value)).ok().filter(|k| *k >= SHORT_KEYS)?
        } else {
            return None;
        };
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::{prop_assert_eq, proptest};
    use std::collections::HashSet;
    use RedemptionIdentifierType::{LongAlphanumeric as Long, ShortNumeric as Short};

    fn cipher() -> CodeCipher {
        CodeCipher::from_secret(&CodeCipher::new_secret()).unwrap()
    }

    #[test]
    fn formats() {
        let c = cipher();
        let short = c.code(Short, CodeCipher::ordered_key(Short, 1));
        assert_eq!(short.len(), SHORT_LEN);
        assert!(short.bytes().all(|b| b.is_ascii_digit()));
        let long = c.code(Long, CodeCipher::ordered_key(Long, 1));
        assert_eq!(long.len(), LONG_LEN);
        assert!(long.bytes().all(|b| CROCKFORD.contains(&b)));
    }

    #[test]
    fn consecutive_keys_give_codes_that_do_not_count_up() {
        let c = cipher();
        let codes: Vec<u64> = (1..=200).map(|id| c.code(Short, id).parse().unwrap()).collect();
        assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 200, "a permutation never repeats");
        let steps = codes.windows(2).filter(|w| w[1].abs_diff(w[0]) < 1_000).count();
        assert!(steps < 3, "neighbouring ids get far-apart codes: {steps}");
    }

    #[test]
    fn another_secret_gives_other_codes_and_cannot_read_them() {
        let (a, b) = (cipher(), cipher());
        let codes = |c: &CodeCipher| (1..=50).map(|id| c.code(Short, id)).collect::<Vec<_>>();
        let same = codes(&a).iter().zip(codes(&b)).filter(|(x, y)| *x == y).count();
        assert!(same < 3, "{same} of 50 codes agree");
        let wrong = (1..=50).filter(|id| b.key(&a.code(Short, *id)) == Some(*id)).count();
        assert!(wrong < 3, "{wrong} of 50 codes read back under the wrong secret");
    }

    #[test]
    fn ordered_keys_keep_the_formats_apart() {
        assert_eq!(CodeCipher::ordered_key(Short, 7), 7);
        assert_eq!(CodeCipher::ordered_key(Short, SHORT_KEYS + 7), 7, "short keys wrap");
        assert_eq!(CodeCipher::ordered_key(Long, 7), SHORT_KEYS + 7);
        assert!(CodeCipher::ordered_key(Long, i64::MAX) >= SHORT_KEYS, "no overflow into short keys");
        for _ in 0..100 {
            assert!((0..SHORT_KEYS).contains(&CodeCipher::random_key(Short)));
            assert!(CodeCipher::random_key(Long) >= SHORT_KEYS);
        }
    }

    #[test]
    fn what_is_not_a_code_has_no_key() {
        let c = cipher();
        for text in ["", "1234567", "123456789", "1234567a", "kept", "0123456789abcdef", "0123456789ABCDEI"] {
            assert_eq!(c.key(text), None, "{text:?}");
        }
        // A long code whose number is below the long keys (or beyond i64) is nobody's.
        let unclaimed = (0..2_000).map(|_| rand_long()).filter(|code| c.key(code).is_none()).count();
        assert!(unclaimed > 1_900, "only 2^63 of the 2^80 long codes are keys: {unclaimed}");
    }

    fn rand_long() -> String {
        let mut rng = rand::thread_rng();
        (0..LONG_LEN).map(|_| CROCKFORD[rng.gen_range(0..CROCKFORD.len())] as char).collect()
    }

    proptest! {
        #[test]
        fn a_short_code_reads_back_to_its_key(key in 0..SHORT_KEYS) {
            let c = CIPHER.with(|c| c.code(Short, key));
            prop_assert_eq!(CIPHER.with(|c| c.key(&c.code(Short, key))), Some(key));
            prop_assert_eq!(c.len(), SHORT_LEN);
        }

        #[test]
        fn a_long_code_reads_back_to_its_key(key in SHORT_KEYS..=i64::MAX) {
            prop_assert_eq!(CIPHER.with(|c| c.key(&c.code(Long, key))), Some(key));
        }
    }

    thread_local! {
        static CIPHER: CodeCipher = cipher();
    }
}
