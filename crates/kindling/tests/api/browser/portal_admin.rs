//! The reports, account and offer form pages in a real browser (issue #13): an owner looks at
//! the reports page (after codes were issued and redeemed through the API), follows its CSV
//! link, rotates the API key and creates a viewer on the account page through the real forms,
//! and opens the offer form; each page at desktop and phone widths, saved as
//! `portal-reports-*.png`, `portal-account-*.png` and `portal-offer-form-*.png`.

use super::harness::Viewport;
use super::portal::{fill, fits, open, path, sign_in, until};
use crate::credentials::setup;
use crate::helpers::{Backend, TestApp};
use crate::portal::{user, PASSWORD};
use fantoccini::Locator;
use kindling_domain::portal::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_reads_reports_and_manages_the_account() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Buy a Burger, Get Free Medium Fries"})).await;
    super::portal::three_codes(&app, &acct, &s).await;
    let email = user(&app, &acct, Role::Owner, &[]).await;
    let mut key = acct.key.clone();
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let Some(browser) = open(viewport).await else { return };
        let name = viewport.name();
        sign_in(&browser, &app.base, &email, PASSWORD, None).await;

        // Reports: this month's numbers, from the API's reports.
        browser.find("nav a[href='/admin/reports']").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#report-chart")).await.unwrap();
        let total = browser.find("#total-redemptions .value").await.text().await.unwrap();
        assert_eq!(total, "2");
        assert_eq!(browser.find("#total-issued .value").await.text().await.unwrap(), "3");
        assert!(browser.find("#by-offer").await.text().await.unwrap().contains("Free Medium Fries"));
        let csv = browser.find("#download-redemptions").await.attr("href").await.unwrap().unwrap();
        assert!(csv.starts_with("/admin/reports/redemptions.csv?from="), "{csv}");
        fits(&browser, "reports").await;
        browser.screenshot(&format!("portal-reports-{name}")).await;

        // The account page: rotate the key through the form; the old key is refused.
        browser.find("nav a[href='/admin/account']").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#rotate-key")).await.unwrap();
        browser.find("#rotate-key").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#new-key-value")).await.unwrap();
        let new_key = browser.find("#new-key-value").await.prop("value").await.unwrap().unwrap();
        assert_eq!(app.auth(&acct.id.to_string(), &key).await.status, 401, "the old key");
        assert_eq!(app.auth(&acct.id.to_string(), &new_key).await.status, 204, "the new key");
        key = new_key;
        // Create a viewer; their one-time password signs in.
        browser.goto(&format!("{}/admin/account", app.base)).await;
        browser.client.wait().for_element(Locator::Css("#create-user")).await.unwrap();
        let viewer = format!("viewer-{name}@example.com");
        fill(&browser, "#email", &viewer).await;
        browser.find("#role").await.select_by_value("viewer").await.unwrap();
        browser.find("#create-user").await.click().await.unwrap();
        until(&browser, "/admin/account/users").await;
        if browser.client.wait().for_element(Locator::Css("#new-password")).await.is_err() {
            let html = browser.js("return location.pathname + ' ' + document.querySelector('main').innerText").await;
            panic!("no password shown: {html}");
        }
        let password = browser.find("#new-password").await.prop("value").await.unwrap().unwrap();
        assert_eq!(password.len(), 20);
        assert!(browser.find("#user-table").await.text().await.unwrap().contains(&viewer));
        fits(&browser, "account").await;
        browser.screenshot(&format!("portal-account-{name}")).await;
        let mut portal = crate::portal::Portal::new(&app);
        assert_eq!(portal.sign_in(&viewer, &password).await.status, 303, "the viewer signs in");

        // The offer form.
        browser.goto(&format!("{}/admin/offers/new", app.base)).await;
        browser.client.wait().for_element(Locator::Css("#save-offer")).await.unwrap();
        assert_eq!(path(&browser).await, "/admin/offers/new");
        fits(&browser, "offer form").await;
        browser.screenshot(&format!("portal-offer-form-{name}")).await;
        browser.close().await;
    }
}
