//! FF1 (NIST SP 800-38G, AES-128) with an empty tweak, on numeral strings given as their
//! numbers (`NUM_radix`), for strings whose halves fit in integers: the codes' 8 decimal
//! digits and 16 base-32 characters.
//!
//! Why not the `fpe` crate, which the tests check this against: it computes each of the ten
//! rounds with big integers, about 4 µs a short code here, on the write path of every
//! issuance. With the halves as integers and the round function's constant first block
//! encrypted once, a round is one AES block.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;

/// One FF1 key for one radix and length.
pub struct Ff1 {
    aes: Aes128,
    /// `E_K(P)`: the CBC-MAC of `P || Q` starts with it for every round.
    first_block: [u8; 16],
    /// radix^u and radix^v, the halves' ranges (u = ⌊n/2⌋, v = n − u).
    radix_u: u128,
    radix_v: u128,
    /// Bytes of a half in `Q` (b) and of the round's output used (d).
    b: usize,
    d: usize,
}

impl Ff1 {
    /// FF1 under `key` for strings of `len` digits in `radix`.
    ///
    /// # Panics
    /// If FF1 does not take these (radix 2 to 2^16, at least 2 digits, radix^len at least
    /// 100) or a half needs more than 12 bytes (then a round needs more than one block).
    /// Callers pass constants.
    pub fn new(key: &[u8; 16], radix: u32, len: u32) -> Self {
        assert!((2..=1 << 16).contains(&radix) && len >= 2, "FF1 takes radix 2..=2^16 and 2 digits or more");
        let (u, v) = (len / 2, len - len / 2);
        let power = |m: u32| u128::from(radix).checked_pow(m).expect("a half that fits in 128 bits");
        assert!(power(len) >= 100, "FF1 needs radix^len >= 100");
        let radix_v = power(v);
        // b = ⌈⌈v·log2(radix)⌉ / 8⌉, where ⌈log2(radix^v)⌉ is the bit length of radix^v − 1.
        let bits = 128 - (radix_v - 1).leading_zeros() as usize;
        let b = bits.div_ceil(8);
        let d = 4 * b.div_ceil(4) + 4;
        assert!(d <= 16, "a half of at most 12 bytes");
        let aes = Aes128::new(GenericArray::from_slice(key));
        // P = [1]¹ [2]¹ [1]¹ [radix]³ [10]¹ [u mod 256]¹ [n]⁴ [t]⁴, with t = 0.
        let mut p = [0u8; 16];
        p[..3].copy_from_slice(&[1, 2, 1]);
        p[3..6].copy_from_slice(&radix.to_be_bytes()[1..]);
        p[6] = 10;
        p[7] = (u % 256) as u8;
        p[8..12].copy_from_slice(&len.to_be_bytes());
        let mut first = GenericArray::from(p);
        aes.encrypt_block(&mut first);
        Self { aes, first_block: first.into(), radix_u: power(u), radix_v, b, d }
    }

    /// The number of the encryption of the string whose number is `x` (below radix^len).
    pub fn encrypt(&self, x: u128) -> u128 {
        let (mut a, mut b) = (x / self.radix_v, x % self.radix_v);
        for i in 0..10 {
            let m = self.half(i);
            let c = (a + self.round(i, b) % m) % m;
            (a, b) = (b, c);
        }
        a * self.radix_v + b
    }

    /// The number of the decryption of the string whose number is `y` (below radix^len).
    pub fn decrypt(&self, y: u128) -> u128 {
        let (mut a, mut b) = (y / self.radix_v, y % self.radix_v);
        for i in (0..10).rev() {
            let m = self.half(i);
            let c = (b + m - self.round(i, a) % m) % m;
            (a, b) = (c, a);
        }
        a * self.radix_v + b
    }

    /// radix^m of round `i`: m = u in even rounds, v in odd ones.
    fn half(&self, i: u8) -> u128 {
        match i % 2 {
            0 => self.radix_u,
            _ => self.radix_v,
        }
    }

    /// y of round `i` with the other half's number `half`: NUM(S), S the first d bytes of
    /// R = PRF(P || Q), Q = [0]^(15−b) [i]¹ [NUM(half)]^b (one block, as t = 0 and b ≤ 12).
    fn round(&self, i: u8, half: u128) -> u128 {
        let mut q = [0u8; 16];
        q[15 - self.b] = i;
        q[16 - self.b..].copy_from_slice(&half.to_be_bytes()[16 - self.b..]);
        let mut block = GenericArray::from(std::array::from_fn::<u8, 16, _>(|k| self.first_block[k] ^ q[k]));
        self.aes.encrypt_block(&mut block);
        block[..self.d].iter().fold(0u128, |n, &byte| n << 8 | u128::from(byte))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fpe::ff1::{FlexibleNumeralString, FF1};
    use proptest::prelude::*;

    /// NIST SP 800-38G's FF1 sample 1 (AES-128, radix 10, no tweak).
    #[test]
    fn nist_sample_1() {
        let key: [u8; 16] = hex::decode("2B7E151628AED2A6ABF7158809CF4F3C").unwrap().try_into().unwrap();
        let ff1 = Ff1::new(&key, 10, 10);
        assert_eq!(ff1.encrypt(123_456_789), 2_433_477_484);
        assert_eq!(ff1.decrypt(2_433_477_484), 123_456_789);
    }

    /// The digits of `x` in `radix`, most significant first, as `fpe` takes them.
    fn digits(mut x: u128, radix: u32, len: u32) -> Vec<u16> {
        let mut out = vec![0u16; len as usize];
        for digit in out.iter_mut().rev() {
            *digit = (x % u128::from(radix)) as u16;
            x /= u128::from(radix);
        }
        out
    }

    fn number(digits: Vec<u16>, radix: u32) -> u128 {
        digits.into_iter().fold(0, |n, d| n * u128::from(radix) + u128::from(d))
    }

    /// Both ways, against the `fpe` crate, for the codes' two shapes.
    fn same_as_fpe(key: [u8; 16], radix: u32, len: u32, x: u128) -> Result<(), TestCaseError> {
        let ours = Ff1::new(&key, radix, len);
        let theirs = FF1::<Aes128>::new(&key, radix).unwrap();
        let encrypted = theirs.encrypt(&[], &FlexibleNumeralString::from(digits(x, radix, len))).unwrap();
        prop_assert_eq!(ours.encrypt(x), number(encrypted.into(), radix));
        let decrypted = theirs.decrypt(&[], &FlexibleNumeralString::from(digits(x, radix, len))).unwrap();
        prop_assert_eq!(ours.decrypt(x), number(decrypted.into(), radix));
        Ok(())
    }

    proptest! {
        #[test]
        fn short_codes_match_fpe(key in any::<[u8; 16]>(), x in 0..100_000_000u128) {
            same_as_fpe(key, 10, 8, x)?;
        }

        #[test]
        fn long_codes_match_fpe(key in any::<[u8; 16]>(), x in 0..1u128 << 80) {
            same_as_fpe(key, 32, 16, x)?;
        }

        #[test]
        fn other_shapes_match_fpe(key in any::<[u8; 16]>(), radix in 2..=40u32, len in 2..=12u32, x in any::<u128>()) {
            // `fpe` takes only domains of a million strings or more (SP 800-38G Rev. 1).
            let Some(range) = u128::from(radix).checked_pow(len).filter(|r| *r >= 1_000_000) else { return Ok(()) };
            same_as_fpe(key, radix, len, x % range)?;
        }
    }
}
