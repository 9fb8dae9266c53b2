//! Landing pages in a real browser (issue #10): headless Chromium loads the pages of offers
//! seeded through the HTTP API, at phone and desktop widths, and the tests read the DOM the
//! way a person sees it (displayed elements, computed colours, scripts that did or did not
//! run). Screenshots of each page land in `harness::SCREENSHOTS`. SQLite only: the page's
//! store behaviour is covered on both stores by the HTTP tests.

mod banner;
mod harness;
mod live_preview;
mod offer_steps;
mod password;
mod people;
mod portal;
mod portal_admin;
mod portal_catalog;

use crate::helpers::{Backend, TestAccount, TestApp};
use harness::{Browser, Viewport};
use reqwest::Method;
use serde_json::{json, Value};

const PINK: &str = "rgb(255, 0, 170)";

/// An approved offer on a channel, and the address of its landing page.
struct Landing {
    acct: TestAccount,
    /// The banner's URL, when the offer has one.
    banner: Option<String>,
    offer: i64,
    xid: String,
    url: String,
}

/// Seeds through the API as the guide does: merchant, its offer, formatting, channel, approve.
async fn seed(app: &TestApp, offer: Value, formatting: Value, supports_barcode: bool) -> Landing {
    let acct = app.account().await;
    let merchant = app
        .post(&acct, "/v1.0/merchants", json!({"merchant": {"name": "Q Burger", "supports_barcode": supports_barcode}}))
        .await;
    let merchant = merchant.error_free().body["merchant"]["id"].as_i64().unwrap();
    // The offer's own merchant (`merchant_id`) decides the barcode, not its linked merchants.
    let mut offer = offer;
    offer["merchant_id"] = json!(merchant);
    let id = crate::offers::offer(app, &acct, offer).await;
    app.put(&acct, &format!("/v1.0/offers/{id}"), json!({"offer": {"formatting": formatting}})).await.error_free();
    let channel = crate::offers::channel(app, &acct, "Web").await;
    app.post(&acct, &format!("/v1.0/offers/{id}/channels"), json!({"offer": {"channel_ids": [channel]}}))
        .await
        .error_free();
    crate::offers::approve(app, &acct, id).await;
    let shown = app.get(&acct, &format!("/v1.0/offers/{id}")).await;
    let xid = shown.body["offer"]["channels"][0]["channel"]["xid"].as_str().expect("a linked channel has an xid");
    let banner = formatting["bg_image"].as_str().map(str::to_owned);
    Landing { url: format!("{}/{xid}", app.base), xid: xid.to_owned(), acct, offer: id, banner }
}

/// The Fries offer with every part of the page set; its banner is served by the test.
async fn fries(app: &TestApp) -> Landing {
    let banner = banner::serve().await;
    let offer = json!({"name": "Buy a Burger, Get Free Medium Fries", "description": "Any burger, any store.",
        "terms_and_conditions": "One per visit."});
    let formatting = json!({"bg_image": banner, "bg_color": "#FF00AA", "short_name": "Free Fries",
        "instructions": "Show this code at the counter.", "in_store_only": true});
    seed(app, offer, formatting, true).await
}

/// The codes the API lists for the offer (optionally for one member).
async fn issued_codes(app: &TestApp, l: &Landing, member: Option<i64>) -> Vec<String> {
    let mut path = format!("/v1.0/credentials?offer_id={}&per_page=100", l.offer);
    if let Some(member) = member {
        path.push_str(&format!("&member_id={member}"));
    }
    let listed = app.get(&l.acct, &path).await;
    listed.error_free().body["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credential"]["identifier"].as_str().unwrap().to_owned())
        .collect()
}

/// The impressions `GET /v1.0/impressions` lists for the page's xid, oldest first.
async fn impressions(app: &TestApp, l: &Landing) -> Vec<Value> {
    let listed = app.get(&l.acct, &format!("/v1.0/impressions?offer_xid={}&per_page=100", l.xid)).await;
    let listed = listed.error_free().body["impressions"].as_array().unwrap().clone();
    listed.into_iter().map(|i| i["impression"].clone()).collect()
}

/// The visible code on the page, which must be one the API issued for the offer.
async fn visible_code(app: &TestApp, browser: &Browser, l: &Landing) -> String {
    let code = browser.find("#code #code-value").await;
    assert!(code.is_displayed().await.unwrap(), "the code is visible");
    let code = code.text().await.unwrap().trim().to_owned();
    assert!(!code.is_empty(), "the code is not blank");
    let issued = issued_codes(app, l, None).await;
    assert!(issued.contains(&code), "the page's code {code} is a credential of the offer: {issued:?}");
    code
}

async fn body_classes(browser: &Browser) -> Vec<String> {
    let classes = browser.js("return Array.from(document.body.classList)").await;
    classes.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect()
}

/// What reads well on a phone: a viewport meta tag, so the layout is as wide as the screen
/// (390 CSS pixels, not the 980 a phone assumes without it), and nothing wider than that.
async fn fits_the_screen(browser: &Browser) {
    let meta = browser.js("const m = document.querySelector('meta[name=viewport]'); return m && m.content").await;
    assert!(meta.as_str().is_some_and(|m| m.contains("width=device-width")), "viewport meta tag: {meta}");
    let widths = browser.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    let (scroll, inner) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(
        scroll <= inner,
        "no horizontal scroll at {:?}: scrollWidth {scroll} > innerWidth {inner}",
        browser.viewport
    );
    let expected = if browser.viewport == Viewport::Phone { 390 } else { 1280 };
    assert_eq!(inner, expected, "layout width at {:?}", browser.viewport);
}

/// The coloured header starts at the very top of the page, banner image or not.
async fn header_on_top(browser: &Browser) {
    let top = browser.js("return document.getElementById('banner').getBoundingClientRect().top").await;
    assert_eq!(top.as_f64(), Some(0.0), "no gap above the header");
}

/// The header: colour, name, and the banner image, which has loaded.
async fn header(browser: &Browser, l: &Landing) {
    let header = browser.find("header#banner").await;
    assert!(header.is_displayed().await.unwrap());
    header_on_top(browser).await;
    // Computed by the page's own style (WebDriver's CSS value reports colours as rgba()).
    let colour = browser.js("return getComputedStyle(document.getElementById('banner')).backgroundColor").await;
    assert_eq!(colour, PINK, "bg_color on the header");
    let image = browser.find("header#banner img#banner-image").await;
    assert_eq!(image.attr("src").await.unwrap(), l.banner, "bg_image is the banner");
    let loaded =
        browser.js("const i = document.getElementById('banner-image'); return i.complete && i.naturalWidth").await;
    assert_eq!(loaded, banner::WIDTH, "the banner loaded over https");
    let name = browser.find("header#banner h1#offer-name").await;
    assert_eq!(name.text().await.unwrap(), "Buy a Burger, Get Free Medium Fries");
}

async fn text_of(browser: &Browser, css: &str) -> String {
    let element = browser.find(css).await;
    assert!(element.is_displayed().await.unwrap(), "{css} is visible");
    element.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printable_page_at_phone_and_desktop_widths() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let l = fries(&app).await;
    let mut codes = Vec::new();
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let Some(browser) = Browser::open(viewport).await else { return };
        browser.goto(&l.url).await;
        assert_eq!(body_classes(&browser).await, ["landing", "printable"]);
        assert_eq!(browser.client.title().await.unwrap(), "Free Fries", "short_name is the title");
        header(&browser, &l).await;
        assert!(text_of(&browser, "#offer-description").await.contains("Any burger, any store."));
        assert!(text_of(&browser, "#instructions").await.contains("Show this code at the counter."));
        assert!(text_of(&browser, "#terms").await.contains("One per visit."));
        assert!(browser.find("#in-store-only").await.is_displayed().await.unwrap(), "in_store_only is shown");
        codes.push(visible_code(&app, &browser, &l).await);
        // The merchant supports barcodes: Code 128 on paper, no QR code.
        assert_eq!(browser.count("#barcode svg").await, 1, "an inline SVG barcode");
        assert!(browser.find("#barcode svg").await.is_displayed().await.unwrap());
        assert_eq!(browser.count("#qrcode").await, 0, "no QR code on the printable view");
        fits_the_screen(&browser).await;
        browser.screenshot(&format!("printable-{}", viewport.name())).await;
        browser.close().await;
    }
    assert_ne!(codes[0], codes[1], "two browsers are two visitors");
    let seen = impressions(&app, &l).await;
    assert_eq!(seen.len(), 2, "each view is an impression: {seen:?}");
    assert_ne!(seen[0]["cookie_id"], seen[1]["cookie_id"], "one visitor cookie per browser");
    for impression in &seen {
        assert!(impression["member_id"].is_i64() && impression["channel_id"].is_i64(), "{impression}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mobile_page_at_phone_and_desktop_widths() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let l = fries(&app).await;
    for viewport in [Viewport::Phone, Viewport::Desktop] {
        let Some(browser) = Browser::open(viewport).await else { return };
        browser.goto(&format!("{}?printable=false", l.url)).await;
        assert_eq!(body_classes(&browser).await, ["landing", "mobile"]);
        header(&browser, &l).await;
        visible_code(&app, &browser, &l).await;
        assert_eq!(browser.count("#qrcode svg").await, 1, "an inline SVG QR code");
        assert!(browser.find("#qrcode svg").await.is_displayed().await.unwrap());
        assert_eq!(browser.count("#barcode").await, 0, "no barcode on the mobile view");
        fits_the_screen(&browser).await;
        browser.screenshot(&format!("mobile-{}", viewport.name())).await;
        browser.close().await;
    }
    // `no_printable` makes the mobile view the only one, and the page cache follows the change.
    let Some(browser) = Browser::open(Viewport::Phone).await else { return };
    browser.goto(&l.url).await;
    assert_eq!(body_classes(&browser).await, ["landing", "printable"]);
    let path = format!("/v1.0/offers/{}", l.offer);
    app.put(&l.acct, &path, json!({"offer": {"formatting": {"no_printable": true}}})).await.error_free();
    browser.goto(&l.url).await;
    assert_eq!(body_classes(&browser).await, ["landing", "mobile"], "no_printable shows the mobile view");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xss_named_offer_runs_no_script() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let name = r#"<script>document.title='pwned'</script><img src=x onerror="document.body.dataset.xss='1'">"#;
    let description = "Now <b>half</b> price";
    let l = seed(&app, json!({"name": name, "description": description}), json!({"bg_color": "#FF00AA"}), false).await;
    let Some(browser) = Browser::open(Viewport::Desktop).await else { return };
    browser.goto(&l.url).await;
    assert_ne!(browser.client.title().await.unwrap(), "pwned", "no script ran");
    assert_eq!(browser.js("return document.body.dataset.xss === undefined").await, true, "no handler ran");
    assert_eq!(browser.find("#offer-name").await.text().await.unwrap(), name, "the name is shown as text");
    header_on_top(&browser).await;
    assert_eq!(browser.count("#offer-name script, #offer-name img").await, 0, "no markup from the name");
    assert_eq!(browser.find("#offer-description").await.text().await.unwrap(), description);
    assert_eq!(browser.count("#offer-description b").await, 0, "no markup from the description");
    // Escaping is all the page does: the visitor still gets a code; this merchant has no barcodes.
    visible_code(&app, &browser, &l).await;
    assert_eq!(browser.count("#barcode, #qrcode").await, 0, "no barcode without supports_barcode");
    browser.screenshot("xss").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_visitor_sees_the_same_code() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let l = fries(&app).await;
    let Some(first) = Browser::open(Viewport::Phone).await else { return };
    first.goto(&l.url).await;
    let code = visible_code(&app, &first, &l).await;
    first.client.refresh().await.unwrap();
    assert_eq!(visible_code(&app, &first, &l).await, code, "the visitor cookie brings back the same code");
    first.goto(&format!("{}?printable=false", l.url)).await;
    assert_eq!(visible_code(&app, &first, &l).await, code, "and on the mobile view");
    first.close().await;
    let Some(second) = Browser::open(Viewport::Phone).await else { return };
    second.goto(&l.url).await;
    assert_ne!(visible_code(&app, &second, &l).await, code, "another browser is another visitor");
    second.close().await;
    assert_eq!(issued_codes(&app, &l, None).await.len(), 2, "one credential per visitor");
    let cookies: Vec<Value> = impressions(&app, &l).await.iter().map(|i| i["cookie_id"].clone()).collect();
    assert_eq!(cookies.len(), 4, "every view is an impression, returning or not");
    assert!(cookies[0] == cookies[1] && cookies[1] == cookies[2], "one browser, one cookie: {cookies:?}");
    assert_ne!(cookies[3], cookies[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sf_uid_names_the_member_and_sf_ac_the_creative() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let l = fries(&app).await;
    let Some(browser) = Browser::open(Viewport::Phone).await else { return };
    browser.goto(&format!("{}?sf_uid=ext-123&sf_ac=spring-banner", l.url)).await;
    let code = visible_code(&app, &browser, &l).await;
    browser.close().await;
    let member = app.get(&l.acct, "/v1.0/members/search?identifier=ext-123").await;
    let member = member.error_free().body["member"]["id"].as_i64().unwrap();
    assert_eq!(issued_codes(&app, &l, Some(member)).await, [code], "the code is ext-123's");
    let seen = impressions(&app, &l).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["member_id"], member, "the impression names the member");
    assert_eq!(seen[0]["creative_name"], "spring-banner", "and sf_ac's creative");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_xid_is_a_404_page() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let url = format!("{}/{}", app.base, kindling_domain::secret::new_xid());
    let plain = app.client.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), 404);
    let content_type = plain.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "an HTML page: {content_type}");
    let Some(browser) = Browser::open(Viewport::Phone).await else { return };
    browser.goto(&url).await;
    assert!(browser.find("main#not-found").await.is_displayed().await.unwrap(), "the not-found page");
    assert_eq!(browser.count("#code-value").await, 0);
    fits_the_screen(&browser).await;
    browser.screenshot("not-found").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_issue_shows_the_offer_unavailable() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let l = seed(&app, json!({"name": "Last Fries", "max_redemptions": 1}), json!({"bg_color": "#FF00AA"}), true).await;
    // Someone else redeems the only one through the API.
    let member = crate::credentials::member(&app, &l.acct, "early-bird").await;
    let offer = app.get(&l.acct, &format!("/v1.0/offers/{}", l.offer)).await;
    let channel = offer.body["offer"]["channels"][0]["channel"]["id"].as_i64().unwrap();
    let path = format!("/v1.0/credentials?member_id={member}&offer_id={}&channel_id={channel}", l.offer);
    let issued = app.raw(Some(&l.acct.token), Method::POST, &path, None).await;
    let id = issued.error_free().body["credential"]["id"].as_i64().unwrap();
    app.raw(Some(&l.acct.token), Method::PUT, &format!("/v1.0/credentials/{id}/redeem"), None).await.error_free();
    let Some(browser) = Browser::open(Viewport::Phone).await else { return };
    browser.goto(&l.url).await;
    assert!(browser.find("#unavailable").await.is_displayed().await.unwrap(), "says the offer is unavailable");
    assert_eq!(browser.count("#code-value").await, 0, "and shows no code");
    header_on_top(&browser).await;
    browser.screenshot("unavailable").await;
    browser.close().await;
}
