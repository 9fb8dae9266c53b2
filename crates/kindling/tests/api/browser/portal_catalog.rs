//! The portal's catalog in a real browser (issue #13, item 2): an owner opens Catalog, uploads
//! a stores CSV through the file input, makes a store list and ticks one of the uploaded
//! stores, makes a manufacturer, an item of it and an item set holding that item, each through
//! the real forms, and the API sees every record; each page at desktop and phone widths,
//! saved as `portal-catalog-*.png`.

use super::harness::Viewport;
use super::portal::{fits, open, path, sign_in, until};
use crate::helpers::{Backend, TestApp};
use crate::portal::{user, PASSWORD};
use fantoccini::Locator;
use kindling_domain::portal::Role;
use serde_json::json;

/// Clicks `css` and waits for `next` on the page that follows.
async fn submit(browser: &super::harness::Browser, css: &str, next: &str) {
    browser.find(css).await.click().await.unwrap();
    browser.client.wait().for_element(Locator::Css(next)).await.unwrap();
}

/// The record's id in the page's address (`/admin/items/7?done=created` → 7).
async fn id_in_path(browser: &super::harness::Browser) -> i64 {
    path(browser).await.split(['/', '?']).nth(3).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_builds_the_catalog_through_the_forms() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let merchant = crate::merchants::merchant(&app, &acct, "Q Burger").await;
    let email = user(&app, &acct, Role::Owner, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let Some(browser) = open(viewport).await else { return };
        let name = viewport.name();
        let shot = |page: &str| format!("portal-catalog-{page}-{name}");
        sign_in(&browser, &app.base, &email, PASSWORD, None).await;

        // Stores: the upload form, a CSV through the file input, the count created.
        browser.find("nav a[href='/admin/stores']").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("main#catalog-list")).await.unwrap();
        browser.find("a[href='/admin/stores/upload']").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#upload-form")).await.unwrap();
        let csv = dir.path().join(format!("stores-{name}.csv"));
        let rows = format!("name,site_id,city\nDowntown {name},D-{name},Denver\nUptown {name},U-{name},Boulder\n");
        std::fs::write(&csv, rows).unwrap();
        browser.find("#merchant_id").await.select_by_value(&merchant.to_string()).await.unwrap();
        browser.find("#file").await.send_keys(csv.to_str().unwrap()).await.unwrap();
        submit(&browser, "#upload", "#notice").await;
        let notice = browser.find("#notice").await.text().await.unwrap();
        assert!(notice.starts_with("2 stores were created"), "{notice}");
        fits(&browser, "store upload").await;
        browser.screenshot(&shot("upload")).await;
        browser.goto(&format!("{}/admin/stores?q={name}", app.base)).await;
        assert_eq!(browser.count("#record-table tbody tr").await, 2);
        fits(&browser, "stores").await;
        browser.screenshot(&shot("stores")).await;
        let listed = app.get(&acct, &format!("/v1.0/merchants/{merchant}/stores?name={name}")).await;
        let stores = listed.error_free().body["stores"].as_array().unwrap().clone();
        let downtown = stores
            .iter()
            .map(|s| if s["store"].is_object() { &s["store"] } else { s })
            .find(|s| s["site_id"] == json!(format!("D-{name}")))
            .map(|s| s["id"].as_i64().unwrap())
            .expect("the API lists the uploaded store");

        // A store list of the merchant, then its stores ticked on its page.
        browser.find(".tabs a[href='/admin/store_lists']").await.click().await.unwrap();
        until(&browser, "/admin/store_lists").await;
        browser.find("#new-record").await.click().await.unwrap();
        browser.client.wait().for_element(Locator::Css("#record-form")).await.unwrap();
        browser.find("#merchant_id").await.select_by_value(&merchant.to_string()).await.unwrap();
        super::portal::fill(&browser, "#name", &format!("Colorado {name}")).await;
        submit(&browser, "#save-record", "#notice").await;
        let list_id = id_in_path(&browser).await;
        browser.find(&format!("#store_ids-{downtown}")).await.click().await.unwrap();
        // The created page has a notice too: wait for the saved one's address.
        browser.find("#save-record").await.click().await.unwrap();
        until(&browser, &format!("/admin/store_lists/{list_id}?done=saved")).await;
        assert!(browser.find(&format!("#store_ids-{downtown}")).await.is_selected().await.unwrap());
        fits(&browser, "store list").await;
        browser.screenshot(&shot("store-list")).await;
        let api = app.get(&acct, &format!("/v1.0/merchants/{merchant}/store_lists/{list_id}")).await;
        assert_eq!(api.error_free().body["store_list"]["store_ids"], json!([downtown]));

        // A manufacturer, an item of it, and an item set holding the item.
        browser.goto(&format!("{}/admin/manufacturers/new", app.base)).await;
        super::portal::fill(&browser, "#name", &format!("Acme {name}")).await;
        submit(&browser, "#save-record", "#notice").await;
        fits(&browser, "manufacturer").await;
        browser.screenshot(&shot("manufacturer")).await;
        let maker = id_in_path(&browser).await;
        browser.goto(&format!("{}/admin/items/new", app.base)).await;
        super::portal::fill(&browser, "#name", &format!("Fries {name}")).await;
        super::portal::fill(&browser, "#code", &format!("F-{name}")).await;
        browser.find("#manufacturer_id").await.select_by_value(&maker.to_string()).await.unwrap();
        fits(&browser, "new item").await;
        browser.screenshot(&shot("item-form")).await;
        submit(&browser, "#save-record", "#notice").await;
        let item = id_in_path(&browser).await;
        browser.goto(&format!("{}/admin/item_sets/new", app.base)).await;
        super::portal::fill(&browser, "#name", &format!("Sides {name}")).await;
        browser.find("#manufacturer_id").await.select_by_value(&maker.to_string()).await.unwrap();
        submit(&browser, "#save-record", "#notice").await;
        let set = id_in_path(&browser).await;
        browser.find(&format!("#item_ids-{item}")).await.click().await.unwrap();
        browser.find("#save-record").await.click().await.unwrap();
        until(&browser, &format!("/admin/item_sets/{set}?done=saved")).await;
        fits(&browser, "item set").await;
        browser.screenshot(&shot("item-set")).await;
        let api = app.get(&acct, &format!("/v1.0/item_sets/{set}")).await;
        let api = api.error_free().body["item_set"].clone();
        assert_eq!((&api["manufacturer_id"], &api["item_ids"]), (&json!(maker), &json!([item])));

        // The lists.
        for (list, page) in [
            ("/admin/items", "items"),
            ("/admin/item_sets", "item-sets"),
            ("/admin/manufacturers", "manufacturers"),
            ("/admin/store_lists", "store-lists"),
        ] {
            browser.goto(&format!("{}{list}", app.base)).await;
            until(&browser, list).await;
            assert!(browser.count("#record-table tbody tr").await >= 1, "{list}");
            fits(&browser, page).await;
            browser.screenshot(&shot(page)).await;
        }
        browser.close().await;
    }
}
