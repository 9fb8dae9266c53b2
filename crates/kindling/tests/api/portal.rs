//! The Admin Portal over real HTTP (docs/PORTAL.md): sign-in, sessions, the failure limit,
//! CSRF, the role rules (forms sent directly, not only through the pages), the code page's
//! redeem and void checked through the API, escaping, and `kindling user create`.

use crate::backend_tests;
use crate::credentials::{issue, setup, Setup};
use crate::helpers::{TestAccount, TestApp};
use kindling_domain::portal::{Access, Email, Role};
use kindling_domain::{secret, AccountId, StoreId, Timestamp};
use kindling_store::portal::{create_user, NewUser};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    sign_in_session_and_sign_out,
    sign_in_failures_are_limited_per_email,
    a_browser_that_signed_in_before_is_not_locked_out,
    known_browsers_are_few_and_forgotten_on_a_password_change,
    every_form_needs_the_session_csrf_token,
    roles_are_enforced_on_the_server,
    codes_are_looked_up_redeemed_and_voided_through_the_form,
    another_accounts_code_is_not_found,
    user_text_is_escaped,
    dashboard_figures,
    offers_page_filters_and_pages,
    users_are_created_with_the_cli,
    pages_run_a_fixed_number_of_statements,
    merchants_are_created_and_edited_through_the_forms,
    offers_are_created_and_edited_through_the_forms,
    publishing_channels_and_status_through_the_offer_page,
    merchant_and_offer_forms_follow_the_roles,
    another_accounts_records_are_not_found_in_the_forms,
    the_new_forms_need_the_csrf_token,
);

pub const PASSWORD: &str = "correct horse battery";

/// A form without fields.
const EMPTY: &[(&str, &str)] = &[];

/// A portal answer: status, headers and the page.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Page {
    /// The `Location` of a 303.
    pub fn location(&self) -> &str {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.text);
        self.headers[LOCATION].to_str().unwrap()
    }

    /// The `Set-Cookie` line for `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The first `csrf` hidden field's value.
    pub fn csrf(&self) -> String {
        let at = self.text.find(r#"name="csrf" value=""#).unwrap_or_else(|| panic!("no csrf field: {}", self.text));
        let rest = &self.text[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

/// A browser-like client of the portal that keeps its cookies by hand (so the test sees
/// them) and follows no redirects.
pub struct Portal {
    /// The server's address: the test app's, or another process's over the same database.
    pub base: String,
    client: Client,
    cookies: Vec<(String, String)>,
    /// The session's CSRF token, once signed in.
    pub csrf: String,
}

impl Portal {
    pub fn new(app: &TestApp) -> Self {
        Self::at(&app.base)
    }

    /// A client of the portal served at `base`.
    pub fn at(base: &str) -> Self {
        let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: base.to_owned(), client, cookies: Vec::new(), csrf: String::new() }
    }

    /// Signs in as `email` with `PASSWORD`, which must succeed.
    pub async fn signed_in(app: &TestApp, email: &str) -> Self {
        let mut portal = Self::new(app);
        let answer = portal.sign_in(email, PASSWORD).await;
        assert!(answer.location().starts_with("/admin"), "signed in");
        let page = portal.get("/admin/codes").await;
        assert_eq!(page.status, 200, "{}", page.text);
        portal.csrf = page.csrf();
        portal
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<String>) -> Page {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            request = request.header("cookie", self.cookie_header());
        }
        if let Some(body) = form {
            request = request.header("content-type", "application/x-www-form-urlencoded").body(body);
        }
        let response = request.send().await.unwrap();
        let page = Page {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap(),
        };
        for set in page.headers.get_all(SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !set.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    /// Posts a form: pairs of names and values (`&[(&str, &str)]`, `Vec<(&str, String)>`).
    pub async fn post<F: serde::Serialize + ?Sized>(&mut self, path: &str, form: &F) -> Page {
        self.send(Method::POST, path, Some(serde_urlencoded::to_string(form).unwrap())).await
    }

    /// Loads the sign-in form (for its cookie and token) and posts it.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/admin/login").await;
        assert_eq!(form.status, 200);
        let csrf = form.csrf();
        self.post("/admin/login", &[("email", email), ("password", password), ("csrf", &csrf)]).await
    }

    /// The value of the cookie `name` the browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    pub fn session_token(&self) -> Option<&str> {
        self.cookies.iter().find(|(n, _)| n == "kindling_admin").map(|(_, v)| v.as_str())
    }
}

/// A portal user made through the store (the CLI has its own test), with `PASSWORD`.
pub async fn user(app: &TestApp, acct: &TestAccount, role: Role, stores: &[i64]) -> String {
    let email = format!("{}-{}@example.com", role.as_str(), secret::new_xid().to_lowercase());
    let stores: Vec<StoreId> = stores.iter().copied().map(StoreId).collect();
    let user = NewUser {
        email: Email::parse(&email).unwrap(),
        password_hash: secret::hash_password(PASSWORD),
        access: Access::new(role, &stores).unwrap(),
    };
    create_user(&app.db, AccountId(acct.id), user).await.unwrap();
    email
}

/// An owner of `acct` signed in to a separate `kindling serve` over the test's database, to
/// count the statements a page runs (`/metrics` of that process: the per-process counter
/// of this one is disturbed by the other tests), with `alone`, the fewest its background
/// tasks run between two scrapes.
pub struct Counted {
    pub server: crate::cli::Server,
    pub owner: Portal,
    pub client: Client,
    pub alone: u64,
}

pub async fn counted_owner(app: &TestApp, acct: &TestAccount) -> Counted {
    let email = user(app, acct, Role::Owner, &[]).await;
    let server = crate::cli::Server::start(&app.url).await;
    let mut owner = Portal::new(app);
    owner.base = server.base.clone();
    assert_eq!(owner.sign_in(&email, PASSWORD).await.status, 303);
    let client = Client::new();
    let alone = crate::statements::fewest(&client, &server.base, async || {}).await;
    Counted { server, owner, client, alone }
}

/// A store of a new merchant of the account.
pub async fn store(app: &TestApp, acct: &TestAccount, name: &str) -> i64 {
    let merchant = crate::merchants::merchant(app, acct, &format!("{name} merchant")).await;
    let created = app.post(acct, &format!("/v1.0/merchants/{merchant}/stores"), json!({"store": {"name": name}})).await;
    created.error_free().body["store"]["id"].as_i64().unwrap()
}

/// A code issued through the API: its credential id and identifier.
pub async fn code(app: &TestApp, acct: &TestAccount, s: &Setup) -> (i64, String) {
    let issued = issue(app, acct, s, s.member).await;
    let credential = &issued.error_free().body["credential"];
    (credential["id"].as_i64().unwrap(), credential["identifier"].as_str().unwrap().to_owned())
}

/// The credential as the API shows it.
pub async fn credential(app: &TestApp, acct: &TestAccount, id: i64) -> Value {
    app.get(acct, &format!("/v1.0/credentials/{id}")).await.error_free().body["credential"].clone()
}

/// The stores a credential's redemptions name.
pub async fn redemption_stores(app: &TestApp, credential: i64) -> Vec<i64> {
    let sql = "SELECT store_id FROM redemptions WHERE credential_id = $1 ORDER BY id";
    app.db.fetch_all::<i64>(sql, &[credential.into()]).await.unwrap()
}

/// Text as minijinja's HTML escaping writes it.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

async fn sign_in_session_and_sign_out(app: TestApp) {
    let acct = app.account().await;
    let email = user(&app, &acct, Role::Owner, &[]).await;
    let mut portal = Portal::new(&app);
    // Every page but the form needs a session.
    for path in ["/admin", "/admin/offers", "/admin/codes", "/admin/codes?code=X"] {
        assert_eq!(portal.get(path).await.location(), "/admin/login", "{path}");
    }
    for path in ["/admin/codes/redeem", "/admin/codes/void", "/admin/logout"] {
        let form = [("csrf", "x"), ("credential_id", "1")];
        assert_eq!(portal.post(path, &form).await.location(), "/admin/login", "{path}");
    }
    let form = portal.get("/admin/login").await;
    assert_eq!(form.headers["content-type"], "text/html; charset=utf-8");
    let csp = form.headers["content-security-policy"].to_str().unwrap();
    // Scripts only from the portal itself (the offer form's live preview): no inline script,
    // no other origin.
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-eval") && csp.matches("unsafe-inline").count() == 1, "only style-src: {csp}");
    // That script, served to anyone (it holds nothing of an account).
    let script = portal.get("/admin/offer_preview.js").await;
    assert_eq!(script.status, 200);
    assert_eq!(script.headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(script.headers["x-content-type-options"], "nosniff");
    assert!(script.text.contains("offer-form-fields") && script.text.contains("\"preview\", \"1\""), "{}", script.text);
    assert!(csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(form.headers["cache-control"], "no-store");
    assert!(form.text.contains(r#"<label for="email">"#) && form.text.contains(r#"<label for="password">"#));
    let login_cookie = form.set_cookie("kindling_admin_login").expect("the form's CSRF cookie");
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
        assert!(login_cookie.contains(part), "{login_cookie}");
    }
    // A wrong password and an unknown email are answered alike.
    let wrong = portal.sign_in(&email, "not the password").await;
    let unknown = portal.sign_in("nobody@example.com", PASSWORD).await;
    for refused in [&wrong, &unknown] {
        assert_eq!(refused.status, 401);
        assert!(refused.text.contains("Invalid email or password."), "{}", refused.text);
        assert!(refused.set_cookie("kindling_admin").is_none());
    }
    assert_eq!(wrong.text.replace(&email, "E"), unknown.text.replace("nobody@example.com", "E"));
    // The email is compared trimmed and in any case.
    let typed = format!("  {}  ", email.to_uppercase());
    let signed = portal.sign_in(&typed, PASSWORD).await;
    assert_eq!(signed.location(), "/admin");
    let cookie = signed.set_cookie("kindling_admin").expect("a session cookie");
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin", "Max-Age=43200"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let token = portal.session_token().unwrap().to_owned();
    // Only the token's digest is stored; the session lasts 12 hours.
    let sql = "SELECT expires_at - created_at FROM portal_sessions WHERE digest = $1";
    let lifetime = app.db.fetch_optional::<i64>(sql, &[secret::token_digest(&token).into()]).await.unwrap();
    assert_eq!(lifetime, Some(12 * 3600));
    let stored = "SELECT COUNT(*) FROM portal_sessions WHERE digest = $1";
    assert_eq!(app.db.fetch_optional::<i64>(stored, &[token.as_str().into()]).await.unwrap(), Some(0));
    let dashboard = portal.get("/admin").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.text);
    assert!(dashboard.text.contains(r#"<main id="dashboard">"#));
    assert!(dashboard.text.contains(&email), "the user's email in the header");
    portal.csrf = dashboard.csrf();
    // Signing out needs the token too; then the cookie is cleared and the session gone.
    assert_eq!(portal.post("/admin/logout", EMPTY).await.status, 403);
    assert_eq!(portal.get("/admin").await.status, 200, "still signed in");
    let csrf = portal.csrf.clone();
    let out = portal.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), "/admin/login");
    assert!(out.set_cookie("kindling_admin").unwrap().contains("Max-Age=0"));
    let mut replay = Portal::new(&app);
    replay.cookies.push(("kindling_admin".into(), token.clone()));
    assert_eq!(replay.get("/admin").await.location(), "/admin/login", "a signed-out token is dead");
    // An expired session is no session.
    let mut again = Portal::signed_in(&app, &email).await;
    let token = again.session_token().unwrap().to_owned();
    let expire = "UPDATE portal_sessions SET expires_at = $2 WHERE digest = $1";
    let past = Timestamp::now().unix() - 1;
    app.db.execute(expire, &[secret::token_digest(&token).into(), past.into()]).await.unwrap();
    assert_eq!(again.get("/admin").await.location(), "/admin/login");
    // A forged cookie of the right shape, or of any other, is no session either.
    for forged in [secret::new_token(), "../../etc".to_owned(), String::new()] {
        let mut forger = Portal::new(&app);
        forger.cookies.push(("kindling_admin".into(), forged));
        assert_eq!(forger.get("/admin").await.location(), "/admin/login");
    }
}

/// Wrong passwords sent for a user's email from elsewhere lock the email, but not a browser
/// the user signed in with before (its device cookie): its attempts count on their own.
async fn a_browser_that_signed_in_before_is_not_locked_out(app: TestApp) {
    let acct = app.account().await;
    let (email, other) = (user(&app, &acct, Role::Editor, &[]).await, user(&app, &acct, Role::Editor, &[]).await);
    let mut mine = Portal::signed_in(&app, &email).await;
    let first = mine.cookie("kindling_admin_device").expect("signing in makes the browser known");
    let out = mine.post("/admin/logout", &[("csrf", mine.csrf.clone())]).await;
    assert_eq!(out.status, 303);
    assert_eq!(mine.cookie("kindling_admin_device"), Some(first.clone()), "it stays after signing out");
    let mut attacker = Portal::new(&app);
    for _ in 0..5 {
        assert_eq!(attacker.sign_in(&email, "wrong password!").await.status, 401);
    }
    assert_eq!(attacker.sign_in(&email, PASSWORD).await.status, 429);
    assert_eq!(Portal::new(&app).sign_in(&email, PASSWORD).await.status, 429, "a new browser waits");
    // A forged device cookie, or one of another email's browser, counts as the email's.
    let mut forged = Portal::new(&app);
    forged.cookies.push(("kindling_admin_device".into(), secret::new_token()));
    assert_eq!(forged.sign_in(&email, PASSWORD).await.status, 429);
    let mut others = Portal::signed_in(&app, &other).await;
    assert_eq!(others.sign_in(&email, PASSWORD).await.status, 429);
    // The user's own browser signs in, and gets a new device cookie.
    let signed = mine.sign_in(&email, PASSWORD).await;
    assert_eq!(signed.status, 303, "{}", signed.text);
    let cookie = signed.set_cookie("kindling_admin_device").unwrap();
    for part in ["Max-Age=7776000", "Path=/admin", "HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let second = mine.cookie("kindling_admin_device").unwrap();
    assert_ne!(second, first);
    // The old cookie is no longer known: a browser still holding it counts as the email's.
    let mut stale = Portal::new(&app);
    stale.cookies.push(("kindling_admin_device".into(), first));
    assert_eq!(stale.sign_in(&email, PASSWORD).await.status, 429);
    // The browser's own attempts are limited too, as the email's are.
    for _ in 0..5 {
        assert_eq!(mine.sign_in(&email, "wrong password!").await.status, 401);
    }
    assert_eq!(mine.sign_in(&email, PASSWORD).await.status, 429);
}

/// An email keeps its 10 newest browsers; a password change forgets every browser but the
/// one that made it, so none keeps a count of its own for guessing the new password.
async fn known_browsers_are_few_and_forgotten_on_a_password_change(app: TestApp) {
    let acct = app.account().await;
    let email = user(&app, &acct, Role::Editor, &[]).await;
    let known = "SELECT COUNT(*) FROM portal_devices WHERE email = $1";
    let count = || async { app.db.fetch_optional::<i64>(known, &[email.as_str().into()]).await.unwrap().unwrap() };
    let mut browsers = Vec::new();
    for _ in 0..12 {
        browsers.push(Portal::signed_in(&app, &email).await);
    }
    assert_eq!(count().await, 10, "the 10 newest");
    // The oldest browser is forgotten: its attempts count as the email's.
    let mut attacker = Portal::new(&app);
    for _ in 0..5 {
        assert_eq!(attacker.sign_in(&email, "wrong password!").await.status, 401);
    }
    assert_eq!(browsers[0].sign_in(&email, PASSWORD).await.status, 429, "forgotten");
    // The newest changes the password: the others are forgotten, it stays known.
    let mut newest = browsers.pop().unwrap();
    let new = "another long passphrase";
    let csrf = newest.csrf.clone();
    let form =
        [("csrf", csrf.as_str()), ("current_password", PASSWORD), ("new_password", new), ("confirm_password", new)];
    let changed = newest.post("/admin/password", &form).await;
    assert_eq!(changed.location(), "/admin/password?done=changed", "{}", changed.text);
    assert_eq!(count().await, 1);
    assert_eq!(browsers[5].sign_in(&email, new).await.status, 429, "another browser counts as the email's");
    assert_eq!(newest.sign_in(&email, new).await.status, 303, "the browser that changed it is still known");
}

async fn sign_in_failures_are_limited_per_email(app: TestApp) {
    let acct = app.account().await;
    let email = user(&app, &acct, Role::Editor, &[]).await;
    let other = user(&app, &acct, Role::Editor, &[]).await;
    let mut portal = Portal::new(&app);
    // `/auth`'s numbers: five attempts a minute, counted before the password is checked.
    for _ in 0..5 {
        assert_eq!(portal.sign_in(&email, "wrong password!").await.status, 401);
    }
    let limited = portal.sign_in(&email, PASSWORD).await;
    assert_eq!(limited.status, 429, "even the right password waits: {}", limited.text);
    assert!(limited.headers.contains_key("retry-after"));
    assert!(limited.text.contains("Too many sign-in attempts"));
    assert!(limited.set_cookie("kindling_admin").is_none());
    // An unknown email is limited the same way, so the limit tells nothing about who exists.
    for _ in 0..5 {
        assert_eq!(portal.sign_in("ghost@example.com", "wrong password!").await.status, 401);
    }
    assert_eq!(portal.sign_in("ghost@example.com", "wrong password!").await.status, 429);
    // Another email is not held up, and a success clears its own count.
    for _ in 0..4 {
        assert_eq!(portal.sign_in(&other, "wrong password!").await.status, 401);
    }
    assert_eq!(portal.sign_in(&other, PASSWORD).await.status, 303);
    assert_eq!(portal.sign_in(&other, "wrong password!").await.status, 401);
    // The window passes: the count starts again.
    let rewind = "UPDATE portal_login_attempts SET failed_since = failed_since - 61 WHERE email = $1";
    app.db.execute(rewind, &[email.as_str().into()]).await.unwrap();
    assert_eq!(portal.sign_in(&email, PASSWORD).await.status, 303);
    // Bad input: no form token, a forged one, junk bodies, an overlong email.
    let mut bare = Portal::new(&app);
    let no_cookie =
        bare.post("/admin/login", &[("email", email.as_str()), ("password", PASSWORD), ("csrf", "x")]).await;
    assert_eq!(no_cookie.status, 403, "no sign-in without the form's own token");
    let mut forged = Portal::new(&app);
    forged.get("/admin/login").await;
    let wrong = secret::new_token();
    let refused = forged
        .post("/admin/login", &[("email", email.as_str()), ("password", PASSWORD), ("csrf", wrong.as_str())])
        .await;
    assert_eq!(refused.status, 403);
    assert!(refused.set_cookie("kindling_admin").is_none());
    let long = format!("{}@example.com", "a".repeat(5000));
    assert_eq!(Portal::new(&app).sign_in(&long, PASSWORD).await.status, 401);
    assert_eq!(Portal::new(&app).sign_in("", "").await.status, 401);
    let junk =
        app.client.post(format!("{}/admin/login", app.base)).body(vec![0xff, 0xfe, b'=', 0]).send().await.unwrap();
    assert_eq!(junk.status(), 400, "its NUL is refused before the form is read");
    let junk = app.client.post(format!("{}/admin/login", app.base)).body(vec![0xff, 0xfe, b'=']).send().await.unwrap();
    assert_eq!(junk.status(), 403);
}

async fn every_form_needs_the_session_csrf_token(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let (id, identifier) = code(&app, &acct, &s).await;
    let email = user(&app, &acct, Role::Owner, &[]).await;
    let mut owner = Portal::signed_in(&app, &email).await;
    let other = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    assert_ne!(owner.csrf, other.csrf, "one token per session");
    let id = id.to_string();
    for path in ["/admin/codes/redeem", "/admin/codes/void"] {
        for csrf in [None, Some(""), Some("wrong"), Some(other.csrf.as_str())] {
            let mut form = vec![("credential_id", id.as_str()), ("code", identifier.as_str())];
            if let Some(csrf) = csrf {
                form.push(("csrf", csrf));
            }
            let refused = owner.post(path, &form).await;
            assert_eq!(refused.status, 403, "{path} with {csrf:?}");
            assert!(refused.text.contains(r#"<main id="forbidden">"#));
        }
    }
    assert_eq!(credential(&app, &acct, id.parse().unwrap()).await["status"], "open", "nothing written");
    let history = "SELECT COUNT(*) FROM offer_activities WHERE credential_id = $1";
    assert_eq!(app.db.fetch_optional::<i64>(history, &[id.parse::<i64>().unwrap().into()]).await.unwrap(), Some(1));
    // With the session's own token the same form works.
    let csrf = owner.csrf.clone();
    let done =
        owner.post("/admin/codes/redeem", &[("csrf", &csrf), ("credential_id", &id), ("code", &identifier)]).await;
    assert!(done.location().starts_with("/admin/codes?code="));
}

async fn roles_are_enforced_on_the_server(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let (mine, other_store) = (store(&app, &acct, "Downtown").await, store(&app, &acct, "Uptown").await);
    let stranger = app.account().await;
    let foreign_store = store(&app, &stranger, "Elsewhere").await;
    let (id, identifier) = code(&app, &acct, &s).await;
    let id_text = id.to_string();
    let redeem_at = |csrf: &str, store: String| {
        vec![
            ("csrf", csrf.to_owned()),
            ("credential_id", id_text.clone()),
            ("code", identifier.clone()),
            ("store_id", store),
        ]
    };

    // A viewer sees the account and changes nothing.
    let mut viewer = Portal::signed_in(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    for path in ["/admin", "/admin/offers"] {
        assert_eq!(viewer.get(path).await.status, 200, "{path}");
    }
    let seen = viewer.get(&format!("/admin/codes?code={identifier}")).await;
    assert!(seen.text.contains(&identifier) && !seen.text.contains("/admin/codes/redeem"), "no forms for a viewer");
    let csrf = viewer.csrf.clone();
    for store in [mine.to_string(), String::new()] {
        assert_eq!(viewer.post("/admin/codes/redeem", &redeem_at(&csrf, store)).await.status, 403);
    }
    let void = [("csrf", csrf.as_str()), ("credential_id", id_text.as_str()), ("code", identifier.as_str())];
    assert_eq!(viewer.post("/admin/codes/void", &void).await.status, 403);
    assert_eq!(viewer.post("/admin/logout", &[("csrf", &csrf)]).await.status, 303, "a viewer may sign out");

    // A store operator: only the codes page, only their stores, no void.
    let operator_email = user(&app, &acct, Role::StoreOperator, &[mine]).await;
    let mut operator = Portal::new(&app);
    assert_eq!(operator.sign_in(&operator_email, PASSWORD).await.location(), "/admin/codes");
    let page = operator.get(&format!("/admin/codes?code={identifier}")).await;
    assert_eq!(page.status, 200);
    operator.csrf = page.csrf();
    assert!(page.text.contains(&format!(r#"<option value="{mine}">Downtown"#)), "{}", page.text);
    assert!(!page.text.contains("Uptown") && !page.text.contains("No particular store"), "only their store");
    assert!(!page.text.contains("/admin/codes/void"), "no void form");
    assert!(!page.text.contains(r#"href="/admin/offers""#), "no link to account pages");
    for path in ["/admin", "/admin/offers", "/admin/offers?page=2"] {
        assert_eq!(operator.get(path).await.status, 403, "{path}");
    }
    let csrf = operator.csrf.clone();
    for store in [other_store.to_string(), foreign_store.to_string(), String::new(), "x".into(), "-1".into()] {
        let refused = operator.post("/admin/codes/redeem", &redeem_at(&csrf, store.clone())).await;
        assert_eq!(refused.status, 403, "store {store:?}");
    }
    let void = [("csrf", csrf.as_str()), ("credential_id", id_text.as_str()), ("code", identifier.as_str())];
    assert_eq!(operator.post("/admin/codes/void", &void).await.status, 403);
    assert_eq!(credential(&app, &acct, id).await["status"], "open", "nothing written by a refused form");
    // At their own store it redeems, through the API's path (the store is recorded).
    let done = operator.post("/admin/codes/redeem", &redeem_at(&csrf, mine.to_string())).await;
    assert!(done.location().contains("done=redeemed"));
    assert_eq!(credential(&app, &acct, id).await["status"], "redeemed");
    assert_eq!(redemption_stores(&app, id).await, [mine]);

    // An editor voids.
    let mut editor = Portal::signed_in(&app, &user(&app, &acct, Role::Editor, &[]).await).await;
    let csrf = editor.csrf.clone();
    let void = [("csrf", csrf.as_str()), ("credential_id", id_text.as_str()), ("code", identifier.as_str())];
    assert!(editor.post("/admin/codes/void", &void).await.location().contains("done=voided"));
    assert_eq!(credential(&app, &acct, id).await["status"], "voided");
}

async fn codes_are_looked_up_redeemed_and_voided_through_the_form(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Free Fries"})).await;
    let downtown = store(&app, &acct, "Downtown").await;
    let (id, identifier) = code(&app, &acct, &s).await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let page = owner.get(&format!("/admin/codes?code=%20{identifier}%20")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&format!(r#"id="credential-{id}""#)), "{}", page.text);
    assert!(page.text.contains(r#"data-status="open""#));
    assert!(page.text.contains("Free Fries"), "its offer");
    let member = app.get(&acct, &format!("/v1.0/members/{}", s.member)).await.body["member"]["identifier"].clone();
    assert!(page.text.contains(member.as_str().unwrap()), "its member");
    assert!(page.text.contains(r#"data-label="What">issue</td>"#), "its history");
    assert!(page.text.contains(&format!(r#"<option value="{downtown}">Downtown"#)), "every account store");
    assert!(page.text.contains("/admin/codes/void"), "an owner may void");
    // Redeem at a store through the form; the API sees it.
    let csrf = owner.csrf.clone();
    let (id_text, store_text) = (id.to_string(), downtown.to_string());
    let form = [("csrf", csrf.as_str()), ("credential_id", &id_text), ("code", &identifier), ("store_id", &store_text)];
    let done = owner.post("/admin/codes/redeem", &form).await;
    let back = done.location().to_owned();
    assert_eq!(back, format!("/admin/codes?code={identifier}&done=redeemed"));
    let shown = owner.get(&back).await;
    assert!(shown.text.contains(r#"id="notice""#) && shown.text.contains(r#"data-status="redeemed""#));
    assert!(
        shown.text.contains(r#"data-label="What">redeem</td>"#) && shown.text.contains(" at Downtown"),
        "{}",
        shown.text
    );
    assert_eq!(credential(&app, &acct, id).await["status"], "redeemed");
    assert_eq!(redemption_stores(&app, id).await, [downtown]);
    // A second redemption is refused with the API's own message, and nothing changes.
    let api = app.raw(Some(&acct.token), Method::PUT, &format!("/v1.0/credentials/{id}/redeem"), None).await;
    let message = api.error(400);
    let again = owner.post("/admin/codes/redeem", &form).await;
    assert_eq!(again.status, 400);
    assert!(again.text.contains(&escaped(&message)), "{message} in {}", again.text);
    // Void through the form.
    let void = [("csrf", csrf.as_str()), ("credential_id", &id_text), ("code", &identifier)];
    assert!(owner.post("/admin/codes/void", &void).await.location().ends_with("done=voided"));
    assert_eq!(credential(&app, &acct, id).await["status"], "voided");
    let again = owner.post("/admin/codes/void", &void).await;
    assert_eq!(again.status, 400);
    assert!(again.text.contains("Credential has already been voided"));
    // Bad input: no credential, a non-number, an unknown one, an overlong code.
    for bad in ["", "abc", "0", "-3"] {
        let form = [("csrf", csrf.as_str()), ("credential_id", bad), ("code", "X")];
        assert_eq!(owner.post("/admin/codes/redeem", &form).await.status, 400, "{bad:?}");
    }
    let form = [("csrf", csrf.as_str()), ("credential_id", "999999999"), ("code", "X")];
    assert_eq!(owner.post("/admin/codes/redeem", &form).await.status, 404);
    let long = owner.get(&format!("/admin/codes?code={}", "A".repeat(300))).await;
    assert_eq!(long.status, 200);
    assert!(long.text.contains(r#"id="not-found""#));
    assert_eq!(owner.get("/admin/codes?code=%FF%FE").await.status, 200, "undecodable text finds nothing");
}

async fn another_accounts_code_is_not_found(app: TestApp) {
    let (mine, theirs) = (app.account().await, app.account().await);
    let s = setup(&app, &theirs, json!({"name": "Their Fries"})).await;
    let (id, identifier) = code(&app, &theirs, &s).await;
    let their_store = store(&app, &theirs, "Their store").await;
    let mut owner = Portal::signed_in(&app, &user(&app, &mine, Role::Owner, &[]).await).await;
    let page = owner.get(&format!("/admin/codes?code={identifier}")).await;
    assert!(page.text.contains(r#"id="not-found""#) && !page.text.contains("Their Fries"));
    let csrf = owner.csrf.clone();
    let id_text = id.to_string();
    let store_text = their_store.to_string();
    let redeem = [("csrf", csrf.as_str()), ("credential_id", &id_text), ("code", &identifier)];
    assert_eq!(owner.post("/admin/codes/redeem", &redeem).await.status, 404);
    let with_store = [("csrf", csrf.as_str()), ("credential_id", &id_text), ("store_id", &store_text)];
    assert_eq!(owner.post("/admin/codes/redeem", &with_store).await.status, 404);
    assert_eq!(owner.post("/admin/codes/void", &redeem).await.status, 404);
    assert_eq!(credential(&app, &theirs, id).await["status"], "open");
    // My own code redeemed at their store: refused as the API refuses an unknown store.
    let s = setup(&app, &mine, json!({"name": "My Fries"})).await;
    let (my_id, my_code) = code(&app, &mine, &s).await;
    let my_id_text = my_id.to_string();
    let form = [("csrf", csrf.as_str()), ("credential_id", &my_id_text), ("code", &my_code), ("store_id", &store_text)];
    let refused = owner.post("/admin/codes/redeem", &form).await;
    assert_eq!(refused.status, 400);
    assert!(refused.text.contains("Store not found"), "{}", refused.text);
    assert_eq!(credential(&app, &mine, my_id).await["status"], "open");
    // A store operator cannot be given another account's store.
    let foreign = Access::new(Role::StoreOperator, &[StoreId(their_store)]).unwrap();
    let user = NewUser { email: Email::parse("op-x@example.com").unwrap(), password_hash: "x".into(), access: foreign };
    let refused = create_user(&app.db, AccountId(mine.id), user).await;
    assert!(matches!(refused, Err(kindling_store::portal::CreateError::ForeignStores(_))));
}

async fn user_text_is_escaped(app: TestApp) {
    let acct = app.account().await;
    let name = "<script>alert(1)</script>";
    let s = setup(&app, &acct, json!({"name": name})).await;
    let (_, identifier) = code(&app, &acct, &s).await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let offers = owner.get("/admin/offers").await;
    let codes = owner.get(&format!("/admin/codes?code={identifier}")).await;
    let search = owner.get("/admin/offers?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    let lookup = owner.get("/admin/codes?code=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E").await;
    for page in [&offers, &codes, &search] {
        assert_eq!(page.status, 200);
        assert!(page.text.contains(&escaped(name)), "{}", page.text);
        assert!(!page.text.contains("<script"), "no script element in {}", page.text);
    }
    assert!(lookup.text.contains(&escaped("<img src=x onerror=alert(1)>")) && !lookup.text.contains("<img"));
}

async fn dashboard_figures(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    crate::offers::offer(&app, &acct, json!({"name": "Pending"})).await;
    let (first, _) = code(&app, &acct, &s).await;
    code(&app, &acct, &s).await;
    app.raw(Some(&acct.token), Method::PUT, &format!("/v1.0/credentials/{first}/redeem"), None).await.error_free();
    // A callback waiting far in the future (the worker leaves it alone).
    let later = Timestamp::now().unix() + 1_000_000;
    app.db
        .execute(
            "INSERT INTO callback_outbox (account_id, kind, method, url, next_attempt_at, give_up_at, created_at) \
             VALUES ($1, 'credential', 'POST', 'https://example.com/cb', $2, $2, $2)",
            &[acct.id.into(), later.into()],
        )
        .await
        .unwrap();
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let page = owner.get("/admin").await;
    assert_eq!(page.status, 200);
    let figure = |id: &str| {
        let at = page.text.find(&format!(r#"id="{id}"><span class="value">"#)).unwrap_or_else(|| panic!("{id}"));
        let rest = &page.text[at..];
        let value = &rest[rest.find(r#"class="value">"#).unwrap() + 14..];
        value[..value.find('<').unwrap()].parse::<i64>().unwrap()
    };
    assert_eq!(figure("active-offers"), 1, "the approved offer, not the pending one");
    assert_eq!((figure("issued-today"), figure("issued-30")), (2, 2));
    assert_eq!((figure("redeemed-today"), figure("redeemed-30")), (1, 1));
    assert_eq!(figure("callback-backlog"), 1);
    assert!(page.text.contains("Days are counted in UTC."));
    assert_eq!(page.text.matches(r#"<rect class="bar""#).count(), 30, "a bar a day");
    let today = kindling_domain::time::business_date(Timestamp::now(), None);
    assert!(page.text.contains(&format!(r#"data-day="{today}" data-count="1""#)), "{}", page.text);
    // Another account's figures are its own.
    let other = app.account().await;
    let mut theirs = Portal::signed_in(&app, &user(&app, &other, Role::Viewer, &[]).await).await;
    let page = theirs.get("/admin").await;
    assert!(page.text.contains(r#"id="active-offers"><span class="value">0<"#));
    assert!(page.text.contains(r#"id="callback-backlog"><span class="value">0<"#));
}

async fn offers_page_filters_and_pages(app: TestApp) {
    let acct = app.account().await;
    for i in 0..55 {
        crate::offers::offer(&app, &acct, json!({"name": format!("Fries {i:02}")})).await;
    }
    let s = setup(&app, &acct, json!({"name": "Burger Deal"})).await;
    let (id, _) = code(&app, &acct, &s).await;
    app.raw(Some(&acct.token), Method::PUT, &format!("/v1.0/credentials/{id}/redeem"), None).await.error_free();
    let mut viewer = Portal::signed_in(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    let rows = |page: &Page| page.text.matches("<tr data-offer-id=").count();
    let first = viewer.get("/admin/offers").await;
    assert_eq!(rows(&first), 50, "50 a page");
    assert!(first.text.contains("56 offers, page 1 of 2"));
    assert!(first.text.find("Burger Deal").unwrap() < first.text.find("Fries 54").unwrap(), "newest first");
    assert!(first.text.contains(&format!(r#"href="{}" rel="next""#, escaped("/admin/offers?page=2"))));
    let second = viewer.get("/admin/offers?page=2").await;
    assert_eq!(rows(&second), 6);
    assert!(second.text.contains("Fries 00"));
    let burger = viewer.get("/admin/offers?q=BURGER").await;
    assert_eq!(rows(&burger), 1);
    let row = &burger.text[burger.text.find("<tr data-offer-id=").unwrap()..];
    assert!(row.contains("status-approved") && row.contains(r#"data-label="Redemptions">1</td>"#), "{row}");
    let approved = viewer.get("/admin/offers?status=approved").await;
    assert_eq!(rows(&approved), 1);
    let pending = viewer.get("/admin/offers?status=pending&q=fries%205").await;
    assert_eq!(rows(&pending), 5, "fries 50-54");
    // Odd parameters are ignored rather than refused.
    for odd in ["?page=abc", "?page=-4", "?status=nonsense", "?page=99999999999999999999", "?q=%25_%5C"] {
        let page = viewer.get(&format!("/admin/offers{odd}")).await;
        assert_eq!(page.status, 200, "{odd}");
    }
    assert_eq!(rows(&viewer.get("/admin/offers?q=%25").await), 0, "% is matched literally");
    assert!(viewer.get("/admin/offers?page=9").await.text.contains(r#"id="no-offers""#));
}

/// `kindling user create`, as an operator of the server would run it.
async fn users_are_created_with_the_cli(app: TestApp) {
    let acct = app.account().await;
    let stranger = app.account().await;
    let (mine, theirs) = (store(&app, &acct, "Downtown").await, store(&app, &stranger, "Elsewhere").await);
    let cli = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kindling"));
        command.args(["user", "create"]).args(args).args(["--database-url", &app.url]);
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    };
    let account = acct.id.to_string();
    let email = format!("owner-{}@example.com", secret::new_xid().to_lowercase());
    let created =
        cli(&["--account", &account, "--email", &format!(" {} ", email.to_uppercase()), "--role", "owner"], None);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let line: Value = serde_json::from_slice(&created.stdout).unwrap();
    assert!(line["user_id"].is_i64());
    assert_eq!((line["account_id"].clone(), line["email"].clone()), (json!(acct.id), json!(email)));
    assert_eq!((line["role"].clone(), line["store_ids"].clone()), (json!("owner"), json!([])));
    let password = line["password"].as_str().expect("a one-time password").to_owned();
    assert!(password.len() >= 20);
    let stored = "SELECT password_hash FROM portal_users WHERE email = $1";
    let hash = app.db.fetch_optional::<String>(stored, &[email.as_str().into()]).await.unwrap().unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(&password));
    assert_eq!(Portal::new(&app).sign_in(&email, &password).await.location(), "/admin", "the printed password works");
    // A store operator with a password from stdin: none is printed.
    let operator = format!("op-{}@example.com", secret::new_xid().to_lowercase());
    let store_arg = mine.to_string();
    let args = [
        "--account",
        &account,
        "--email",
        &operator,
        "--role",
        "store_operator",
        "--store",
        &store_arg,
        "--password-stdin",
    ];
    let created = cli(&args, Some("a long stdin password\n"));
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let line: Value = serde_json::from_slice(&created.stdout).unwrap();
    assert_eq!(line["store_ids"], json!([mine]));
    assert!(line.get("password").is_none(), "{line}");
    let signed = Portal::new(&app).sign_in(&operator, "a long stdin password").await;
    assert_eq!(signed.location(), "/admin/codes");
    // Refusals print nothing on stdout and write nothing.
    let their_store = theirs.to_string();
    let upper = email.to_uppercase();
    let refusals: Vec<(Vec<&str>, Option<&str>)> = vec![
        (vec!["--account", "999999999", "--email", "x1@example.com", "--role", "owner"], None),
        (vec!["--account", &account, "--email", &email, "--role", "viewer"], None),
        (vec!["--account", &account, "--email", &upper, "--role", "viewer"], None),
        (vec!["--account", &account, "--email", "x2@example.com", "--role", "store_operator"], None),
        (
            vec![
                "--account",
                &account,
                "--email",
                "x3@example.com",
                "--role",
                "store_operator",
                "--store",
                &their_store,
            ],
            None,
        ),
        (
            vec![
                "--account",
                &account,
                "--email",
                "x4@example.com",
                "--role",
                "store_operator",
                "--store",
                "999999999",
            ],
            None,
        ),
        (vec!["--account", &account, "--email", "x5@example.com", "--role", "editor", "--store", &store_arg], None),
        (vec!["--account", &account, "--email", "x6@example.com", "--role", "admin"], None),
        (vec!["--account", &account, "--email", "not an email", "--role", "owner"], None),
        (
            vec!["--account", &account, "--email", "x7@example.com", "--role", "owner", "--password-stdin"],
            Some("short\n"),
        ),
    ];
    for (args, stdin) in refusals {
        let refused = cli(&args, stdin);
        assert!(!refused.status.success() && refused.stdout.is_empty(), "{args:?} was accepted");
    }
    let count = "SELECT COUNT(*) FROM portal_users WHERE account_id = $1";
    assert_eq!(app.db.fetch_optional::<i64>(count, &[acct.id.into()]).await.unwrap(), Some(2));
}

/// No N+1 queries: each page runs as many statements for a few rows as for many, measured
/// on a separate `kindling serve` process as `statements.rs` does.
async fn pages_run_a_fixed_number_of_statements(app: TestApp) {
    let acct = app.account().await;
    let few = setup(&app, &acct, json!({"name": "Few 0"})).await;
    let (_, one_code) = code(&app, &acct, &few).await;
    let many = setup(&app, &acct, json!({"name": "Many 0"})).await;
    let shared = "SHARED-CODE";
    for i in 1..50 {
        let id = crate::offers::offer(&app, &acct, json!({"name": format!("Many {i}")})).await;
        let body = json!({"offer": {"channel_ids": [many.channel]}});
        app.post(&acct, &format!("/v1.0/offers/{id}/channels"), body).await.error_free();
        crate::offers::approve(&app, &acct, id).await;
        let s = Setup { member: many.member, channel: many.channel, offer: id };
        let (credential, _) = code(&app, &acct, &s).await;
        // Five codes share an identifier once redeemed (it is unique among open codes only).
        let path = format!("/v1.0/credentials/{credential}/redeem");
        app.raw(Some(&acct.token), Method::PUT, &path, None).await.error_free();
        if i <= 5 {
            let set = "UPDATE credentials SET identifier = $1 WHERE id = $2";
            app.db.execute(set, &[shared.into(), credential.into()]).await.unwrap();
        }
    }
    let crate::portal::Counted { server, mut owner, client, alone } = crate::portal::counted_owner(&app, &acct).await;
    let base = server.base.as_str();
    let pairs = [
        ("/admin/offers?q=few".to_owned(), "/admin/offers?q=many", "<tr data-offer-id=", (1, 50)),
        (
            format!("/admin/codes?code={one_code}"),
            "/admin/codes?code=SHARED-CODE",
            r#"class="card credential""#,
            (1, 5),
        ),
    ];
    for (small, large, marker, sizes) in pairs {
        let mut counts = Vec::new();
        for (path, size) in [(small.as_str(), sizes.0), (large, sizes.1)] {
            let portal = &mut owner;
            let statements = crate::statements::fewest(&client, base, async || {
                let page = portal.get(path).await;
                assert_eq!(page.text.matches(marker).count(), size, "{path}");
            })
            .await;
            counts.push(statements - alone);
        }
        assert_eq!(counts[0], counts[1], "{small} and {large}: statements for a few rows, then many");
    }
    let dashboard = crate::statements::fewest(&client, base, async || {
        assert_eq!(owner.get("/admin").await.status, 200);
    })
    .await;
    assert!(dashboard - alone <= 10, "the dashboard ran {} statements", dashboard - alone);
}

// ---- Merchants and offers through the forms (docs/PORTAL.md, "Merchants", "Offer forms").

/// The account's merchants as the API lists them: their names, in id order.
async fn api_merchants(app: &TestApp, acct: &TestAccount) -> Vec<String> {
    let listed = app.get(acct, "/v1.0/merchants?per_page=100").await;
    let merchants = listed.error_free().body["merchants"].as_array().unwrap().clone();
    merchants.iter().map(|m| m["merchant"]["name"].as_str().or(m["name"].as_str()).unwrap().to_owned()).collect()
}

async fn api_offer_count(app: &TestApp, acct: &TestAccount) -> i64 {
    app.get(acct, "/v1.0/offers").await.error_free().body["total_entries"].as_i64().unwrap()
}

async fn api_offer(app: &TestApp, acct: &TestAccount, id: i64) -> Value {
    app.get(acct, &format!("/v1.0/offers/{id}")).await.error_free().body["offer"].clone()
}

/// The ids of the channels the API says an offer is published on, with their xids.
fn offer_channels(offer: &Value) -> Vec<(i64, String)> {
    let channels = offer["channels"].as_array().unwrap();
    channels
        .iter()
        .map(|c| (c["channel"]["id"].as_i64().unwrap(), c["channel"]["xid"].as_str().unwrap().to_owned()))
        .collect()
}

/// The id at the end of a 303's location path (`/admin/offers/7?done=created` → 7).
pub fn created_id(page: &Page) -> i64 {
    let location = page.location();
    let path = location.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().parse().unwrap()
}

async fn merchants_are_created_and_edited_through_the_forms(app: TestApp) {
    let acct = app.account().await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let csrf = owner.csrf.clone();
    let list = owner.get("/admin/merchants").await;
    assert_eq!(list.status, 200);
    assert!(list.text.contains(r#"href="/admin/merchants/new""#) && list.text.contains("No merchants yet"));
    assert_eq!(owner.get("/admin/merchants/new").await.status, 200);

    // Bad input: the domain's field errors next to their fields, the values kept, nothing written.
    let blank = owner
        .post("/admin/merchants", &[("csrf", csrf.as_str()), ("name", " "), ("redemption_identifier_type", "1")])
        .await;
    assert_eq!(blank.status, 422, "{}", blank.text);
    assert!(blank.text.contains(&escaped("Name can't be blank")), "{}", blank.text);
    assert!(blank.text.contains(r#"<option value="1" selected>"#), "the chosen type is kept");
    let long = "n".repeat(300);
    let bad = owner
        .post("/admin/merchants", &[("csrf", csrf.as_str()), ("name", &long), ("redemption_identifier_type", "7")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains(r#"id="name-error""#) && bad.text.contains(r#"id="redemption_identifier_type-error""#));
    assert!(bad.text.contains(&long), "the name is kept");
    assert!(api_merchants(&app, &acct).await.is_empty(), "nothing written");
    // A NUL, which no column can hold, is refused before any form reads it.
    let nul = owner.post("/admin/merchants", &[("csrf", csrf.as_str()), ("name", "a\u{0}b")]).await;
    assert_eq!(nul.status, 400, "{}", nul.text);
    assert!(nul.text.contains("form fields must not contain NUL characters"), "{}", nul.text);
    assert!(api_merchants(&app, &acct).await.is_empty(), "nothing written");
    // Whatever type the body claims: the portal reads any posted body as a form (before, a
    // `text/plain` one reached PostgreSQL with its NUL, a 500).
    let fields = [("csrf", csrf.as_str()), ("name", "a\u{0}b"), ("redemption_identifier_type", "0")];
    let plain = owner
        .client
        .post(format!("{}/admin/merchants", owner.base))
        .header("cookie", owner.cookie_header())
        .header("content-type", "text/plain")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 400);
    assert!(api_merchants(&app, &acct).await.is_empty(), "nothing written");

    // Good input: created through the API's path, then edited.
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Q <Burger>"),
        ("redemption_identifier_type", "1"),
        ("supports_barcode", "true"),
    ];
    let created = owner.post("/admin/merchants", &form).await;
    let id = created_id(&created);
    assert!(created.location().ends_with("?done=created"));
    let merchant = &app.get(&acct, &format!("/v1.0/merchants/{id}")).await.error_free().body["merchant"].clone();
    assert_eq!(
        (&merchant["name"], &merchant["redemption_identifier_type"], &merchant["supports_barcode"]),
        (&json!("Q <Burger>"), &json!(1), &json!(true))
    );
    let page = owner.get(&format!("/admin/merchants/{id}?done=created")).await;
    assert!(page.text.contains(&escaped("Q <Burger>")) && page.text.contains(r#"id="notice""#));
    let path = format!("/admin/merchants/{id}");
    let refused =
        owner.post(&path, &[("csrf", csrf.as_str()), ("name", ""), ("redemption_identifier_type", "0")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains(&escaped("Name can't be blank")));
    assert_eq!(api_merchants(&app, &acct).await, ["Q <Burger>"], "nothing written");
    let saved = owner
        .post(&path, &[("csrf", csrf.as_str()), ("name", "Q Burger Downtown"), ("redemption_identifier_type", "0")])
        .await;
    assert_eq!(saved.location(), format!("/admin/merchants/{id}?done=saved"));
    let merchant = app.get(&acct, &path.replace("/admin", "/v1.0")).await.body["merchant"].clone();
    assert_eq!((&merchant["name"], &merchant["supports_barcode"]), (&json!("Q Burger Downtown"), &json!(false)));
    assert_eq!(merchant["redemption_identifier_type"], 0);

    // The list: search by any part of the name, any case.
    crate::merchants::merchant(&app, &acct, "Taco Town").await;
    let found = owner.get("/admin/merchants?q=downTOWN").await;
    assert!(found.text.contains("Q Burger Downtown") && !found.text.contains("Taco Town"), "{}", found.text);
    assert!(owner.get("/admin/merchants?q=zzz").await.text.contains(r#"id="no-merchants""#));
    assert!(owner.get("/admin/merchants?page=x").await.text.contains("2 merchants"));
}

/// A good offer form for the merchant `merchant`.
fn offer_form(csrf: &str, merchant: i64) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("name", "Buy a Burger, Get Free Medium Fries".into()),
        ("description", "With any burger.".into()),
        ("merchant_id", merchant.to_string()),
        ("offer_type", "0".into()),
        ("reward_item_value", "350".into()),
        ("pos_offer_code", "FRIES1".into()),
        ("activates_at", "2026-01-01T09:30".into()),
        ("expires_at", "2036-01-01T00:00".into()),
        ("max_redemptions", "100".into()),
        ("max_redemptions_per_member", "1".into()),
    ]
}

/// `form` with `field` set to `value`.
fn with(form: &[(&'static str, String)], field: &str, value: &str) -> Vec<(&'static str, String)> {
    form.iter().map(|(f, v)| (*f, if *f == field { value.to_owned() } else { v.clone() })).collect()
}

async fn offers_are_created_and_edited_through_the_forms(app: TestApp) {
    let acct = app.account().await;
    let merchant = crate::merchants::merchant(&app, &acct, "Q Burger").await;
    let stranger = app.account().await;
    let foreign = crate::merchants::merchant(&app, &stranger, "Not yours").await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let offers = owner.get("/admin/offers").await;
    assert!(offers.text.contains(r#"href="/admin/offers/new""#), "New offer");
    let new = owner.get("/admin/offers/new").await;
    assert_eq!(new.status, 200);
    assert!(new.text.contains(&format!(r#"<option value="{merchant}">Q Burger"#)) && !new.text.contains("Not yours"));
    assert!(new.text.contains("item reward") && new.text.contains("(UTC)"), "the engine's types; times in UTC");
    let good = offer_form(&owner.csrf, merchant);

    // Each bad field is the API's error, shown next to it, with the values kept.
    for (field, value, shown) in [
        ("name", "", "Name can't be blank"),
        ("expires_at", "2025-01-01T00:00", "End must be after activates_at"),
        ("activates_at", "tomorrow", "Start must be an ISO 8601 date-time"),
        ("max_redemptions", "-1", "Redemptions allowed must be between 0 and 2147483647"),
        ("reward_item_value", "lots", "Reward value must be an integer"),
        ("merchant_id", &foreign.to_string(), "Merchant does not exist"),
        ("merchant_id", "x", "Merchant must be an id"),
    ] {
        let refused = owner.post("/admin/offers", &with(&good, field, value)).await;
        assert_eq!(refused.status, 422, "{field}={value}: {}", refused.text);
        assert!(refused.text.contains(&escaped(shown)), "{field}={value}: {shown} in {}", refused.text);
        assert!(refused.text.contains(&format!(r#"id="{field}-error""#)), "next to {field}");
        assert!(refused.text.contains(r#"value="FRIES1""#), "values kept");
    }
    // The POS rule check of `POST /v1.0/offers`.
    let unknown_type = owner.post("/admin/offers", &with(&good, "offer_type", "99")).await;
    assert_eq!(unknown_type.status, 422);
    assert!(unknown_type.text.contains("offer_type 99 is not supported"), "{}", unknown_type.text);
    assert_eq!(api_offer_count(&app, &acct).await, 0, "nothing written");

    let created = owner.post("/admin/offers", &good).await;
    let id = created_id(&created);
    assert_eq!(created.location(), format!("/admin/offers/{id}?done=created"));
    let offer = api_offer(&app, &acct, id).await;
    for (field, value) in [
        ("name", json!("Buy a Burger, Get Free Medium Fries")),
        ("description", json!("With any burger.")),
        ("merchant_id", json!(merchant.to_string())), // a string in offers (the spec)
        ("offer_type", json!(0)),
        ("reward_item_value", json!(350)),
        ("pos_offer_code", json!("FRIES1")),
        ("activates_at", json!("2026-01-01T09:30:00Z")),
        ("expires_at", json!("2036-01-01T00:00:00Z")),
        ("max_redemptions", json!(100)),
        ("max_redemptions_per_member", json!(1)),
        ("status", json!("pending")),
    ] {
        assert_eq!(offer[field], value, "{field}");
    }
    let page = owner.get(&format!("/admin/offers/{id}")).await;
    assert!(page.text.contains("Publishing Channels") && page.text.contains("Q Burger"), "{}", page.text);

    // Edit: the form shows the stored values; a blank optional field clears it.
    let edit = owner.get(&format!("/admin/offers/{id}/edit")).await;
    assert!(edit.text.contains(r#"value="2026-01-01T09:30""#) && edit.text.contains(r#"value="350""#));
    let path = format!("/admin/offers/{id}");
    let refused = owner.post(&path, &with(&good, "name", " ")).await;
    assert_eq!(refused.status, 422);
    assert_eq!(api_offer(&app, &acct, id).await["name"], "Buy a Burger, Get Free Medium Fries", "not written");
    let mut changed = with(&with(&good, "name", "Free Fries"), "description", "");
    changed = with(&with(&changed, "max_redemptions", ""), "merchant_id", "");
    assert_eq!(owner.post(&path, &changed).await.location(), format!("{path}?done=saved"));
    let offer = api_offer(&app, &acct, id).await;
    assert_eq!((&offer["name"], &offer["description"]), (&json!("Free Fries"), &Value::Null));
    assert_eq!((&offer["max_redemptions"], &offer["merchant_id"]), (&Value::Null, &Value::Null));
    assert_eq!(offer["max_redemptions_per_member"], 1);
}

async fn publishing_channels_and_status_through_the_offer_page(app: TestApp) {
    let acct = app.account().await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Free Fries"})).await;
    let app_channel = crate::offers::channel(&app, &acct, "App").await;
    let stranger = app.account().await;
    let foreign = crate::offers::channel(&app, &stranger, "Their channel").await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let csrf = owner.csrf.clone();
    let path = format!("/admin/offers/{offer}");
    let page = owner.get(&path).await;
    assert!(page.text.contains(&format!(r#"name="channel_id" value="{app_channel}""#)), "{}", page.text);
    assert!(!page.text.contains("Their channel"));

    // A new channel from the offer's page: `POST /v1.0/channels`'s rules.
    let blank = owner.post(&format!("{path}/channels/new"), &[("csrf", csrf.as_str()), ("name", "")]).await;
    assert_eq!(blank.status, 422);
    assert!(blank.text.contains(&escaped("name can't be blank")), "{}", blank.text);
    let web = owner.post(&format!("{path}/channels/new"), &[("csrf", csrf.as_str()), ("name", "Web")]).await;
    assert_eq!(web.location(), format!("{path}?done=channel"));
    let channels = app.get(&acct, "/v1.0/channels").await.body["total_entries"].clone();
    assert_eq!(channels, 2);
    let page = owner.get(&path).await;
    let web_channel = page.text.split(r#"name="channel_id" value=""#).nth(2).unwrap();
    let web_channel: i64 = web_channel[..web_channel.find('"').unwrap()].parse().unwrap();

    // Ticked channels become the offer's eligible channels, each with its xid.
    let both =
        [("csrf", csrf.clone()), ("channel_id", app_channel.to_string()), ("channel_id", web_channel.to_string())];
    assert_eq!(owner.post(&format!("{path}/channels"), &both).await.location(), format!("{path}?done=channels"));
    let linked = offer_channels(&api_offer(&app, &acct, offer).await);
    assert_eq!(linked.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [app_channel, web_channel]);
    let page = owner.get(&path).await;
    for (_, xid) in &linked {
        assert!(!xid.is_empty() && page.text.contains(&format!("xid {xid}")), "{xid} shown");
    }
    // Another account's channel or a non-number: refused, nothing changed.
    for bad in [foreign.to_string(), "x".into()] {
        let form = [("csrf", csrf.clone()), ("channel_id", app_channel.to_string()), ("channel_id", bad.clone())];
        let refused = owner.post(&format!("{path}/channels"), &form).await;
        assert_eq!(refused.status, 422, "{bad}");
        assert!(refused.text.contains("The channels were not saved"));
    }
    assert_eq!(offer_channels(&api_offer(&app, &acct, offer).await), linked, "unchanged");
    // Unticking one keeps the other's xid.
    let one = [("csrf", csrf.clone()), ("channel_id", app_channel.to_string())];
    owner.post(&format!("{path}/channels"), &one).await.location();
    assert_eq!(offer_channels(&api_offer(&app, &acct, offer).await), linked[..1]);

    // Status: the API's transitions; a refusal is shown.
    let act = |action: &'static str| vec![("csrf", csrf.clone()), ("action", action.to_owned())];
    let refused = owner.post(&format!("{path}/status"), &act("suspend")).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains("can&#x27;t change from pending to suspended"), "{}", refused.text);
    assert_eq!(owner.post(&format!("{path}/status"), &act("dance")).await.status, 400);
    assert_eq!(api_offer(&app, &acct, offer).await["status"], "pending");
    assert_eq!(
        owner.post(&format!("{path}/status"), &act("approve")).await.location(),
        format!("{path}?done=approved")
    );
    assert_eq!(api_offer(&app, &acct, offer).await["status"], "approved");
    // The offer now issues codes through the API on its channel.
    let member = crate::credentials::member(&app, &acct, "ann").await;
    let issue = format!("/v1.0/credentials?member_id={member}&offer_id={offer}&channel_id={app_channel}");
    let issued = crate::credentials::post_query(&app, &acct, &issue).await;
    assert_eq!(issued.error_free().body["credential"]["status"], "open");
    // The account has no stores: an owner redeems it at none, from the code page.
    let (credential_id, identifier) = (
        issued.body["credential"]["id"].as_i64().unwrap(),
        issued.body["credential"]["identifier"].as_str().unwrap().to_owned(),
    );
    let page = owner.get(&format!("/admin/codes?code={identifier}")).await;
    assert!(page.text.contains(r#"action="/admin/codes/redeem""#), "a redeem form without stores");
    let form = [
        ("csrf", csrf.clone()),
        ("credential_id", credential_id.to_string()),
        ("code", identifier),
        ("store_id", String::new()),
    ];
    assert!(owner.post("/admin/codes/redeem", &form).await.location().contains("done=redeemed"));
    assert_eq!(credential(&app, &acct, credential_id).await["status"], "redeemed");
    // …but not on the channel that was unticked.
    let elsewhere = issue.replace(&format!("channel_id={app_channel}"), &format!("channel_id={web_channel}"));
    assert!(!crate::credentials::post_query(&app, &acct, &elsewhere).await.status.is_success());
    for (action, status) in [("suspend", "suspended"), ("approve", "approved"), ("archive", "archived")] {
        owner.post(&format!("{path}/status"), &act(action)).await.location();
        assert_eq!(api_offer(&app, &acct, offer).await["status"], status);
    }
    let page = owner.get(&path).await;
    assert!(!page.text.contains(r#"name="action""#), "an archived offer has no actions");
}

async fn merchant_and_offer_forms_follow_the_roles(app: TestApp) {
    let acct = app.account().await;
    let merchant = crate::merchants::merchant(&app, &acct, "Q Burger").await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Free Fries"})).await;
    let channel = crate::offers::channel(&app, &acct, "App").await;
    let store = store(&app, &acct, "Downtown").await;
    let writes = |csrf: &str| {
        let csrf = csrf.to_owned();
        vec![
            ("/admin/merchants".to_owned(), vec![("csrf", csrf.clone()), ("name", "New".to_owned())]),
            (format!("/admin/merchants/{merchant}"), vec![("csrf", csrf.clone()), ("name", "Renamed".to_owned())]),
            ("/admin/offers".to_owned(), vec![("csrf", csrf.clone()), ("name", "New".to_owned())]),
            (format!("/admin/offers/{offer}"), vec![("csrf", csrf.clone()), ("name", "Renamed".to_owned())]),
            (format!("/admin/offers/{offer}/status"), vec![("csrf", csrf.clone()), ("action", "approve".to_owned())]),
            (
                format!("/admin/offers/{offer}/channels"),
                vec![("csrf", csrf.clone()), ("channel_id", channel.to_string())],
            ),
            (format!("/admin/offers/{offer}/channels/new"), vec![("csrf", csrf.clone()), ("name", "Web".to_owned())]),
        ]
    };
    let unchanged = || async {
        assert_eq!(api_merchants(&app, &acct).await, ["Q Burger", "Downtown merchant"]);
        let o = api_offer(&app, &acct, offer).await;
        assert_eq!((&o["name"], &o["status"]), (&json!("Free Fries"), &json!("pending")));
        assert!(offer_channels(&o).is_empty());
        assert_eq!(api_offer_count(&app, &acct).await, 1);
        assert_eq!(app.get(&acct, "/v1.0/channels").await.body["total_entries"], 1);
    };

    // A viewer sees the pages without their forms, and every POST is a 403.
    let mut viewer = Portal::signed_in(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    let list = viewer.get("/admin/merchants").await;
    assert_eq!(list.status, 200);
    assert!(list.text.contains("Q Burger") && !list.text.contains("/admin/merchants/new"));
    let seen = viewer.get(&format!("/admin/merchants/{merchant}")).await;
    assert!(seen.status == 200 && seen.text.contains("Q Burger") && !seen.text.contains("merchant-form"));
    let seen = viewer.get(&format!("/admin/offers/{offer}")).await;
    assert_eq!(seen.status, 200);
    assert!(seen.text.contains("Publishing Channels") && !seen.text.contains(r#"action="/admin/offers/"#), "no forms");
    assert!(!viewer.get("/admin/offers").await.text.contains("/admin/offers/new"));
    for path in ["/admin/merchants/new", "/admin/offers/new", &format!("/admin/offers/{offer}/edit")] {
        assert_eq!(viewer.get(path).await.status, 403, "{path}");
    }
    let csrf = viewer.csrf.clone();
    for (path, form) in writes(&csrf) {
        assert_eq!(viewer.post(&path, &form).await.status, 403, "viewer {path}");
    }
    unchanged().await;

    // A store operator sees none of it.
    let mut operator = Portal::new(&app);
    let email = user(&app, &acct, Role::StoreOperator, &[store]).await;
    operator.sign_in(&email, PASSWORD).await.location();
    operator.csrf = operator.get("/admin/codes").await.csrf();
    assert!(!operator.get("/admin/codes").await.text.contains(r#"href="/admin/merchants""#));
    for path in
        ["/admin/merchants", &format!("/admin/merchants/{merchant}"), "/admin/merchants/new", "/admin/offers/new"]
    {
        assert_eq!(operator.get(path).await.status, 403, "{path}");
    }
    for path in [format!("/admin/offers/{offer}"), format!("/admin/offers/{offer}/edit")] {
        assert_eq!(operator.get(&path).await.status, 403, "{path}");
    }
    let csrf = operator.csrf.clone();
    for (path, form) in writes(&csrf) {
        assert_eq!(operator.post(&path, &form).await.status, 403, "store operator {path}");
    }
    unchanged().await;

    // An editor may.
    let mut editor = Portal::signed_in(&app, &user(&app, &acct, Role::Editor, &[]).await).await;
    let csrf = editor.csrf.clone();
    for (path, form) in writes(&csrf) {
        let done = editor.post(&path, &form).await;
        assert_eq!(done.status, 303, "editor {path}: {}", done.text);
    }
    assert_eq!(api_offer(&app, &acct, offer).await["status"], "approved");
}

async fn another_accounts_records_are_not_found_in_the_forms(app: TestApp) {
    let acct = app.account().await;
    let mine = crate::offers::offer(&app, &acct, json!({"name": "Mine"})).await;
    let stranger = app.account().await;
    let merchant = crate::merchants::merchant(&app, &stranger, "Their merchant").await;
    let offer = crate::offers::offer(&app, &stranger, json!({"name": "Their offer"})).await;
    let channel = crate::offers::channel(&app, &stranger, "Their channel").await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let csrf = owner.csrf.clone();
    for path in [
        format!("/admin/merchants/{merchant}"),
        format!("/admin/offers/{offer}"),
        format!("/admin/offers/{offer}/edit"),
        "/admin/merchants/abc".into(),
        "/admin/offers/-1".into(),
        "/admin/offers/99999999999999999999".into(),
    ] {
        let page = owner.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(!page.text.contains("Their"), "{path}");
    }
    for (path, form) in [
        (format!("/admin/merchants/{merchant}"), vec![("csrf", csrf.clone()), ("name", "Mine now".into())]),
        (
            format!("/admin/offers/{offer}"),
            vec![("csrf", csrf.clone()), ("name", "Mine now".into()), ("offer_type", "0".into())],
        ),
        (format!("/admin/offers/{offer}/status"), vec![("csrf", csrf.clone()), ("action", "approve".into())]),
        (format!("/admin/offers/{offer}/channels"), vec![("csrf", csrf.clone()), ("channel_id", channel.to_string())]),
        (format!("/admin/offers/{offer}/channels/new"), vec![("csrf", csrf.clone()), ("name", "Web".into())]),
    ] {
        assert_eq!(owner.post(&path, &form).await.status, 404, "{path}");
    }
    // Their channel on my offer, their merchant on my new offer: refused.
    let form = [("csrf", csrf.clone()), ("channel_id", channel.to_string())];
    assert_eq!(owner.post(&format!("/admin/offers/{mine}/channels"), &form).await.status, 422);
    let form = [
        ("csrf", csrf.clone()),
        ("name", "X".into()),
        ("offer_type", "0".into()),
        ("merchant_id", merchant.to_string()),
    ];
    assert_eq!(owner.post("/admin/offers", &form).await.status, 422);
    // Nothing of theirs changed, nothing of mine written.
    assert_eq!(api_merchants(&app, &stranger).await, ["Their merchant"]);
    let theirs = api_offer(&app, &stranger, offer).await;
    assert_eq!((&theirs["name"], &theirs["status"]), (&json!("Their offer"), &json!("pending")));
    assert!(offer_channels(&theirs).is_empty());
    assert_eq!(app.get(&stranger, "/v1.0/channels").await.body["total_entries"], 1);
    assert!(offer_channels(&api_offer(&app, &acct, mine).await).is_empty());
    assert_eq!(api_offer_count(&app, &acct).await, 1);
    assert_eq!(app.get(&acct, "/v1.0/channels").await.body["total_entries"], 0);
}

async fn the_new_forms_need_the_csrf_token(app: TestApp) {
    let acct = app.account().await;
    let merchant = crate::merchants::merchant(&app, &acct, "Q Burger").await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Free Fries"})).await;
    let channel = crate::offers::channel(&app, &acct, "App").await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let other = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let forms: Vec<(String, Vec<(&str, String)>)> = vec![
        ("/admin/merchants".into(), vec![("name", "New".into())]),
        (format!("/admin/merchants/{merchant}"), vec![("name", "Renamed".into())]),
        ("/admin/offers".into(), vec![("name", "New".into()), ("offer_type", "0".into())]),
        (format!("/admin/offers/{offer}"), vec![("name", "Renamed".into()), ("offer_type", "0".into())]),
        (format!("/admin/offers/{offer}/status"), vec![("action", "approve".into())]),
        (format!("/admin/offers/{offer}/channels"), vec![("channel_id", channel.to_string())]),
        (format!("/admin/offers/{offer}/channels/new"), vec![("name", "Web".into())]),
    ];
    for (path, form) in &forms {
        for csrf in [None, Some(""), Some("wrong"), Some(other.csrf.as_str())] {
            let mut form = form.clone();
            if let Some(csrf) = csrf {
                form.push(("csrf", csrf.to_owned()));
            }
            let refused = owner.post(path, &form).await;
            assert_eq!(refused.status, 403, "{path} with {csrf:?}");
            assert!(refused.text.contains(r#"<main id="forbidden">"#));
        }
    }
    assert_eq!(api_merchants(&app, &acct).await, ["Q Burger"]);
    let o = api_offer(&app, &acct, offer).await;
    assert_eq!((&o["name"], &o["status"]), (&json!("Free Fries"), &json!("pending")));
    assert!(offer_channels(&o).is_empty());
    assert_eq!(api_offer_count(&app, &acct).await, 1);
    assert_eq!(app.get(&acct, "/v1.0/channels").await.body["total_entries"], 1);
    // Without a session, every new form sends the browser to sign in.
    let mut anonymous = Portal::new(&app);
    for (path, form) in &forms {
        assert_eq!(anonymous.post(path, form).await.location(), "/admin/login", "{path}");
    }
    for path in
        ["/admin/merchants", "/admin/merchants/new", "/admin/offers/new", &format!("/admin/offers/{offer}/edit")]
    {
        assert_eq!(anonymous.get(path).await.location(), "/admin/login", "{path}");
    }
}
