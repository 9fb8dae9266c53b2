//! Sessions: the `kindling_admin` cookie (a random token; the database keeps its SHA-256
//! digest), the extractor every page but sign-in takes, and the CSRF check of every form.

use super::pages::{ACCOUNT_PAGES, READ_ONLY};
use super::view::{self, Nav};
use super::PortalState;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kindling_domain::portal::{Access, DEVICE_LIFETIME_SECONDS, SESSION_LIFETIME_SECONDS};
use kindling_domain::{secret, Timestamp};
use kindling_store::portal::{self, Session};
use std::collections::HashMap;

/// The session cookie: `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's
/// page sends it), `Secure` (https only; browsers treat http://localhost and 127.0.0.1 as
/// secure too), and only under `/admin`.
pub const SESSION_COOKIE: &str = "kindling_admin";

/// The sign-in form's CSRF token before there is a session (double submit: the form's
/// hidden field must equal this cookie), so no other site can sign a browser in.
pub const LOGIN_COOKIE: &str = "kindling_admin_login";

/// A browser that signed in before (a random token; its digest and email are stored): its
/// sign-in attempts for that email count against the browser, not the email. It grants
/// nothing by itself and stays after signing out.
pub const DEVICE_COOKIE: &str = "kindling_admin_device";

const ATTRIBUTES: &str = "Path=/admin; HttpOnly; Secure; SameSite=Strict";

pub fn session_cookie(token: &str) -> String {
    format!("{SESSION_COOKIE}={token}; Max-Age={SESSION_LIFETIME_SECONDS}; {ATTRIBUTES}")
}

pub fn device_cookie(token: &str) -> String {
    format!("{DEVICE_COOKIE}={token}; Max-Age={DEVICE_LIFETIME_SECONDS}; {ATTRIBUTES}")
}

/// The digest of the request's device cookie, if it has one.
pub fn device(headers: &HeaderMap) -> Option<String> {
    cookie(headers, DEVICE_COOKIE).map(|token| secret::token_digest(&token))
}

pub fn login_cookie(token: &str) -> String {
    format!("{LOGIN_COOKIE}={token}; Max-Age=3600; {ATTRIBUTES}")
}

/// Tells the browser to forget `name`.
pub fn expired_cookie(name: &str) -> String {
    format!("{name}=; Max-Age=0; {ATTRIBUTES}")
}

/// The value of our cookie `name`, if it has a token's shape (64 hex characters).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    crate::page::cookie(headers, name, secret::looks_like_token).map(str::to_ascii_lowercase)
}

/// A signed-in request: the session and what its user may do.
pub struct Signed {
    pub session: Session,
    pub access: Access,
    /// The session token's digest (what sign-out deletes).
    pub digest: String,
}

impl Signed {
    /// The layout's context for a page of `nav`.
    pub fn chrome(&self, nav: Nav) -> minijinja::Value {
        view::chrome(&self.session, &self.access, nav)
    }

    /// 403 with the layout.
    pub fn forbidden(&self, text: &str) -> Response {
        view::forbidden(text, Some(self.chrome(Nav::None)))
    }

    /// A store operator's or viewer's 403 on a writing page.
    pub fn refuse_writing(&self) -> Response {
        self.forbidden(if self.access.sees_account() { READ_ONLY } else { ACCOUNT_PAGES })
    }

    /// The 403 a writing POST answers, if any: the CSRF token is checked first, then the role.
    pub fn write_refusal(&self, form: &Form) -> Option<Response> {
        self.csrf_refusal(form).or_else(|| (!self.access.can_edit()).then(|| self.refuse_writing()))
    }

    /// The 403 to answer unless the form's `csrf` field is this session's token. Checked
    /// before anything else a POST does.
    pub fn csrf_refusal(&self, form: &Form) -> Option<Response> {
        const EXPIRED: &str = "This form has expired or did not come from this site. Reload the page and try again.";
        match form.get("csrf") {
            Some(token)
                if kindling_domain::secret::same_bytes(token.as_bytes(), self.session.csrf_token.as_bytes()) =>
            {
                None
            }
            _ => Some(self.forbidden(EXPIRED)),
        }
    }
}

impl<S> FromRequestParts<S> for Signed
where
    PortalState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let portal = PortalState::from_ref(state);
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(view::redirect("/admin/login"));
        };
        let digest = secret::token_digest(&token);
        let session = match portal::session(&portal.db, &digest, Timestamp::now()).await {
            Ok(Some(session)) => session,
            Ok(None) => return Err(view::redirect("/admin/login")),
            Err(e) => return Err(view::store_failure(&e)),
        };
        let Some(access) = session.access.clone() else {
            return Err(view::message(
                StatusCode::FORBIDDEN,
                "forbidden",
                "No stores",
                "Your user has no stores left to work at. Ask an owner of the account.",
                None,
            ));
        };
        Ok(Self { session, access, digest })
    }
}

/// A posted form (`application/x-www-form-urlencoded`): every value of each name, in order.
pub struct Form(HashMap<String, Vec<String>>);

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        let mut fields: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            fields.entry(name.into_owned()).or_default().push(value.into_owned());
        }
        Self(fields)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|values| values.first()).map(String::as_str)
    }

    /// Every value of `name` (a group of checkboxes).
    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;
    use axum::http::HeaderValue;

    #[test]
    fn only_token_shaped_cookies_are_read() {
        let token = secret::new_token();
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&format!("a=b; {SESSION_COOKIE}={token}")).unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some(token));
        assert_eq!(cookie(&headers, LOGIN_COOKIE), None);
        headers.insert(COOKIE, HeaderValue::from_static("kindling_admin=../x"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), None);
    }

    #[test]
    fn forms_keep_the_first_value() {
        let form = Form::parse(b"csrf=a&csrf=b&email=ann%40example.com&x=%3Cscript%3E");
        assert_eq!(form.get("csrf"), Some("a"));
        assert_eq!(form.get("email"), Some("ann@example.com"));
        assert_eq!(form.get("x"), Some("<script>"));
        assert_eq!(form.get("missing"), None);
        assert_eq!(form.all("csrf"), ["a", "b"]);
        assert!(form.all("missing").is_empty());
    }

    #[test]
    fn cookies_are_strict_http_only_and_secure() {
        let set = session_cookie("t");
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin", "Max-Age=43200"] {
            assert!(set.contains(part), "{set}");
        }
        assert!(expired_cookie(SESSION_COOKIE).contains("Max-Age=0"));
    }
}
