//! Secrets: API keys and session tokens. Only digests or password hashes are ever stored.

use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};

/// Session lifetime: "Tokens will be valid for 24 hours."
pub const TOKEN_LIFETIME_SECONDS: i64 = 24 * 60 * 60;

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A fresh session token: 64 lowercase hex characters, as the platform issues them.
pub fn new_token() -> String {
    random_hex(32)
}

/// A fresh API key (`X-Auth-Key`): 48 hex characters of OS randomness.
pub fn new_api_key() -> String {
    random_hex(24)
}

/// Tokens carry 256 bits of entropy, so a fast digest is enough to store them safely and lets
/// every request check its token with one indexed lookup instead of a password hash.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a presented string has the shape of a token, before any lookup.
pub fn looks_like_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert!(looks_like_token(&a) && looks_like_token(&b));
        assert_ne!(a, b);
        assert_ne!(token_digest(&a), a);
        assert_eq!(token_digest(&a), token_digest(&a));
    }
}

/// Stores an API key as its SHA-256 digest, as tokens are: a key is 192 bits of OS
/// randomness, so its digest cannot be reversed nor the key guessed, and checking one costs
/// a microsecond, so wrong keys cannot queue a server on password hashing and a right key is
/// never turned away for lack of a slot. Keys stored before were Argon2id hashes:
/// `verify_api_key` still checks those (`is_slow_key_hash`), and `/auth` replaces one with
/// the digest when its key next logs in.
pub fn hash_api_key(key: &str) -> String {
    token_digest(key)
}

/// Whether a stored key hash is an older Argon2id hash (slow to check: run it off the
/// async workers, through `kindling_web::hashing`).
pub fn is_slow_key_hash(stored_hash: &str) -> bool {
    stored_hash.starts_with("$argon2")
}

/// Whether `key` matches a stored key hash: its digest (compared in constant time), or an
/// older Argon2id hash (slow).
pub fn verify_api_key(key: &str, stored_hash: &str) -> bool {
    if is_slow_key_hash(stored_hash) {
        return verify_argon2(key, stored_hash);
    }
    same_bytes(token_digest(key).as_bytes(), stored_hash.as_bytes())
}

/// Whether two byte strings are equal, in time that depends only on their lengths.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn hash_argon2(secret: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

fn verify_argon2(secret: &str, stored_hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(stored_hash)
        .is_ok_and(|hash| argon2::Argon2::default().verify_password(secret.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn api_keys_verify_against_their_hash_only() {
        let key = new_api_key();
        let hash = hash_api_key(&key);
        assert!(!hash.contains(&key) && !is_slow_key_hash(&hash));
        assert!(verify_api_key(&key, &hash));
        assert!(!verify_api_key(&new_api_key(), &hash));
        assert!(!verify_api_key(&key, "not a hash"));
        assert!(!verify_api_key(&key, ""));
    }

    /// A key stored by an earlier version, as an Argon2id hash, still opens its account.
    #[test]
    fn keys_stored_as_argon2_still_verify() {
        let key = new_api_key();
        let old = hash_argon2(&key);
        assert!(is_slow_key_hash(&old));
        assert!(verify_api_key(&key, &old));
        assert!(!verify_api_key(&new_api_key(), &old));
    }

    #[test]
    fn same_bytes_compares_whole_strings() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd") && !same_bytes(b"abc", b"ab") && !same_bytes(b"", b"a"));
    }
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An offer×channel `xid` such as `Z7nnWs6`: 7 base62 characters (62^7 ≈ 3.5e12) from the
/// OS random source; it is public (it is the landing page's path) but not guessable in bulk.
pub fn new_xid() -> String {
    use rand::Rng;
    (0..7).map(|_| BASE62[OsRng.gen_range(0..BASE62.len())] as char).collect()
}

#[cfg(test)]
mod xid_tests {
    #[test]
    fn xids_are_seven_base62_chars() {
        let xid = super::new_xid();
        assert_eq!(xid.len(), 7);
        assert!(xid.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}

/// SHA-256 of arbitrary bytes, hex-encoded (request fingerprints for idempotency keys).
pub fn digest_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Hashes a portal user's password for storage: Argon2id with a random salt (a person's
/// password may be guessable, unlike a key). Deliberately slow: run it off the async workers.
pub fn hash_password(password: &str) -> String {
    hash_argon2(password)
}

/// Whether `password` matches a stored Argon2id hash (a malformed hash matches nothing). Slow.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    verify_argon2(password, stored_hash)
}

/// A one-time password for a new portal user: 20 base62 characters (about 119 bits).
pub fn new_password() -> String {
    use rand::Rng;
    (0..20).map(|_| BASE62[OsRng.gen_range(0..BASE62.len())] as char).collect()
}

#[cfg(test)]
mod password_tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_argon2id_hash_only() {
        let password = new_password();
        assert_eq!(password.len(), 20);
        assert!(password.bytes().all(|b| b.is_ascii_alphanumeric()));
        let hash = hash_password(&password);
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&password, &hash));
        assert!(!verify_password(&new_password(), &hash));
        assert!(!verify_password(&password, ""));
    }
}
