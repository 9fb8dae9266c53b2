//! Redemption identifiers: drawn from a cryptographically secure generator, never sequential
//! or derivable. `rand::thread_rng` (ChaCha12, seeded and periodically reseeded from the OS)
//! rather than the OS source itself, which cost a system call per character.
//!
//! Two formats, chosen by the merchant's `redemption_identifier_type`:
//! - short numeric (default): 8 digits, easy to key in at a register. 10^8 possibilities: with
//!   L live codes in an account, one random guess hits a live code with probability L/10^8
//!   (1 in 1,000 with 100,000 live codes), so POS attempts must be rate limited.
//! - long alphanumeric: 16 characters of Crockford base32 (no I, L, O, U), 80 bits; one guess
//!   hits with probability L/2^80, i.e. never in practice. For barcode scanners.

use crate::catalog::merchant::RedemptionIdentifierType;
use rand::Rng;

pub const SHORT_LEN: usize = 8;
pub const LONG_LEN: usize = 16;
const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn generate(kind: RedemptionIdentifierType) -> String {
    let (alphabet, len): (&[u8], usize) = match kind {
        RedemptionIdentifierType::ShortNumeric => (b"0123456789", SHORT_LEN),
        RedemptionIdentifierType::LongAlphanumeric => (CROCKFORD, LONG_LEN),
    };
    let mut rng = rand::thread_rng();
    (0..len).map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn formats() {
        let short = generate(RedemptionIdentifierType::ShortNumeric);
        assert_eq!(short.len(), SHORT_LEN);
        assert!(short.bytes().all(|b| b.is_ascii_digit()));
        let long = generate(RedemptionIdentifierType::LongAlphanumeric);
        assert_eq!(long.len(), LONG_LEN);
        assert!(long.bytes().all(|b| CROCKFORD.contains(&b)));
    }

    #[test]
    fn not_sequential() {
        let codes: Vec<u64> =
            (0..200).map(|_| generate(RedemptionIdentifierType::ShortNumeric).parse().unwrap()).collect();
        let distinct: HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 190, "random codes rarely collide");
        let steps = codes.windows(2).filter(|w| w[1] == w[0] + 1).count();
        assert!(steps < 3, "no counting up");
    }
}
