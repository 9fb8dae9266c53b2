//! Conversion callback URLs: `%{key}` placeholders filled with URL-encoded values; unknown
//! keys become blank ("Any keys that cannot be resolved will result in blank parameters").

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::collections::HashMap;

/// Everything but the unreserved characters of RFC 3986 is encoded.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub fn expand(template: &str, values: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("%{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = &rest[start + 2..start + end];
        if let Some(value) = values.get(key) {
            out.extend(utf8_percent_encode(value, VALUE));
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// What a test callback (sent from the portal) fills a channel's template with: every key a
/// redemption fills, with values that say it is a test, so the receiver can tell it apart.
pub fn test_values(now: &str) -> HashMap<String, String> {
    [
        ("credential_id", "0"),
        ("offer_id", "0"),
        ("offer_ids", "0"),
        ("store_id", "0"),
        ("status", "test"),
        ("sf_uid", "test"),
        ("sf_ac", "test"),
        ("xid", "test"),
        ("redeemed_at", now),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fills_encodes_and_blanks() {
        let values: HashMap<String, String> = [
            ("credential_id", "578"),
            ("redeemed_at", "2013-01-28T21:44:10Z"),
            ("offer_ids", "1011,1116"),
            ("click", "a b&c"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let url = expand(
            "https://my_server.com/callback/%{credential_id}?t=%{redeemed_at}&o=%{offer_ids}&c=%{click}&u=%{unknown}",
            &values,
        );
        assert_eq!(url, "https://my_server.com/callback/578?t=2013-01-28T21%3A44%3A10Z&o=1011%2C1116&c=a%20b%26c&u=");
    }

    proptest! {
        #[test]
        fn values_cannot_inject_url_syntax(v in ".*") {
            let values = HashMap::from([("k".to_owned(), v)]);
            let url = expand("https://x.test/?a=%{k}", &values);
            prop_assert!(!url["https://x.test/?a=".len()..].contains(['&', '?', '#', '/', ' ']));
        }
    }
}
