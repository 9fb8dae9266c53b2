//! The offer form's later steps in a real browser (issue #13): an owner fills the landing-page
//! options of an offer, presses Preview and sees the landing page in the preview frame
//! (nothing saved), ticks a member list on the offer's page and saves it, then sets the
//! offer's point-of-sale rule (type, percentage, item sets) through the edit form; each page
//! at desktop and phone widths, saved as `portal-offer-preview-*.png`,
//! `portal-offer-lists-*.png`, `portal-offer-rule-*.png` and `portal-offer-rule-summary-*.png`.

use super::harness::Viewport;
use super::portal::{fill, fits, open, sign_in, until};
use crate::helpers::{Backend, TestApp};
use crate::portal::{user, PASSWORD};
use fantoccini::Locator;
use kindling_domain::portal::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_previews_the_landing_page_ticks_a_member_list_and_sets_the_rule() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Free Fries", "offer_type": 0})).await;
    let list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "VIP"}})).await.body["member_list"]
        ["id"]
        .as_i64()
        .unwrap();
    let set = |name: &str| json!({"item_set": {"name": name}});
    let burgers = app.post(&acct, "/v1.0/item_sets", set("Burgers")).await.body["item_set"]["id"].as_i64().unwrap();
    let fries = app.post(&acct, "/v1.0/item_sets", set("Fries")).await.body["item_set"]["id"].as_i64().unwrap();
    let email = user(&app, &acct, Role::Owner, &[]).await;
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let Some(browser) = open(viewport).await else { return };
        let name = viewport.name();
        sign_in(&browser, &app.base, &email, PASSWORD, None).await;

        // The edit form: landing-page options, then Preview.
        browser.goto(&format!("{}/admin/offers/{offer}/edit", app.base)).await;
        browser.client.wait().for_element(Locator::Css("#preview-offer")).await.unwrap();
        fill(&browser, "#name", "Bigger Fries").await;
        fill(&browser, "#bg_color", "#FF00AA").await;
        fill(&browser, "#instructions", "Show this code at the counter.").await;
        browser.find("#preview-offer").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#preview-frame")).await.unwrap();
        fits(&browser, "offer preview").await;
        browser.js("document.querySelector('#preview').scrollIntoView()").await;
        browser.screenshot(&format!("portal-offer-preview-{name}")).await;
        // Inside the frame: the landing page of the unsaved values.
        browser.find("#preview-frame").await.enter_frame().await.unwrap();
        let heading = browser.client.wait().for_element(Locator::Css("#offer-name")).await.unwrap();
        assert_eq!(heading.text().await.unwrap(), "Bigger Fries");
        assert!(browser.find("#instructions").await.text().await.unwrap().contains("Show this code at the counter."));
        browser.client.enter_parent_frame().await.unwrap();
        let stored = app.get(&acct, &format!("/v1.0/offers/{offer}")).await.body["offer"]["name"].clone();
        assert_eq!(stored, "Free Fries", "a preview saves nothing");

        // The offer's page: tick the member list and save it.
        browser.goto(&format!("{}/admin/offers/{offer}", app.base)).await;
        browser.client.wait().for_element(Locator::Css("#save-member-lists")).await.unwrap();
        let tick = browser.find(&format!("#member-lists-{list}")).await;
        if tick.prop("checked").await.unwrap().as_deref() != Some("true") {
            tick.click().await.unwrap();
        }
        browser.find("#save-member-lists").await.click().await.unwrap();
        until(&browser, &format!("/admin/offers/{offer}?done=member_lists")).await;
        browser.client.wait().for_element(Locator::Css("#notice")).await.unwrap();
        let linked = app.get(&acct, &format!("/v1.0/offers/{offer}")).await.body["offer"]["eligibility"]
            ["member_list_ids"]
            .clone();
        assert_eq!(linked, json!([list]));
        fits(&browser, "offer lists").await;
        browser.js("document.querySelector('#member-lists').scrollIntoView()").await;
        browser.screenshot(&format!("portal-offer-lists-{name}")).await;

        // The rule step of the edit form: the type shows only the fields it reads.
        browser.goto(&format!("{}/admin/offers/{offer}/edit", app.base)).await;
        browser.client.wait().for_element(Locator::Css("#rule-heading")).await.unwrap();
        browser.find("#offer_type").await.select_by_value("2").await.unwrap();
        assert!(browser.find("#criteria_percent").await.is_displayed().await.unwrap(), "percent, for type 2");
        assert!(!browser.find("#criteria_amount_off").await.is_displayed().await.unwrap(), "not read by type 2");
        fill(&browser, "#criteria_percent", "25").await;
        browser.find("#required_item_set_id").await.select_by_value(&burgers.to_string()).await.unwrap();
        fill(&browser, "#required_item_count", "1").await;
        browser.find("#redemption_item_set_id").await.select_by_label("Fries").await.unwrap();
        fill(&browser, "#redemption_item_count", "1").await;
        fits(&browser, "offer rule").await;
        browser.js("document.querySelector('#rule-heading').scrollIntoView()").await;
        browser.screenshot(&format!("portal-offer-rule-{name}")).await;
        browser.find("#save-offer").await.click().await.unwrap();
        until(&browser, &format!("/admin/offers/{offer}?done=saved")).await;
        let stored = app.get(&acct, &format!("/v1.0/offers/{offer}")).await.body["offer"].clone();
        assert_eq!((&stored["offer_type"], &stored["criteria"]), (&json!(2), &json!({"percent": 25})));
        assert_eq!(
            (&stored["required_item_set_id"], &stored["redemption_item_set_id"]),
            (&json!(burgers), &json!(fries))
        );
        let summary = browser.find("#pos-rule").await.text().await.unwrap();
        assert!(summary.contains("25% off") && summary.contains("1 of Fries"), "{summary}");
        fits(&browser, "offer rule summary").await;
        browser.js("document.querySelector('#pos-rule').scrollIntoView()").await;
        browser.screenshot(&format!("portal-offer-rule-summary-{name}")).await;
        browser.close().await;
    }
}
