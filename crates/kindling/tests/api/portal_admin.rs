//! The Admin Portal's reports page and CSV downloads, and the account page, over real HTTP
//! on both stores (docs/PORTAL.md, "Reports", "Account"): known redemptions seeded through
//! the API (their times moved with SQL onto known days) give exact totals on the page, the
//! same as the API's reports, and exact CSV content; the roles and bad windows; key rotation
//! checked through `/auth`, callback settings through `GET /v1.0/account`, portal users
//! created (and signing in), changed and removed; CSRF and another account's ids.

use crate::backend_tests;
use crate::credentials::{issue, put_query, setup, Setup};
use crate::helpers::{TestAccount, TestApp};
use crate::portal::{user, Page, Portal};
use kindling_domain::portal::{Access, Role};
use kindling_domain::{AccountId, PortalUserId};
use kindling_store::portal::users::{self, ChangeError};
use serde_json::json;
use std::time::{Duration, Instant};

backend_tests!(
    reports_show_the_api_reports_numbers,
    reports_follow_the_roles_and_refuse_bad_windows,
    account_page_is_for_owners_only,
    api_key_is_rotated_from_the_account_page,
    callback_settings_through_the_account_page,
    portal_users_are_managed_by_owners,
    account_forms_need_the_csrf_token_and_the_accounts_own_users,
    reports_and_account_pages_run_a_fixed_number_of_statements,
    offer_form_sets_stop_offering_at_and_the_daily_limit,
);

/// A credential issued through the API for `s`: its id.
async fn code(app: &TestApp, acct: &TestAccount, s: &Setup) -> i64 {
    issue(app, acct, s, s.member).await.error_free().body["credential"]["id"].as_i64().unwrap()
}

/// Moves a credential's activities and redemptions to `at` (epoch seconds), with `date` the
/// redemptions' business date (the account's day of `at`).
async fn moved(app: &TestApp, credential: i64, at: i64, date: &str) {
    let sql = "UPDATE offer_activities SET reported_at = $1, processed_at = $1 WHERE credential_id = $2";
    app.db.execute(sql, &[at.into(), credential.into()]).await.unwrap();
    let sql = "UPDATE redemptions SET redeemed_at = $1, business_date = $2 WHERE credential_id = $3";
    app.db.execute(sql, &[at.into(), date.into(), credential.into()]).await.unwrap();
}

/// The navigation's links (minijinja escapes `/` in values).
const NAV_ACCOUNT: &str = r#"href="&#x2f;admin&#x2f;account""#;
const NAV_REPORTS: &str = r#"href="&#x2f;admin&#x2f;reports""#;

/// 2030-01-06T03:00:00Z: 20:00 on 2030-01-05 in Denver.
const EVENING: i64 = 1_893_898_800;
/// 2030-01-06T18:00:00Z: 11:00 on 2030-01-06 in Denver.
const MORNING: i64 = EVENING + 15 * 3600;

/// The value of a figure (`<p id=".."><span class="value">N<`).
fn figure(page: &Page, id: &str) -> i64 {
    let at =
        page.text.find(&format!(r#"id="{id}"><span class="value">"#)).unwrap_or_else(|| panic!("{id}: {}", page.text));
    let rest = &page.text[at..];
    let value = &rest[rest.find(r#"class="value">"#).unwrap() + 14..];
    value[..value.find('<').unwrap()].parse().unwrap()
}

/// A table row's numeric cells (`data-label="X">N<`), in order.
fn row_numbers(page: &Page, marker: &str) -> Vec<i64> {
    let at = page.text.find(marker).unwrap_or_else(|| panic!("{marker}: {}", page.text));
    let row = &page.text[at..at + page.text[at..].find("</tr>").unwrap()];
    row.split(r#"class="num""#)
        .skip(1)
        .map(|cell| {
            let value = &cell[cell.find('>').unwrap() + 1..];
            value[..value.find('<').unwrap()].parse().unwrap()
        })
        .collect()
}

async fn reports_show_the_api_reports_numbers(app: TestApp) {
    let acct = app.account().await;
    app.put(&acct, "/v1.0/account", json!({"account": {"time_zone": "America/Denver"}})).await.error_free();
    // A name a spreadsheet would run as a formula, and one with a comma.
    let formula = setup(&app, &acct, json!({"name": "=HYPERLINK(\"http://x\",\"y\")"})).await;
    let fries = setup(&app, &acct, json!({"name": "Fries, large"})).await;
    let mut seeded = Vec::new();
    // Two codes of the formula offer redeemed on the 5th (Denver), one of Fries on the 6th,
    // and one of the formula offer redeemed and voided on the 6th.
    for (s, at, date, void) in [
        (&formula, EVENING, "2030-01-05", false),
        (&formula, EVENING, "2030-01-05", false),
        (&fries, MORNING, "2030-01-06", false),
        (&formula, MORNING, "2030-01-06", true),
    ] {
        let id = code(&app, &acct, s).await;
        put_query(&app, &acct, &format!("/v1.0/credentials/{id}/redeem")).await.error_free();
        if void {
            put_query(&app, &acct, &format!("/v1.0/credentials/{id}/void")).await.error_free();
        }
        moved(&app, id, at, date).await;
        seeded.push(id);
    }
    // Outside the window: not counted.
    let early = code(&app, &acct, &fries).await;
    put_query(&app, &acct, &format!("/v1.0/credentials/{early}/redeem")).await.error_free();
    moved(&app, early, EVENING - 86_400, "2030-01-04").await;
    // Issued in the window and deleted: its issue is in no report (the API's nor the page's).
    let deleted = code(&app, &acct, &fries).await;
    moved(&app, deleted, MORNING, "2030-01-06").await;
    app.delete(&acct, &format!("/v1.0/credentials/{deleted}")).await.error_free();

    let api =
        app.get(&acct, "/v1.0/reports/redemptions?from_business_date=2030-01-05&to_business_date=2030-01-06").await;
    let api_rows = api.error_free().body["redemptions"].as_array().unwrap().clone();
    assert_eq!(api_rows.len(), 3);

    let mut viewer = Portal::signed_in(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    let page = viewer.get("/admin/reports?from=2030-01-05&to=2030-01-06").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("in America&#x2f;Denver"), "{}", page.text);
    assert_eq!(figure(&page, "total-redemptions"), api_rows.len() as i64);
    assert_eq!(figure(&page, "total-issued"), 4);
    assert_eq!(figure(&page, "total-redeemed"), 4);
    assert_eq!(figure(&page, "total-voided"), 1);
    // Issued, redeemed, voided, redemptions: the activity at 03:00 UTC on the 6th is the 5th
    // in Denver.
    assert_eq!(row_numbers(&page, r#"<tr data-day="2030-01-05">"#), [2, 2, 0, 2]);
    assert_eq!(row_numbers(&page, r#"<tr data-day="2030-01-06">"#), [2, 2, 1, 1]);
    assert_eq!(page.text.matches("<tr data-day=").count(), 2, "a row a day of the window");
    assert_eq!(row_numbers(&page, &format!(r#"<tr data-offer-id="{}">"#, formula.offer)), [2]);
    assert_eq!(row_numbers(&page, &format!(r#"<tr data-offer-id="{}">"#, fries.offer)), [1]);
    assert!(page.text.contains(r#"data-day="2030-01-05" data-count="2""#), "the chart's bars");
    assert!(page.text.contains(r#"data-day="2030-01-06" data-count="1""#));
    assert!(page.text.contains("=HYPERLINK(&quot;http:&#x2f;&#x2f;x&quot;,&quot;y&quot;)"), "escaped in the page");

    // The redemptions CSV: the API's rows, in its order, formulas neutralised.
    let csv = viewer.get("/admin/reports/redemptions.csv?from=2030-01-05&to=2030-01-06").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(csv.headers["content-disposition"], r#"attachment; filename="redemptions-2030-01-05-2030-01-06.csv""#);
    let lines: Vec<&str> = csv.text.split("\r\n").collect();
    assert_eq!(lines.len(), 5, "a header, three rows and the final line break: {}", csv.text);
    assert!(lines[0].starts_with("id,business_date,redemption_datetime,offer_id,offer_name,"), "{}", lines[0]);
    assert_eq!(lines[4], "");
    for (line, api_row) in lines[1..4].iter().zip(&api_rows) {
        let expected_start = format!("{},{},", api_row["id"], api_row["business_date"].as_str().unwrap());
        assert!(line.starts_with(&expected_start), "{line} vs {api_row}");
    }
    assert!(lines[1].contains(r#","'=HYPERLINK(""http://x"",""y"")","#), "{}", lines[1]);
    assert!(lines[1].contains(",2030-01-06T03:00:00Z,"), "{}", lines[1]);
    assert!(lines[3].contains(r#","Fries, large","#), "{}", lines[3]);
    // The offer activity CSV: issue + redeem for each of the four, one void.
    let csv = viewer.get("/admin/reports/activity.csv?from=2030-01-05&to=2030-01-06").await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-disposition"].to_str().unwrap().contains("offer-activity-2030-01-05-2030-01-06.csv"));
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "id,business_date,reported_at,processed_at,type,offer_id,channel_id,credential_identifier,member_id,member_identifier");
    assert_eq!(lines.len(), 1 + 9);
    let of_type = |t: &str| lines.iter().filter(|l| l.contains(&format!(",{t},"))).count();
    assert_eq!((of_type("issue"), of_type("redeem"), of_type("void")), (4, 4, 1));
    assert_eq!(lines.iter().filter(|l| l.contains(",2030-01-05,")).count(), 4, "Denver's days");

    // Another account's report is its own.
    let other = app.account().await;
    let mut theirs = Portal::signed_in(&app, &user(&app, &other, Role::Owner, &[]).await).await;
    let page = theirs.get("/admin/reports?from=2030-01-05&to=2030-01-06").await;
    assert_eq!(figure(&page, "total-redemptions"), 0);
    assert!(page.text.contains(r#"id="no-redemptions""#));
    let csv = theirs.get("/admin/reports/redemptions.csv?from=2030-01-05&to=2030-01-06").await;
    assert_eq!(csv.text.split("\r\n").filter(|l| !l.is_empty()).count(), 1, "only the header");
}

async fn reports_follow_the_roles_and_refuse_bad_windows(app: TestApp) {
    let acct = app.account().await;
    let store = crate::portal::store(&app, &acct, "Downtown").await;
    let mut operator = Portal::signed_in(&app, &user(&app, &acct, Role::StoreOperator, &[store]).await).await;
    for path in ["/admin/reports", "/admin/reports/redemptions.csv", "/admin/reports/activity.csv"] {
        let page = operator.get(path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(!page.text.contains("id,"), "{path}");
    }
    assert!(!operator.get("/admin/codes").await.text.contains(NAV_REPORTS), "no link for them");
    let mut editor = Portal::signed_in(&app, &user(&app, &acct, Role::Editor, &[]).await).await;
    // Without dates: the last 30 days, today included.
    let page = editor.get("/admin/reports").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text.matches("<tr data-day=").count(), 30);
    let today = kindling_domain::time::business_date(kindling_domain::Timestamp::now(), None);
    assert!(page.text.contains(&format!(r#"<tr data-day="{today}">"#)));
    assert!(page.text.contains(NAV_REPORTS), "the nav links the page");
    // The API's rules: dates, in order, at most 30 days; the form again with the error.
    for (query, field, message) in [
        ("from=2030-01-01&to=2030-01-31", "to", "must not exceed 30 days"),
        ("from=2030-01-02&to=2030-01-01", "to", "ends before it starts"),
        ("from=soon&to=2030-01-01", "from", "Enter a date"),
        ("from=2030-01-01&to=2030-02-30", "to", "Enter a date"),
    ] {
        let page = editor.get(&format!("/admin/reports?{query}")).await;
        assert_eq!(page.status, 422, "{query}");
        let error =
            &page.text[page.text.find(&format!(r#"id="{field}-error">"#)).unwrap_or_else(|| panic!("{query}"))..];
        assert!(error[..200.min(error.len())].contains(message), "{query}: {error}");
        assert!(!page.text.contains("<tr data-day="), "{query}");
        let csv = editor.get(&format!("/admin/reports/redemptions.csv?{query}")).await;
        assert_eq!(csv.status, 422, "{query}");
    }
    let kept = editor.get("/admin/reports?from=soon&to=2030-01-01").await;
    assert!(kept.text.contains(r#"value="soon""#), "the values are kept");
}

// ---- The account page (docs/PORTAL.md, "Account").

/// Polls `check` until it holds (the API's processes learn of account changes within a
/// second, through the store's change log); panics after three seconds.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < Duration::from_secs(3), "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of the read-only input `id` (a key or password shown once).
fn shown_once(page: &Page, id: &str) -> String {
    let marker = format!(r#"id="{id}" value=""#);
    let at = page.text.find(&marker).unwrap_or_else(|| panic!("{id}: {}", page.text));
    let rest = &page.text[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The account's users: (email, role), by email.
async fn users_of(app: &TestApp, account: i64) -> Vec<(String, String)> {
    struct U(String, String);
    impl kindling_store::FromRow for U {
        fn from_row(row: &impl kindling_store::Row) -> kindling_store::Result<Self> {
            Ok(Self(row.text("email")?, row.text("role")?))
        }
    }
    let sql = "SELECT email, role FROM portal_users WHERE account_id = $1 ORDER BY email";
    let rows: Vec<U> = app.db.fetch_all(sql, &[account.into()]).await.unwrap();
    rows.into_iter().map(|U(e, r)| (e, r)).collect()
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    let sql = "SELECT id FROM portal_users WHERE email = $1";
    app.db.fetch_optional::<i64>(sql, &[email.into()]).await.unwrap().unwrap()
}

async fn account_page_is_for_owners_only(app: TestApp) {
    let acct = app.account().await;
    let store = crate::portal::store(&app, &acct, "Downtown").await;
    let owner = user(&app, &acct, Role::Owner, &[]).await;
    let target = user_id(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    let before = users_of(&app, acct.id).await;
    for (role, stores) in [(Role::Editor, vec![]), (Role::Viewer, vec![]), (Role::StoreOperator, vec![store])] {
        let mut portal = Portal::signed_in(&app, &user(&app, &acct, role, &stores).await).await;
        let page = portal.get("/admin/account").await;
        assert_eq!(page.status, 403, "{role}");
        assert!(!page.text.contains(NAV_ACCOUNT), "{role}: no link");
        let csrf = portal.csrf.clone();
        let forms: Vec<(String, Vec<(&str, String)>)> = vec![
            ("/admin/account/key".into(), vec![("csrf", csrf.clone())]),
            (
                "/admin/account/callbacks".into(),
                vec![("csrf", csrf.clone()), ("credential_url", "https://evil.example/cb".into())],
            ),
            (
                "/admin/account/users".into(),
                vec![("csrf", csrf.clone()), ("email", "sneaky@example.com".into()), ("role", "owner".into())],
            ),
            (format!("/admin/account/users/{target}/role"), vec![("csrf", csrf.clone()), ("role", "owner".into())]),
            (format!("/admin/account/users/{target}/remove"), vec![("csrf", csrf.clone())]),
        ];
        for (path, form) in forms {
            let answer = portal.post(&path, &form).await;
            assert_eq!(answer.status, 403, "{role} {path}");
            assert!(!answer.text.contains(r#"id="new-key-value""#));
        }
    }
    // Nothing was written: the key still opens a session, the callback URL is unset, the
    // users are those made above.
    assert_eq!(app.auth(&acct.id.to_string(), &acct.key).await.status, 204);
    let account = app.get(&acct, "/v1.0/account").await.error_free().body["account"].clone();
    assert!(account["credential_callback_url"].is_null(), "{account}");
    let after = users_of(&app, acct.id).await;
    assert!(after.iter().all(|(e, _)| e != "sneaky@example.com"));
    assert!(before.iter().all(|u| after.contains(u)) && after.iter().filter(|(_, r)| r == "owner").count() == 1);
    // The owner sees it, linked from the navigation.
    let mut owner = Portal::signed_in(&app, &owner).await;
    let page = owner.get("/admin/account").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(NAV_ACCOUNT));
    assert!(page.text.contains(&format!(r#"id="account-id">{}<"#, acct.id)));
}

async fn api_key_is_rotated_from_the_account_page(app: TestApp) {
    let acct = app.account().await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let page = owner.post("/admin/account/key", &[("csrf", owner.csrf.clone())]).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let key = shown_once(&page, "new-key-value");
    assert_ne!(key, acct.key);
    // Only the hash is stored.
    let sql = "SELECT api_key_hash FROM accounts WHERE id = $1";
    let hash = app.db.fetch_optional::<String>(sql, &[acct.id.into()]).await.unwrap().unwrap();
    assert!(!hash.contains(&key) && kindling_domain::secret::verify_api_key(&key, &hash));
    // The old key is refused by /auth, its token too; the new key works.
    let old = app.auth(&acct.id.to_string(), &acct.key).await;
    assert_eq!(old.status, 401, "{}", old.text);
    let stale = acct.token.clone();
    eventually("the old key's token is refused", async || {
        app.raw(Some(&stale), reqwest::Method::GET, "/v1.0/account", None).await.status == 401
    })
    .await;
    assert_eq!(app.auth(&acct.id.to_string(), &key).await.status, 204);
    // Shown once: the page again shows no key.
    assert!(!owner.get("/admin/account").await.text.contains(&key));
}

async fn callback_settings_through_the_account_page(app: TestApp) {
    let acct = app.account().await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let csrf = owner.csrf.clone();
    // Bad input: each error next to its field, values kept, nothing written.
    let form = [
        ("csrf", csrf.as_str()),
        ("credential_url", "ftp://example.com/<cb>"),
        ("enable_callbacks", "true"),
        ("time_zone", "Mars/Base"),
    ];
    let page = owner.post("/admin/account/callbacks", &form).await;
    assert_eq!(page.status, 422, "{}", page.text);
    assert!(
        page.text.contains(r#"id="credential_url-error">The URL must be an absolute http or https URL<"#),
        "{}",
        page.text
    );
    assert!(page.text.contains(r#"id="time_zone-error">The time zone is not a known IANA time zone"#));
    assert!(page.text.contains(r#"value="ftp:&#x2f;&#x2f;example.com&#x2f;&lt;cb&gt;""#), "kept and escaped");
    assert!(page.text.contains(r#"value="Mars&#x2f;Base""#));
    let account = app.get(&acct, "/v1.0/account").await.error_free().body["account"].clone();
    assert!(account["credential_callback_url"].is_null() && account["time_zone"].is_null(), "{account}");
    // Good input, seen by the API.
    let form = [
        ("csrf", csrf.as_str()),
        ("credential_url", "https://example.com/cb?x=1"),
        ("enable_callbacks", "true"),
        ("time_zone", "America/Denver"),
    ];
    let saved = owner.post("/admin/account/callbacks", &form).await;
    assert_eq!(saved.location(), "/admin/account?done=callbacks");
    eventually("the API sees the callback settings", async || {
        let account = app.get(&acct, "/v1.0/account").await.body["account"].clone();
        account["credential_callback_url"] == "https://example.com/cb?x=1"
            && account["enable_callbacks"] == true
            && account["time_zone"] == "America/Denver"
    })
    .await;
    let page = owner.get("/admin/account?done=callbacks").await;
    assert!(
        page.text.contains(r#"id="notice""#)
            && page.text.contains(r#"id="enable_callbacks" name="enable_callbacks" value="true" checked"#)
    );
    // Unticked and blank: callbacks off, the URL cleared, UTC again.
    let form = [("csrf", csrf.as_str()), ("credential_url", ""), ("time_zone", "")];
    owner.post("/admin/account/callbacks", &form).await.location();
    eventually("the API sees them cleared", async || {
        let account = app.get(&acct, "/v1.0/account").await.body["account"].clone();
        account["credential_callback_url"].is_null()
            && account["enable_callbacks"] == false
            && account["time_zone"].is_null()
    })
    .await;
}

async fn portal_users_are_managed_by_owners(app: TestApp) {
    let acct = app.account().await;
    let store = crate::portal::store(&app, &acct, "Downtown").await;
    let other = app.account().await;
    let their_store = crate::portal::store(&app, &other, "Theirs").await;
    let me = user(&app, &acct, Role::Owner, &[]).await;
    let mut owner = Portal::signed_in(&app, &me).await;
    let csrf = owner.csrf.clone();
    let before = users_of(&app, acct.id).await;
    // Refusals: the CLI's rules, each next to its field, nothing written.
    let taken = user(&app, &other, Role::Viewer, &[]).await;
    for (email, role, stores, field, message) in [
        ("not-an-email", "viewer", vec![], "email", "Enter an email address"),
        (taken.as_str(), "viewer", vec![], "email", "already signs in with this email"),
        ("op@example.com", "store_operator", vec![], "stores", "needs at least one store"),
        ("op@example.com", "store_operator", vec![their_store.to_string()], "stores", "Choose stores of this account"),
        ("ed@example.com", "editor", vec![store.to_string()], "stores", "Only a store operator has stores"),
        ("ed@example.com", "admin", vec![], "role", "Choose a role"),
        ("ed@example.com", "editor", vec!["x".to_owned()], "stores", "Choose stores from the list"),
    ] {
        let mut form = vec![("csrf", csrf.clone()), ("email", email.to_owned()), ("role", role.to_owned())];
        form.extend(stores.into_iter().map(|s| ("store_id", s)));
        let page = owner.post("/admin/account/users", &form).await;
        assert_eq!(page.status, 422, "{email} {role}: {}", page.text);
        let error = &page.text
            [page.text.find(&format!(r#"id="{field}-error">"#)).unwrap_or_else(|| panic!("{email} {role}"))..];
        assert!(error[..120.min(error.len())].contains(message), "{email} {role}: {error}");
        assert!(page.text.contains(&format!(r#"name="email" value="{}""#, email)), "kept");
    }
    assert_eq!(users_of(&app, acct.id).await, before, "nothing written");
    // A store operator with the account's store; the one-time password signs in.
    let form = [
        ("csrf", csrf.as_str()),
        ("email", " Counter@Example.com "),
        ("role", "store_operator"),
        ("store_id", &store.to_string()),
    ];
    let page = owner.post("/admin/account/users", &form).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let password = shown_once(&page, "new-password");
    assert_eq!(password.len(), 20);
    assert!(page.text.contains("counter@example.com"));
    let mut counter = Portal::new(&app);
    assert_eq!(counter.sign_in("counter@example.com", &password).await.location(), "/admin/codes");
    assert!(!owner.get("/admin/account").await.text.contains(&password), "shown once");
    let stored = "SELECT password_hash FROM portal_users WHERE email = 'counter@example.com'";
    let hash = app.db.fetch_optional::<String>(stored, &[]).await.unwrap().unwrap();
    assert!(!hash.contains(&password));
    let counter_id = user_id(&app, "counter@example.com").await;
    let store_rows = "SELECT store_id FROM portal_user_stores WHERE user_id = $1";
    assert_eq!(app.db.fetch_all::<i64>(store_rows, &[counter_id.into()]).await.unwrap(), [store]);
    // Change their role: an editor now (their stores dropped, their session ended).
    let path = format!("/admin/account/users/{counter_id}/role");
    let changed = owner.post(&path, &[("csrf", csrf.as_str()), ("role", "editor")]).await;
    assert_eq!(changed.location(), "/admin/account?done=role");
    assert!(users_of(&app, acct.id).await.contains(&("counter@example.com".into(), "editor".into())));
    assert!(app.db.fetch_all::<i64>(store_rows, &[counter_id.into()]).await.unwrap().is_empty());
    assert_eq!(counter.get("/admin/codes").await.status, 303, "signed out");
    // A role that needs stores, without them: refused on the row.
    let page = owner.post(&path, &[("csrf", csrf.as_str()), ("role", "store_operator")]).await;
    assert_eq!(page.status, 422);
    assert!(page.text.contains(&format!(r#"id="user-{counter_id}-error">A store operator needs at least one store."#)));
    // Not yourself: neither a role change nor a removal.
    let mine = user_id(&app, &me).await;
    for action in ["role", "remove"] {
        let page = owner
            .post(&format!("/admin/account/users/{mine}/{action}"), &[("csrf", csrf.as_str()), ("role", "viewer")])
            .await;
        assert_eq!(page.status, 422, "{action}");
        assert!(page.text.contains("You cannot change or remove yourself"), "{action}");
    }
    assert!(users_of(&app, acct.id).await.contains(&(me.clone(), "owner".into())));
    // The last owner is kept even when the store is asked directly (as a race would).
    let editor = PortalUserId(counter_id);
    let only_owner = PortalUserId(mine);
    let account = AccountId(acct.id);
    assert!(matches!(users::remove(&app.db, account, editor, only_owner).await, Err(ChangeError::LastOwner)));
    let demoted = users::change_role(&app.db, account, editor, only_owner, Access::Viewer).await;
    assert!(matches!(demoted, Err(ChangeError::LastOwner)));
    // Remove the user.
    let removed = owner.post(&format!("/admin/account/users/{counter_id}/remove"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(removed.location(), "/admin/account?done=removed");
    assert!(users_of(&app, acct.id).await.iter().all(|(e, _)| e != "counter@example.com"));
    assert_eq!(Portal::new(&app).sign_in("counter@example.com", &password).await.status, 401);
    // The page lists the users, 50 a page.
    for i in 0..50 {
        user(&app, &acct, if i % 2 == 0 { Role::Viewer } else { Role::Editor }, &[]).await;
    }
    let first = owner.get("/admin/account").await;
    assert_eq!(first.text.matches("<tr data-user-id=").count(), 50);
    assert!(first.text.contains("51 users, page 1 of 2"), "{}", first.text);
    assert_eq!(owner.get("/admin/account?page=2").await.text.matches("<tr data-user-id=").count(), 1);
}

async fn account_forms_need_the_csrf_token_and_the_accounts_own_users(app: TestApp) {
    let acct = app.account().await;
    let target = user_id(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let before = users_of(&app, acct.id).await;
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/admin/account/key".into(), vec![]),
        ("/admin/account/callbacks".into(), vec![("credential_url", "https://evil.example/cb")]),
        ("/admin/account/users".into(), vec![("email", "csrf@example.com"), ("role", "owner")]),
        (format!("/admin/account/users/{target}/role"), vec![("role", "owner")]),
        (format!("/admin/account/users/{target}/remove"), vec![]),
    ];
    let other = app.account().await;
    let stranger = Portal::signed_in(&app, &user(&app, &other, Role::Owner, &[]).await).await;
    let theirs = stranger.csrf.clone();
    for (path, fields) in &forms {
        for token in [None, Some(""), Some("0".repeat(64).as_str()), Some(theirs.as_str())] {
            let mut form: Vec<(&str, &str)> = fields.clone();
            if let Some(token) = token {
                form.push(("csrf", token));
            }
            assert_eq!(owner.post(path, &form).await.status, 403, "{path} {token:?}");
        }
    }
    assert_eq!(users_of(&app, acct.id).await, before);
    assert_eq!(app.auth(&acct.id.to_string(), &acct.key).await.status, 204, "the key was not rotated");
    let account = app.get(&acct, "/v1.0/account").await.error_free().body["account"].clone();
    assert!(account["credential_callback_url"].is_null());
    // Another account's user (and a non-number) is not found; nothing of theirs changes.
    let their_users = users_of(&app, other.id).await;
    let their_user = user_id(&app, &their_users[0].0).await;
    let csrf = owner.csrf.clone();
    for path in [
        format!("/admin/account/users/{their_user}/role"),
        format!("/admin/account/users/{their_user}/remove"),
        "/admin/account/users/abc/remove".to_owned(),
    ] {
        let answer = owner.post(&path, &[("csrf", csrf.as_str()), ("role", "viewer")]).await;
        assert_eq!(answer.status, 404, "{path}");
    }
    assert_eq!(users_of(&app, other.id).await, their_users);
}

/// The reports page (a window with one redemption, then with 40) and the account page (one
/// user, then 50) run as many statements, on a separate `kindling serve` process.
async fn reports_and_account_pages_run_a_fixed_number_of_statements(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    for i in 0..41 {
        let id = code(&app, &acct, &s).await;
        put_query(&app, &acct, &format!("/v1.0/credentials/{id}/redeem")).await.error_free();
        let (at, date) = if i == 0 { (EVENING, "2030-01-05") } else { (MORNING, "2030-01-06") };
        moved(&app, id, at, date).await;
    }
    let crate::portal::Counted { server, mut owner, client, alone } = crate::portal::counted_owner(&app, &acct).await;
    let base = server.base.as_str();
    let mut counts = Vec::new();
    for (path, total) in
        [("/admin/reports?from=2030-01-05&to=2030-01-05", 1), ("/admin/reports?from=2030-01-05&to=2030-01-06", 41)]
    {
        let portal = &mut owner;
        let statements = crate::statements::fewest(&client, base, async || {
            let page = portal.get(path).await;
            assert_eq!(figure(&page, "total-redemptions"), total, "{path}");
        })
        .await;
        counts.push(statements - alone);
    }
    assert_eq!(counts[0], counts[1], "the reports page: statements for one redemption, then 41");
    let mut counts = Vec::new();
    for users in [1, 50] {
        while crate::portal_admin::users_of(&app, acct.id).await.len() < users {
            user(&app, &acct, Role::Viewer, &[]).await;
        }
        let portal = &mut owner;
        let statements = crate::statements::fewest(&client, base, async || {
            assert_eq!(portal.get("/admin/account").await.text.matches("<tr data-user-id=").count(), users);
        })
        .await;
        counts.push(statements - alone);
    }
    assert_eq!(counts[0], counts[1], "the account page: statements for one user, then 50");
}

// ---- The offer form's further fields (docs/PORTAL.md, "Offer forms").

async fn offer_form_sets_stop_offering_at_and_the_daily_limit(app: TestApp) {
    let acct = app.account().await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let csrf = owner.csrf.clone();
    let form = |stop: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Daily Fries".to_owned()),
            ("offer_type", "0".to_owned()),
            ("activates_at", "2026-01-01T09:30".to_owned()),
            ("expires_at", "2036-01-01T00:00".to_owned()),
            ("stop_offering_at", stop.to_owned()),
            ("max_redemptions_per_member_per_day", "2".to_owned()),
        ]
    };
    let count = "SELECT COUNT(*) AS count FROM offers WHERE account_id = $1";
    // The API's window rule, next to the field, nothing written.
    let refused = owner.post("/admin/offers", &form("2037-01-01T00:00")).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.text.contains(r#"id="stop_offering_at-error">Stop issuing must not be after expires_at<"#),
        "{}",
        refused.text
    );
    assert!(refused.text.contains(r#"value="2037-01-01T00:00""#), "kept");
    assert_eq!(app.db.fetch_optional::<i64>(count, &[acct.id.into()]).await.unwrap(), Some(0));
    let created = owner.post("/admin/offers", &form("2035-06-01T12:00")).await;
    let id: i64 = created.location().trim_start_matches("/admin/offers/").split('?').next().unwrap().parse().unwrap();
    let api = app.get(&acct, &format!("/v1.0/offers/{id}")).await.error_free().body["offer"].clone();
    assert!(api["stop_offering_at"].as_str().unwrap().starts_with("2035-06-01T12:00"), "{api}");
    assert_eq!(api["max_redemptions_per_member_per_day"], 2);
    let edit = owner.get(&format!("/admin/offers/{id}/edit")).await;
    assert!(edit.text.contains(r#"name="stop_offering_at" value="2035-06-01T12:00""#), "{}", edit.text);
    assert!(edit.text.contains(r#"name="max_redemptions_per_member_per_day" value="2""#));
    // Blank on edit clears them.
    let mut cleared = form("");
    cleared.retain(|(f, _)| *f != "max_redemptions_per_member_per_day");
    owner.post(&format!("/admin/offers/{id}"), &cleared).await.location();
    let api = app.get(&acct, &format!("/v1.0/offers/{id}")).await.error_free().body["offer"].clone();
    assert!(api["stop_offering_at"].is_null() && api["max_redemptions_per_member_per_day"].is_null(), "{api}");
}
