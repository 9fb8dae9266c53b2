//! The offer form's live preview in a real browser (issue #13, "formatting with a live
//! preview of the landing page"): typing in the form, without pressing Preview, brings the
//! landing page of the unsaved values into the preview frame and keeps it current; the page
//! does not reload and nothing is saved. The portal's Content-Security-Policy must let the
//! portal's own script run (`script-src 'self'`) for this to pass.

use super::harness::Viewport;
use super::portal::{fill, open, path, sign_in};
use crate::helpers::{Backend, TestApp};
use crate::portal::{user, PASSWORD};
use fantoccini::Locator;
use kindling_domain::portal::Role;
use serde_json::json;

/// Waits until the preview frame's page contains `text`; panics after 10 s.
async fn preview_shows(browser: &super::harness::Browser, text: &str) {
    let script =
        format!("var f = document.querySelector('#preview-frame'); return !!f && f.srcdoc.includes({});", json!(text));
    for _ in 0..200 {
        if browser.js(&script).await == json!(true) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the preview never showed {text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_follows_the_typing() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Free Fries", "offer_type": 0})).await;
    let email = user(&app, &acct, Role::Editor, &[]).await;
    let Some(browser) = open(Viewport::Desktop).await else { return };
    sign_in(&browser, &app.base, &email, PASSWORD, None).await;
    let edit = format!("/admin/offers/{offer}/edit");
    browser.goto(&format!("{}{edit}", app.base)).await;
    browser.client.wait().for_element(Locator::Css("#instructions")).await.unwrap();
    assert_eq!(browser.count("#preview-frame").await, 0, "no preview before any typing");
    // A marker the page can tell apart from a reload.
    browser.js("window.notReloaded = true").await;

    fill(&browser, "#instructions", "Show this at the till.").await;
    preview_shows(&browser, "Show this at the till.").await;
    fill(&browser, "#name", "Bigger Fries").await;
    preview_shows(&browser, "Bigger Fries").await;
    browser.find("#preview-frame").await.enter_frame().await.unwrap();
    let heading = browser.client.wait().for_element(Locator::Css("#offer-name")).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), "Bigger Fries");
    browser.client.enter_parent_frame().await.unwrap();

    assert_eq!(browser.js("return window.notReloaded === true").await, json!(true), "the page never reloaded");
    assert_eq!(path(&browser).await, edit);
    let stored = app.get(&acct, &format!("/v1.0/offers/{offer}")).await.body["offer"].clone();
    assert_eq!((stored["name"].as_str(), stored["formatting"]["instructions"].as_str()), (Some("Free Fries"), None));
    browser.screenshot("portal-offer-live-preview-desktop").await;
    browser.close().await;
}
