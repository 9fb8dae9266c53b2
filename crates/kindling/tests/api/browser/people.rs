//! The Admin Portal's people pages in a real browser (issue #13): an owner created with
//! `kindling user create` creates a channel with a callback URL through the form, sends a
//! test callback, which a real local listener receives and the delivery log then shows
//! delivered; creates a member list and adds a member by identifier; and visits the
//! campaigns, members and member pages. Each page at desktop (1280×800) and phone (390×844)
//! widths, saved as `portal-people-*.png`.

use super::harness::{Browser, Viewport};
use super::portal::{fits, open, path, sign_in, user_with_cli};
use crate::callbacks::Listener;
use crate::credentials::setup;
use crate::helpers::{Backend, TestApp};
use crate::portal::code;
use fantoccini::Locator;
use serde_json::json;

/// Opens `url`, checks it fits the screen, and saves `portal-people-<name>-<viewport>`.
async fn visit(browser: &Browser, url: &str, name: &str) {
    browser.goto(url).await;
    assert!(browser.find("#signed-in-as").await.is_displayed().await.unwrap(), "{name}: signed in");
    assert_eq!(browser.count("main#forbidden, main#not-found, main#error").await, 0, "{name}");
    fits(browser, name).await;
    browser.screenshot(&format!("portal-people-{name}-{}", browser.viewport.name())).await;
}

async fn type_into(browser: &Browser, css: &str, text: &str) {
    let field = browser.find(css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_tests_a_channel_callback_and_keeps_a_member_list() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let listener = Listener::start(0).await;
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Buy a Burger, Get Free Medium Fries"})).await;
    crate::offers::approve(&app, &acct, s.offer).await;
    let (credential, _) = code(&app, &acct, &s).await;
    let campaign = app
        .post(&acct, "/v1.0/campaigns", json!({"campaign": {"offer_id": s.offer, "channel_name": "Newsletter"}}))
        .await;
    let campaign = campaign.error_free().body["campaign"]["id"].as_i64().unwrap();
    let identifier = app.get(&acct, &format!("/v1.0/members/{}", s.member)).await.body["member"]["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let password = user_with_cli(&app, &acct, "people@example.com", "owner", &[]);
    let base = app.base.as_str();

    // Desktop: the forms, as a person fills them.
    let Some(browser) = open(Viewport::Desktop).await else { return };
    sign_in(&browser, base, "people@example.com", &password, None).await;
    browser.goto(&format!("{base}/admin/channels/new")).await;
    type_into(&browser, "#name", "Partner app").await;
    type_into(
        &browser,
        "#conversion_callback_url",
        &format!("{}/hook/%{{credential_id}}?status=%{{status}}", listener.base),
    )
    .await;
    browser.find("#save-channel").await.click().await.unwrap();
    browser.client.wait().for_element(Locator::Css("#notice")).await.unwrap();
    let channel_path = path(&browser).await;
    let channel: i64 = channel_path.trim_start_matches("/admin/channels/").split('?').next().unwrap().parse().unwrap();
    let shown = app.get(&acct, &format!("/v1.0/channels/{channel}")).await.error_free().body["channel"].clone();
    assert_eq!(shown["name"], "Partner app", "the API sees the channel");
    browser.find("#test-callback").await.click().await.unwrap();
    browser.client.wait().for_element(Locator::Css("#notice")).await.unwrap();
    let got = listener.wait_for(1).await;
    assert_eq!(got[0].uri, "/hook/0?status=test", "the test callback arrived");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while browser.count("#delivery-table tr[data-status=delivered]").await == 0 {
        assert!(std::time::Instant::now() < deadline, "the delivery log shows it delivered");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        browser.client.refresh().await.unwrap();
    }

    browser.goto(&format!("{base}/admin/member_lists/new")).await;
    type_into(&browser, "#name", "VIP burger fans").await;
    browser.find("#save-member-list").await.click().await.unwrap();
    browser.client.wait().for_element(Locator::Css("#identifiers")).await.unwrap();
    let list_path = path(&browser).await.split('?').next().unwrap().to_owned();
    type_into(&browser, "#identifiers", &identifier).await;
    browser.find("#add-members").await.click().await.unwrap();
    // The list's page already shows a notice (the list was just created), so wait for the
    // member's row itself.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while browser.count("#list-member-table tr[data-member-id]").await == 0 {
        assert!(std::time::Instant::now() < deadline, "the list shows the member added");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(browser.count("#list-member-table tr[data-member-id]").await, 1);
    let list = list_path.trim_start_matches("/admin/member_lists/");
    let members = app.get(&acct, &format!("/v1.0/member_lists/{list}/members")).await;
    assert_eq!(members.error_free().body["member_list"]["member_ids"], json!([s.member]), "the API sees the member");
    browser.close().await;

    // Every page at both widths.
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let Some(browser) = open(viewport).await else { return };
        sign_in(&browser, base, "people@example.com", &password, None).await;
        let pages = [
            ("channels", "/admin/channels".to_owned()),
            ("channel", format!("/admin/channels/{channel}")),
            ("campaigns", "/admin/campaigns".to_owned()),
            ("campaign", format!("/admin/campaigns/{campaign}")),
            ("member-lists", "/admin/member_lists".to_owned()),
            ("member-list", list_path.clone()),
            ("members", format!("/admin/members?q={}", &identifier[..7])),
            ("member", format!("/admin/members/{}", s.member)),
        ];
        for (name, page) in pages {
            visit(&browser, &format!("{base}{page}"), name).await;
        }
        assert_eq!(
            browser.count(&format!("#code-table tr[data-credential-id=\"{credential}\"]")).await,
            1,
            "the member's code"
        );
        browser.close().await;
    }
}
