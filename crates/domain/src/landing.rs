//! Landing pages: which view a visitor gets, who the visitor is, and signed links.
//!
//! A signed link carries `sf_uid`, `expires` (Unix seconds) and `sig`, the lowercase hex
//! HMAC-SHA256, keyed with the eligible channel's `security_key`, of
//! `"{xid}\n{sf_uid}\n{expires}"`. It proves that whoever holds the key (the brand's email or
//! app backend) sent this member to this offer until that time, so a code cannot be farmed by
//! inventing `sf_uid`s.

use crate::Timestamp;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How the offer is shown: the guide's "static, printable code" by default, the mobile page
/// with `printable=false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Printable,
    Mobile,
}

impl View {
    /// `printable=false` (or `0`) asks for the mobile view; an offer whose formatting says
    /// `no_printable` is only ever shown as the mobile view.
    pub fn choose(printable: Option<&str>, no_printable: bool) -> Self {
        let mobile_asked = printable.is_some_and(|p| matches!(p.trim().to_ascii_lowercase().as_str(), "false" | "0"));
        if no_printable || mobile_asked {
            Self::Mobile
        } else {
            Self::Printable
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Printable => "printable",
            Self::Mobile => "mobile",
        }
    }
}

/// The member identifier of an anonymous visitor, bound to their cookie.
pub fn visitor_identifier(cookie: &str) -> String {
    format!("visitor-{cookie}")
}

/// A visitor cookie we issued: 32 lowercase hex characters (a random UUID, simple form).
pub fn is_visitor_cookie(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether the offer on this channel is only shown through signed links: the eligible
/// channel has a `security_key` and either names a `security` mode (anything but none) or
/// its channel allows HMAC links.
pub fn requires_signature(security: Option<&str>, security_key: Option<&str>, allow_hmac: bool) -> bool {
    let keyed = security_key.is_some_and(|k| !k.is_empty());
    let mode = security.is_some_and(|s| !s.is_empty() && !s.eq_ignore_ascii_case("none"));
    keyed && (mode || allow_hmac)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// `sf_uid`, `expires` or `sig` is missing or malformed.
    Unsigned,
    Expired,
    BadSignature,
}

fn mac(key: &str, xid: &str, sf_uid: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{xid}\n{sf_uid}\n{expires}").as_bytes());
    mac
}

/// The `sig` of a link (what the brand's backend computes).
pub fn sign(key: &str, xid: &str, sf_uid: &str, expires: i64) -> String {
    hex::encode(mac(key, xid, sf_uid, expires).finalize().into_bytes())
}

/// Checks a link's parameters against the key, in constant time.
pub fn verify(
    key: &str,
    xid: &str,
    sf_uid: Option<&str>,
    expires: Option<&str>,
    sig: Option<&str>,
    now: Timestamp,
) -> Result<(), LinkRefusal> {
    let (Some(sf_uid), Some(expires), Some(sig)) = (sf_uid, expires, sig) else {
        return Err(LinkRefusal::Unsigned);
    };
    let expires: i64 = expires.parse().map_err(|_| LinkRefusal::Unsigned)?;
    let sig = hex::decode(sig).map_err(|_| LinkRefusal::Unsigned)?;
    if sf_uid.is_empty() {
        return Err(LinkRefusal::Unsigned);
    }
    mac(key, xid, sf_uid, expires).verify_slice(&sig).map_err(|_| LinkRefusal::BadSignature)?;
    if now.unix() >= expires {
        return Err(LinkRefusal::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn printable_unless_asked_or_forbidden() {
        assert_eq!(View::choose(None, false), View::Printable);
        assert_eq!(View::choose(Some("true"), false), View::Printable);
        assert_eq!(View::choose(Some("false"), false), View::Mobile);
        assert_eq!(View::choose(Some("FALSE"), false), View::Mobile);
        assert_eq!(View::choose(Some("0"), false), View::Mobile);
        assert_eq!(View::choose(None, true), View::Mobile);
        assert_eq!(View::choose(Some("true"), true), View::Mobile);
    }

    #[test]
    fn signature_needs_a_key_and_a_mode() {
        assert!(!requires_signature(None, None, true));
        assert!(!requires_signature(Some("hmac"), None, false));
        assert!(!requires_signature(Some("hmac"), Some(""), false));
        assert!(!requires_signature(None, Some("k"), false));
        assert!(!requires_signature(Some("none"), Some("k"), false));
        assert!(requires_signature(Some("hmac"), Some("k"), false));
        assert!(requires_signature(None, Some("k"), true));
    }

    #[test]
    fn a_known_vector() {
        // printf 'Z7nnWs6\next-1\n2000000000' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            sign("secret", "Z7nnWs6", "ext-1", 2_000_000_000),
            "4d0c6cc96935530d7a3a7af396a58a1091989b91eb7fa10afd685fe4b1c805f9"
        );
    }

    proptest! {
        #[test]
        fn only_the_signed_parameters_pass(uid in "[a-z0-9-]{1,20}", other in "[a-z0-9-]{1,20}", expires in 1_000i64..3_000) {
            let now = Timestamp::from_unix(500);
            let sig = sign("key", "xid1", &uid, expires);
            prop_assert_eq!(verify("key", "xid1", Some(&uid), Some(&expires.to_string()), Some(&sig), now), Ok(()));
            prop_assert_eq!(verify("other", "xid1", Some(&uid), Some(&expires.to_string()), Some(&sig), now), Err(LinkRefusal::BadSignature));
            prop_assert_eq!(verify("key", "xid2", Some(&uid), Some(&expires.to_string()), Some(&sig), now), Err(LinkRefusal::BadSignature));
            prop_assert_eq!(verify("key", "xid1", Some(&uid), Some(&(expires + 1).to_string()), Some(&sig), now), Err(LinkRefusal::BadSignature));
            if other != uid {
                prop_assert_eq!(verify("key", "xid1", Some(&other), Some(&expires.to_string()), Some(&sig), now), Err(LinkRefusal::BadSignature));
            }
            let late = Timestamp::from_unix(expires);
            prop_assert_eq!(verify("key", "xid1", Some(&uid), Some(&expires.to_string()), Some(&sig), late), Err(LinkRefusal::Expired));
            prop_assert_eq!(verify("key", "xid1", None, Some(&expires.to_string()), Some(&sig), now), Err(LinkRefusal::Unsigned));
            prop_assert_eq!(verify("key", "xid1", Some(&uid), Some("soon"), Some(&sig), now), Err(LinkRefusal::Unsigned));
            prop_assert_eq!(verify("key", "xid1", Some(&uid), Some(&expires.to_string()), Some("zz"), now), Err(LinkRefusal::Unsigned));
        }
    }
}
