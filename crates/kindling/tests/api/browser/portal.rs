//! The Admin Portal in a real browser (issue #13): a new owner created with `kindling user
//! create` follows the guide's words ("at least one Merchant, and an Offer", "Publishing
//! Channels"): creates a merchant and an offer through the forms, ticks a channel, approves
//! it, and a code issued through the API for it redeems from the code page; a store operator
//! looks up a code issued through the API and redeems it at their store, and the API sees
//! the redemptions; an owner's dashboard and offer list; each page at desktop (1280×800) and
//! phone (390×844) widths, saved as `portal-*.png`.

use super::harness::{Browser, Viewport};
use crate::credentials::{setup, Setup};
use crate::helpers::{Backend, TestAccount, TestApp};
use crate::portal::{code, credential, redemption_stores, store, user, PASSWORD};
use fantoccini::Locator;
use kindling_domain::portal::Role;
use serde_json::{json, Value};

/// `kindling user create` for a store operator at `stores`; their printed password.
fn operator_with_cli(app: &TestApp, acct: &TestAccount, email: &str, stores: &[i64]) -> String {
    user_with_cli(app, acct, email, "store_operator", stores)
}

/// `kindling user create` with `role`; the printed password.
pub(super) fn user_with_cli(app: &TestApp, acct: &TestAccount, email: &str, role: &str, stores: &[i64]) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kindling"));
    command.args(["user", "create", "--account", &acct.id.to_string(), "--email", email, "--role", role]);
    for store in stores {
        command.args(["--store", &store.to_string()]);
    }
    let output = command.args(["--database-url", &app.url]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let line: Value = serde_json::from_slice(&output.stdout).unwrap();
    line["password"].as_str().unwrap().to_owned()
}

pub(super) async fn open(viewport: Viewport) -> Option<Browser> {
    let browser = Browser::open(viewport).await?;
    if viewport == Viewport::Desktop {
        browser.client.set_window_size(1280, 800).await.unwrap();
    }
    Some(browser)
}

/// Nothing wider than the screen, at either width.
pub(super) async fn fits(browser: &Browser, page: &str) {
    let widths = browser.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    let (scroll, inner) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(scroll <= inner, "{page} scrolls sideways at {:?}: {scroll} > {inner}", browser.viewport);
}

pub(super) async fn path(browser: &Browser) -> String {
    browser.js("return location.pathname + location.search").await.as_str().unwrap().to_owned()
}

/// Fills and sends the sign-in form, as a person would, then waits for the next page.
pub(super) async fn sign_in(browser: &Browser, base: &str, email: &str, password: &str, shot: Option<&str>) {
    browser.goto(&format!("{base}/admin/login")).await;
    assert!(browser.find("label[for=email]").await.is_displayed().await.unwrap(), "a labelled email field");
    fits(browser, "sign-in").await;
    if let Some(name) = shot {
        browser.screenshot(name).await;
    }
    browser.find("#email").await.send_keys(email).await.unwrap();
    browser.find("#password").await.send_keys(password).await.unwrap();
    browser.find("#sign-in").await.click().await.unwrap();
    browser.client.wait().for_element(Locator::Css("#signed-in-as")).await.unwrap();
    // The session cookie is HttpOnly (no script sees it) and was kept although Secure: the
    // browser counts http://127.0.0.1 as a secure context.
    let cookies = browser.js("return document.cookie").await;
    assert!(!cookies.as_str().unwrap().contains("kindling_admin"), "HttpOnly: {cookies}");
}

async fn look_up(browser: &Browser, identifier: &str) {
    let field = browser.find("#code").await;
    field.clear().await.unwrap();
    field.send_keys(identifier).await.unwrap();
    browser.find("#look-up").await.click().await.unwrap();
    browser.client.wait().for_element(Locator::Css(".credential")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_operator_redeems_a_code_at_their_store() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Buy a Burger, Get Free Medium Fries"})).await;
    let (downtown, uptown) = (store(&app, &acct, "Downtown").await, store(&app, &acct, "Uptown").await);
    let password = operator_with_cli(&app, &acct, "counter@example.com", &[downtown]);
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let (id, identifier) = code(&app, &acct, &s).await;
        let Some(browser) = open(viewport).await else { return };
        let name = viewport.name();
        sign_in(&browser, &app.base, "counter@example.com", &password, Some(&format!("portal-login-{name}"))).await;
        assert_eq!(path(&browser).await, "/admin/codes", "a store operator starts at the codes page");
        assert_eq!(browser.count("nav a").await, 1, "and has no other page");
        look_up(&browser, &identifier).await;
        let status = browser.find(".credential [data-status]").await.text().await.unwrap();
        assert_eq!(status, "open");
        assert!(browser.find(".credential .offers").await.text().await.unwrap().contains("Free Medium Fries"));
        let options = browser
            .js("return Array.from(document.querySelectorAll('select[name=store_id] option')).map(o => o.value)")
            .await;
        assert_eq!(options, json!([downtown.to_string()]), "only their store, not Uptown ({uptown})");
        assert_eq!(browser.count(".void-button").await, 0, "a store operator does not void");
        fits(&browser, "codes").await;
        browser.screenshot(&format!("portal-codes-{name}")).await;
        browser.find("select[name=store_id]").await.select_by_value(&downtown.to_string()).await.unwrap();
        browser.find(".redeem-button").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#notice")).await.unwrap();
        assert_eq!(browser.find(".credential [data-status]").await.text().await.unwrap(), "redeemed");
        assert!(browser.find(".credential").await.text().await.unwrap().contains("at Downtown"));
        fits(&browser, "redeemed code").await;
        browser.screenshot(&format!("portal-redeemed-{name}")).await;
        // The API sees the redemption, at the operator's store.
        assert_eq!(credential(&app, &acct, id).await["status"], "redeemed");
        assert_eq!(redemption_stores(&app, id).await, [downtown]);
        // The account-wide pages are refused.
        browser.goto(&format!("{}/admin/offers", app.base)).await;
        assert!(browser.find("main#forbidden").await.is_displayed().await.unwrap());
        browser.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_sees_the_dashboard_and_offers() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Buy a Burger, Get Free Medium Fries"})).await;
    for name in ["Half-price Shakes", "<script>document.title='pwned'</script>", "Kids Eat Free Tuesdays"] {
        crate::offers::offer(&app, &acct, json!({"name": name})).await;
    }
    three_codes(&app, &acct, &s).await;
    let email = user(&app, &acct, Role::Owner, &[]).await;
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let Some(browser) = open(viewport).await else { return };
        let name = viewport.name();
        sign_in(&browser, &app.base, &email, PASSWORD, None).await;
        assert_eq!(path(&browser).await, "/admin");
        assert_eq!(browser.find("#redeemed-today .value").await.text().await.unwrap(), "2");
        assert_eq!(browser.find("#issued-today .value").await.text().await.unwrap(), "3");
        let chart = browser.find("#redemptions-per-day").await;
        assert!(chart.is_displayed().await.unwrap(), "the SVG chart");
        assert_eq!(browser.count("#redemptions-per-day rect.bar").await, 30);
        fits(&browser, "dashboard").await;
        browser.screenshot(&format!("portal-dashboard-{name}")).await;
        browser.find("nav a[href='/admin/offers']").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#offer-table")).await.unwrap();
        assert_eq!(browser.count("#offer-table tbody tr").await, 4);
        assert_ne!(browser.client.title().await.unwrap(), "pwned", "an offer's name runs no script");
        let names = browser
            .js("return Array.from(document.querySelectorAll('#offer-table td.name')).map(t => t.textContent)")
            .await;
        assert!(names.as_array().unwrap().iter().any(|n| n == "<script>document.title='pwned'</script>"), "{names}");
        fits(&browser, "offers").await;
        browser.screenshot(&format!("portal-offers-{name}")).await;
        // Keyboard: the search field is reachable and submits with Enter.
        browser.find("#q").await.send_keys("kids\u{E007}").await.unwrap();
        until(&browser, "/admin/offers?q=kids&status=").await;
        assert_eq!(browser.count("#offer-table tbody tr").await, 1);
        browser.find("#sign-out").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("main#login")).await.unwrap();
        browser.goto(&format!("{}/admin", app.base)).await;
        assert_eq!(path(&browser).await, "/admin/login", "signed out");
        browser.close().await;
    }
}

/// Waits (up to 10 s) for the browser to be at `expected` (path and query).
pub(super) async fn until(browser: &Browser, expected: &str) {
    for _ in 0..200 {
        if path(browser).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("never reached {expected}: at {}", path(browser).await);
}

/// Three codes of `s` issued through the API, the first two redeemed (the dashboard's and
/// the reports' figures).
pub(super) async fn three_codes(app: &TestApp, acct: &TestAccount, s: &Setup) {
    for redeem in [true, true, false] {
        let (id, _) = code(app, acct, s).await;
        if redeem {
            let path = format!("/v1.0/credentials/{id}/redeem");
            app.raw(Some(&acct.token), reqwest::Method::PUT, &path, None).await.error_free();
        }
    }
}

/// Types `text` into the field `css` (emptied first).
pub(super) async fn fill(browser: &Browser, css: &str, text: &str) {
    let field = browser.find(css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// The "Done when" of issue #13: only the guide's words, a browser, and the API for the code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_owner_sets_up_an_offer_whose_code_redeems() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let password = user_with_cli(&app, &acct, &acct_email(&acct), "owner", &[]);
    let member = crate::credentials::member(&app, &acct, "ann").await;
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let Some(browser) = open(viewport).await else { return };
        let name = viewport.name();
        sign_in(&browser, &app.base, &acct_email(&acct), &password, None).await;

        // "At least one Merchant".
        browser.find("nav a[href='/admin/merchants']").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("main#merchants")).await.unwrap();
        browser.find("#new-merchant").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#merchant-form")).await.unwrap();
        // A blank name is refused next to the field.
        browser.find("#save-merchant").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#name-error")).await.unwrap();
        let merchant = format!("Q Burger ({name})");
        fill(&browser, "#name", &merchant).await;
        browser.find("#supports_barcode").await.click().await.unwrap();
        browser.find("#save-merchant").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#notice")).await.unwrap();
        browser.goto(&format!("{}/admin/merchants", app.base)).await;
        assert!(browser.find("#merchant-table").await.text().await.unwrap().contains(&merchant));
        fits(&browser, "merchants").await;
        browser.screenshot(&format!("portal-merchants-{name}")).await;

        // "And an Offer".
        browser.find("nav a[href='/admin/offers']").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#new-offer")).await.unwrap().click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#offer-form-fields")).await.unwrap();
        let offer_name = format!("Buy a Burger, Get Free Medium Fries ({name})");
        fill(&browser, "#name", &offer_name).await;
        fill(&browser, "#description", "Free medium fries with any burger.").await;
        browser.find("#merchant_id").await.select_by_label(&merchant).await.unwrap();
        fill(&browser, "#reward_item_value", "350").await;
        fill(&browser, "#max_redemptions_per_member", "1").await;
        fits(&browser, "new offer").await;
        browser.screenshot(&format!("portal-offer-new-{name}")).await;
        browser.find("#save-offer").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#publishing-channels")).await.unwrap();
        assert_eq!(browser.find("#offer-status").await.text().await.unwrap(), "pending");
        let offer: i64 =
            path(&browser).await.trim_start_matches("/admin/offers/").split('?').next().unwrap().parse().unwrap();

        // "Publishing Channels": create one when the account has none, then tick it.
        if browser.count("input[name=channel_id]").await == 0 {
            fill(&browser, "#channel-name", "Mobile app").await;
            browser.find("#create-channel").await.click().await.unwrap();
            until(&browser, &format!("/admin/offers/{offer}?done=channel")).await;
        }
        browser.find("input[name=channel_id]").await.click().await.unwrap();
        browser.find("#save-channels").await.click().await.unwrap();
        until(&browser, &format!("/admin/offers/{offer}?done=channels")).await;
        let xid = browser.find("#publishing-channels .xid").await;
        let channel: i64 = xid.attr("data-channel-id").await.unwrap().unwrap().parse().unwrap();
        assert!(xid.text().await.unwrap().starts_with("xid "), "the campaign's xid is shown");

        // Approve.
        browser.find("#approve-offer").await.click().await.unwrap();
        until(&browser, &format!("/admin/offers/{offer}?done=approved")).await;
        assert_eq!(browser.find("#offer-status").await.text().await.unwrap(), "approved");
        fits(&browser, "offer").await;
        browser.screenshot(&format!("portal-offer-{name}")).await;
        let api = app.get(&acct, &format!("/v1.0/offers/{offer}")).await.error_free().body["offer"].clone();
        assert_eq!((&api["status"], &api["name"]), (&json!("approved"), &json!(offer_name)));
        assert_eq!(api["channels"][0]["channel"]["id"], channel);

        // A code issued through the API for it redeems from the code page.
        let issue = format!("/v1.0/credentials?member_id={member}&offer_id={offer}&channel_id={channel}");
        let issued = crate::credentials::post_query(&app, &acct, &issue).await;
        let credential_id = issued.error_free().body["credential"]["id"].as_i64().unwrap();
        let identifier = issued.body["credential"]["identifier"].as_str().unwrap().to_owned();
        browser.find("nav a[href='/admin/codes']").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#code")).await.unwrap();
        look_up(&browser, &identifier).await;
        assert!(browser.find(".credential .offers").await.text().await.unwrap().contains(&offer_name));
        browser.find(".redeem-button").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#notice")).await.unwrap();
        assert_eq!(browser.find(".credential [data-status]").await.text().await.unwrap(), "redeemed");
        assert_eq!(credential(&app, &acct, credential_id).await["status"], "redeemed");
        browser.close().await;
    }
}

fn acct_email(acct: &TestAccount) -> String {
    format!("owner-{}@example.com", acct.id)
}
