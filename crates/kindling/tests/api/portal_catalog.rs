//! The portal's catalog pages over real HTTP (docs/PORTAL.md, "Catalog"): stores (and their
//! CSV upload through the importer), store lists, manufacturers, items and item sets, each
//! written through the forms and read back through the API; bad input, the roles, CSRF,
//! another account's ids, and the list pages' statement counts.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use crate::merchants::merchant;
use crate::portal::{user, Page, Portal};
use kindling_domain::portal::Role;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    stores_are_created_edited_and_searched_through_the_forms,
    stores_are_uploaded_through_the_importer,
    store_lists_hold_their_merchants_stores,
    manufacturers_items_and_item_sets_through_the_forms,
    catalog_pages_follow_the_roles_and_need_the_csrf_token,
    another_accounts_catalog_records_are_not_found,
    catalog_lists_run_a_fixed_number_of_statements,
    choices_sort_names_by_bytes_on_both_stores,
);

/// The id at the end of a 303's location path (`/admin/stores/7?done=created` → 7).
fn created_id(page: &Page) -> i64 {
    let location = page.location();
    let path = location.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().parse().unwrap()
}

/// Text as minijinja's HTML escaping writes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

async fn owner(app: &TestApp, acct: &TestAccount) -> Portal {
    Portal::signed_in(app, &user(app, acct, Role::Owner, &[]).await).await
}

/// The merchant's stores as the API lists them: (name, site_id), in id order.
async fn api_stores(app: &TestApp, acct: &TestAccount, merchant: i64) -> Vec<(String, Value)> {
    let listed = app.get(acct, &format!("/v1.0/merchants/{merchant}/stores?per_page=100")).await;
    let stores = listed.error_free().body["stores"].as_array().unwrap().clone();
    stores
        .iter()
        .map(|s| {
            let s = if s["store"].is_object() { &s["store"] } else { s };
            (s["name"].as_str().unwrap().to_owned(), s["site_id"].clone())
        })
        .collect()
}

async fn api_count(app: &TestApp, acct: &TestAccount, path: &str) -> i64 {
    app.get(acct, path).await.error_free().body["total_entries"].as_i64().unwrap()
}

/// A store's form with the given name and site id.
fn store_form(csrf: &str, merchant: i64, name: &str, site_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("merchant_id", merchant.to_string()),
        ("name", name.to_owned()),
        ("site_id", site_id.to_owned()),
        ("number", String::new()),
        ("city", "Denver".into()),
        ("lat", "39.74".into()),
        ("lng", "-104.99".into()),
        ("description", String::new()),
        ("is_active", "true".into()),
    ]
}

fn with(form: &[(&'static str, String)], field: &'static str, value: &str) -> Vec<(&'static str, String)> {
    form.iter().map(|(k, v)| (*k, if *k == field { value.to_owned() } else { v.clone() })).collect()
}

async fn stores_are_created_edited_and_searched_through_the_forms(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let mut portal = owner(&app, &acct).await;
    let csrf = portal.csrf.clone();
    let list = portal.get("/admin/stores").await;
    assert_eq!(list.status, 200);
    assert!(list.text.contains(r#"id="new-record""#) && list.text.contains("No stores yet"), "{}", list.text);
    assert!(list.text.contains(&format!(r#"href="{}""#, escaped("/admin/stores/upload"))), "{}", list.text);
    let new = portal.get("/admin/stores/new").await;
    assert_eq!(new.status, 200);
    assert!(new.text.contains(r#"<label for="name">"#) && new.text.contains(r#"<label for="merchant_id">"#));

    // Bad input: each field's error beside it, the values kept, nothing written.
    let form = store_form(&csrf, m, "Downtown <1>", "S-1");
    let bad = portal.post("/admin/stores", &with(&with(&form, "name", " "), "lat", "north")).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains(r#"id="name-error""#) && bad.text.contains(r#"id="lat-error""#), "{}", bad.text);
    assert!(bad.text.contains(r#"value="north""#) && bad.text.contains(r#"value="S-1""#), "values kept");
    let far = portal.post("/admin/stores", &with(&form, "lng", "200")).await;
    assert_eq!(far.status, 422);
    assert!(far.text.contains(&escaped("Longitude must be between -180 and 180")), "{}", far.text);
    let no_merchant = portal.post("/admin/stores", &with(&form, "merchant_id", "")).await;
    assert_eq!(no_merchant.status, 422);
    assert!(no_merchant.text.contains(r#"id="merchant_id-error""#));
    assert!(api_stores(&app, &acct, m).await.is_empty(), "nothing written");

    // Created through the API's path; the API sees it.
    let created = portal.post("/admin/stores", &form).await;
    let id = created_id(&created);
    assert!(created.location().ends_with("?done=created"));
    let store = app.get(&acct, &format!("/v1.0/merchants/stores/{id}")).await.error_free().body["store"].clone();
    assert_eq!(
        (&store["name"], &store["site_id"], &store["merchant_id"], &store["is_active"]),
        (&json!("Downtown <1>"), &json!("S-1"), &json!(m), &json!(true))
    );
    assert_eq!((&store["location"]["city"], &store["location"]["lat"]), (&json!("Denver"), &json!("39.74")));
    let page = portal.get(&format!("/admin/stores/{id}?done=created")).await;
    assert!(page.text.contains(&escaped("Downtown <1>")) && page.text.contains(r#"id="notice""#));

    // A second store with the same site id: the API's "has already been taken" on its field.
    let taken = portal.post("/admin/stores", &with(&form, "name", "Uptown")).await;
    assert_eq!(taken.status, 422, "{}", taken.text);
    assert!(taken.text.contains(&escaped("Site id has already been taken")), "{}", taken.text);
    assert_eq!(api_stores(&app, &acct, m).await.len(), 1, "nothing written");

    // Edited: the name, inactive, the city emptied; the site id left blank keeps its value.
    let path = format!("/admin/stores/{id}");
    let edit = [
        ("csrf", csrf.clone()),
        ("name", "Downtown".into()),
        ("site_id", String::new()),
        ("city", String::new()),
        ("lat", "39.75".into()),
        ("lng", "-104.99".into()),
    ];
    let saved = portal.post(&path, &edit).await;
    assert_eq!(saved.location(), format!("{path}?done=saved"));
    let store = app.get(&acct, &format!("/v1.0/merchants/stores/{id}")).await.body["store"].clone();
    assert_eq!(
        (&store["name"], &store["site_id"], &store["is_active"]),
        (&json!("Downtown"), &json!("S-1"), &json!(false))
    );
    assert_eq!((&store["location"]["city"], &store["location"]["lat"]), (&json!(""), &json!("39.75")));
    let blank = portal.post(&path, &[("csrf", csrf.as_str()), ("name", "")]).await;
    assert_eq!(blank.status, 422);
    assert!(blank.text.contains(&escaped("Name can't be blank")));

    // The list: by any part of the name, any case.
    let other = portal.post("/admin/stores", &store_form(&csrf, m, "Airport", "S-2")).await;
    assert_eq!(other.status, 303);
    let found = portal.get("/admin/stores?q=TOWN").await;
    assert!(found.text.contains(">Downtown<") && !found.text.contains(">Airport<"), "{}", found.text);
    assert!(found.text.contains(">Q Burger<"), "the merchant's name");
    assert!(portal.get("/admin/stores?q=zzz").await.text.contains(r#"id="no-records""#));
    assert!(portal.get("/admin/stores?page=x").await.text.contains("2 stores"));
}

/// `POST /admin/stores/upload` as a browser sends it: multipart, with the session cookie.
async fn upload(app: &TestApp, portal: &Portal, csrf: Option<&str>, merchant: &str, csv: &str) -> (StatusCode, String) {
    const BOUNDARY: &str = "----kindling-test-boundary";
    let mut body = String::new();
    let mut part = |name: &str, extra: &str, value: &str| {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{value}\r\n"
        ));
    };
    if let Some(csrf) = csrf {
        part("csrf", "", csrf);
    }
    part("merchant_id", "", merchant);
    part("file", "; filename=\"stores.csv\"\r\nContent-Type: text/csv", csv);
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    let response = Client::new()
        .post(format!("{}/admin/stores/upload", app.base))
        .header("cookie", format!("kindling_admin={}", portal.session_token().unwrap()))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn stores_are_uploaded_through_the_importer(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let mut portal = owner(&app, &acct).await;
    let csrf = portal.csrf.clone();
    let form = portal.get("/admin/stores/upload").await;
    assert_eq!(form.status, 200);
    assert!(form.text.contains(r#"enctype="multipart/form-data""#) && form.text.contains(r#"<label for="file">"#));

    // Bad lines: every one reported by its line (the header is line 1), nothing written.
    let bad = "name,site_id,lat,is_active\nGood,A-1,40.1,yes\n,A-2,,\nBad <lat>,A-3,north,maybe\n";
    let (status, page) = upload(&app, &portal, Some(&csrf), &m.to_string(), bad).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Nothing was imported") && page.contains("2 problems"), "{page}");
    assert!(page.contains(r#"data-label="Line">3<"#) && page.contains(r#"data-label="Line">4<"#), "{page}");
    assert!(page.contains("name can&#x27;t be blank") && page.contains("must be a number"), "{page}");
    assert!(!page.contains(r#"data-label="Line">2<"#), "a good line is no problem");
    assert!(api_stores(&app, &acct, m).await.is_empty(), "nothing written");

    // The header: unknown columns are refused on line 1.
    let (status, page) = upload(&app, &portal, Some(&csrf), &m.to_string(), "name,colour\nA,red\n").await;
    assert_eq!(status, 422);
    assert!(page.contains(r#"data-label="Line">1<"#) && page.contains("unknown columns"), "{page}");

    // A good file: every store created for the merchant, through the importer.
    let good = "name,site_id,city,lat,lng\nDowntown,D-1,Denver,39.7,-104.9\n\"Uptown, North\",U-1,Boulder,,\n";
    let (status, page) = upload(&app, &portal, Some(&csrf), &m.to_string(), good).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("2 stores were created"), "{page}");
    assert_eq!(
        api_stores(&app, &acct, m).await,
        [("Downtown".to_owned(), json!("D-1")), ("Uptown, North".to_owned(), json!("U-1"))]
    );

    // A duplicate site id on the last line: the whole file is refused, the earlier lines too.
    let duplicate = "name,site_id\nAirport,A-9\nAgain,D-1\n";
    let (status, page) = upload(&app, &portal, Some(&csrf), &m.to_string(), duplicate).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains(r#"data-label="Line">3<"#) && page.contains("site_id has already been taken"), "{page}");
    assert_eq!(api_stores(&app, &acct, m).await.len(), 2, "nothing of the file written");

    // No file, no merchant, another account's merchant: field errors, nothing written.
    let (status, page) = upload(&app, &portal, Some(&csrf), &m.to_string(), "").await;
    assert_eq!(status, 422);
    assert!(page.contains(r#"id="file-error""#), "{page}");
    let other = app.account().await;
    let theirs = merchant(&app, &other, "Theirs").await;
    let (status, page) = upload(&app, &portal, Some(&csrf), &theirs.to_string(), good).await;
    assert_eq!(status, 422);
    assert!(page.contains(r#"id="merchant_id-error""#) && page.contains("does not exist in this account"));
    assert!(api_stores(&app, &other, theirs).await.is_empty());

    // CSRF first: missing or wrong is a 403 and nothing is written; a viewer may not upload.
    let one = "name\nLone\n";
    assert_eq!(upload(&app, &portal, None, &m.to_string(), one).await.0, 403);
    assert_eq!(upload(&app, &portal, Some("wrong"), &m.to_string(), one).await.0, 403);
    let viewer = Portal::signed_in(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    assert_eq!(upload(&app, &viewer, Some(&viewer.csrf.clone()), &m.to_string(), one).await.0, 403);
    assert_eq!(api_stores(&app, &acct, m).await.len(), 2, "nothing written");
}

async fn store_lists_hold_their_merchants_stores(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let other_m = merchant(&app, &acct, "Taco Town").await;
    let store = |m: i64, name: &'static str| {
        let app = &app;
        let acct = &acct;
        async move {
            let created =
                app.post(acct, &format!("/v1.0/merchants/{m}/stores"), json!({"store": {"name": name}})).await;
            created.error_free().body["store"]["id"].as_i64().unwrap()
        }
    };
    let (a, b, taco) = (store(m, "Downtown").await, store(m, "Uptown").await, store(other_m, "Taco Downtown").await);
    let mut portal = owner(&app, &acct).await;
    let csrf = portal.csrf.clone();
    assert_eq!(portal.get("/admin/store_lists/new").await.status, 200);
    let blank = portal
        .post("/admin/store_lists", &[("csrf", csrf.as_str()), ("merchant_id", &m.to_string()), ("name", "")])
        .await;
    assert_eq!(blank.status, 422);
    assert!(blank.text.contains(&escaped("Name can't be blank")));
    let created = portal
        .post("/admin/store_lists", &[("csrf", csrf.as_str()), ("merchant_id", &m.to_string()), ("name", "Colorado")])
        .await;
    let id = created_id(&created);
    let api = format!("/v1.0/merchants/{m}/store_lists/{id}");
    assert_eq!(app.get(&acct, &api).await.error_free().body["store_list"]["name"], "Colorado");

    // The list's page offers the merchant's stores only; tick one, type the other's id.
    let page = portal.get(&format!("/admin/store_lists/{id}")).await;
    assert!(page.text.contains(&format!(r#"name="store_ids" value="{a}""#)), "{}", page.text);
    assert!(!page.text.contains(&format!(r#"name="store_ids" value="{taco}""#)), "another merchant's store");
    let path = format!("/admin/store_lists/{id}");
    let form = [
        ("csrf", csrf.clone()),
        ("name", "Colorado stores".into()),
        ("store_ids", a.to_string()),
        ("store_ids_more", b.to_string()),
    ];
    assert_eq!(portal.post(&path, &form).await.location(), format!("{path}?done=saved"));
    let list = app.get(&acct, &api).await.body["store_list"].clone();
    assert_eq!((&list["name"], &list["store_ids"]), (&json!("Colorado stores"), &json!([a, b])));
    let page = portal.get(&path).await;
    assert!(
        page.text.contains(&format!(r#"value="{a}" checked"#))
            && page.text.contains(&format!(r#"value="{b}" checked"#))
    );

    // Another merchant's store, or words: the API's error on the field, nothing written.
    let refused = portal
        .post(&path, &[("csrf", csrf.as_str()), ("name", "Renamed"), ("store_ids_more", &taco.to_string())])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.text.contains(&format!("contains ids that do not exist or are not eligible: {taco}")),
        "{}",
        refused.text
    );
    let words = portal.post(&path, &[("csrf", csrf.as_str()), ("name", "Renamed"), ("store_ids_more", "five")]).await;
    assert_eq!(words.status, 422);
    assert!(words.text.contains(r#"id="store_ids-error""#));
    let list = app.get(&acct, &api).await.body["store_list"].clone();
    assert_eq!((&list["name"], &list["store_ids"]), (&json!("Colorado stores"), &json!([a, b])), "nothing written");

    // Untick all: the set is emptied; the list page counts the stores.
    assert_eq!(portal.post(&path, &[("csrf", csrf.as_str()), ("name", "Empty")]).await.status, 303);
    assert_eq!(app.get(&acct, &api).await.body["store_list"]["store_ids"], json!([]));
    let listed = portal.get("/admin/store_lists").await;
    assert!(listed.text.contains(">Empty<") && listed.text.contains(">Q Burger<"), "{}", listed.text);
}

async fn manufacturers_items_and_item_sets_through_the_forms(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let mut portal = owner(&app, &acct).await;
    let csrf = portal.csrf.clone();
    let c = csrf.as_str();

    // Manufacturers.
    let blank = portal.post("/admin/manufacturers", &[("csrf", c), ("name", " ")]).await;
    assert_eq!(blank.status, 422);
    assert!(blank.text.contains(&escaped("Name can't be blank")));
    assert_eq!(api_count(&app, &acct, "/v1.0/manufacturers").await, 0);
    let made = portal
        .post(
            "/admin/manufacturers",
            &[("csrf", c), ("name", "Acme <Foods>"), ("description", "Fries"), ("is_active", "true")],
        )
        .await;
    let maker = created_id(&made);
    let api = app.get(&acct, &format!("/v1.0/manufacturers/{maker}")).await.error_free().body["manufacturer"].clone();
    assert_eq!(
        (&api["name"], &api["description"], &api["is_active"]),
        (&json!("Acme <Foods>"), &json!("Fries"), &json!(true))
    );
    let path = format!("/admin/manufacturers/{maker}");
    assert_eq!(portal.post(&path, &[("csrf", c), ("name", "Acme"), ("description", "")]).await.status, 303);
    let api = app.get(&acct, &format!("/v1.0/manufacturers/{maker}")).await.body["manufacturer"].clone();
    assert_eq!((&api["name"], &api["is_active"]), (&json!("Acme"), &json!(false)));
    assert!(portal.get("/admin/manufacturers?q=acm").await.text.contains(">Acme<"));

    // Items: the account's, a merchant's, a manufacturer's; both owners at once is refused.
    let item = |name: &str, code: &str, owner: (&'static str, String)| {
        vec![("csrf", csrf.clone()), ("name", name.to_owned()), ("code", code.to_owned()), owner]
    };
    let none = ("merchant_id", String::new());
    let bad = portal.post("/admin/items", &item("Fries", " ", none.clone())).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains(&escaped("POS code can't be blank")), "{}", bad.text);
    let mut both = item("Fries", "F1", ("merchant_id", m.to_string()));
    both.push(("manufacturer_id", maker.to_string()));
    let both = portal.post("/admin/items", &both).await;
    assert_eq!(both.status, 422);
    assert!(both.text.contains(r#"id="manufacturer_id-error""#));
    assert_eq!(api_count(&app, &acct, "/v1.0/items").await, 0, "nothing written");
    let account_item = created_id(&portal.post("/admin/items", &item("Soda", "S1", none.clone())).await);
    let merchant_item =
        created_id(&portal.post("/admin/items", &item("Burger", "B1", ("merchant_id", m.to_string()))).await);
    let fries = item("Fries", "0042", ("manufacturer_id", maker.to_string()));
    let maker_item = created_id(&portal.post("/admin/items", &fries).await);
    let api = app.get(&acct, &format!("/v1.0/items/{maker_item}")).await.error_free().body["item"].clone();
    assert_eq!((&api["code"], &api["manufacturer_id"]), (&json!("0042"), &json!(maker)));
    let api = app.get(&acct, &format!("/v1.0/items/{merchant_item}")).await.body["item"].clone();
    assert_eq!(api["merchant_id"], m);
    let path = format!("/admin/items/{account_item}");
    assert_eq!(portal.post(&path, &[("csrf", c), ("name", "Cola"), ("code", "C1")]).await.status, 303);
    let api = app.get(&acct, &format!("/v1.0/items/{account_item}")).await.body["item"].clone();
    assert_eq!((&api["name"], &api["code"]), (&json!("Cola"), &json!("C1")));
    let listed = portal.get("/admin/items").await;
    assert!(
        listed.text.contains("Manufacturer: Acme") && listed.text.contains("Merchant: Q Burger"),
        "{}",
        listed.text
    );

    // Item sets: a manufacturer's set offers (and takes) only that manufacturer's items.
    let bad = portal.post("/admin/item_sets", &[("csrf", c), ("name", "Sides"), ("set_type", "x")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains(r#"id="set_type-error""#) && bad.text.contains(r#"value="x""#));
    let set = created_id(
        &portal
            .post(
                "/admin/item_sets",
                &[("csrf", c), ("name", "Sides"), ("set_type", "1"), ("manufacturer_id", &maker.to_string())],
            )
            .await,
    );
    let page = portal.get(&format!("/admin/item_sets/{set}")).await;
    assert!(page.text.contains(&format!(r#"name="item_ids" value="{maker_item}""#)), "{}", page.text);
    assert!(!page.text.contains(&format!(r#"name="item_ids" value="{merchant_item}""#)));
    let path = format!("/admin/item_sets/{set}");
    let refused = portal
        .post(
            &path,
            &[
                ("csrf", c),
                ("name", "Sides"),
                ("set_type", "1"),
                ("item_ids", &maker_item.to_string()),
                ("item_ids_more", &merchant_item.to_string()),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains(&format!("not eligible: {merchant_item}")), "{}", refused.text);
    let api_set = format!("/v1.0/item_sets/{set}");
    assert_eq!(app.get(&acct, &api_set).await.error_free().body["item_set"]["item_ids"], json!([]), "nothing written");
    let saved = portal
        .post(&path, &[("csrf", c), ("name", "Fries only"), ("set_type", "2"), ("item_ids", &maker_item.to_string())])
        .await;
    assert_eq!(saved.status, 303);
    let api = app.get(&acct, &api_set).await.body["item_set"].clone();
    assert_eq!(
        (&api["name"], &api["set_type"], &api["manufacturer_id"], &api["item_ids"]),
        (&json!("Fries only"), &json!(2), &json!(maker), &json!([maker_item]))
    );
    let listed = portal.get("/admin/item_sets").await;
    assert!(listed.text.contains(">Fries only<") && listed.text.contains("Manufacturer: Acme"), "{}", listed.text);
}

/// Every catalog form's path and a valid body (ids of `acct`'s records).
fn catalog_posts(
    csrf: &str,
    m: i64,
    store: i64,
    list: i64,
    maker: i64,
    item: i64,
    set: i64,
) -> Vec<(String, Vec<(&'static str, String)>)> {
    let c = || ("csrf", csrf.to_owned());
    let name = |n: &str| ("name", n.to_owned());
    vec![
        ("/admin/stores".into(), vec![c(), ("merchant_id", m.to_string()), name("New store")]),
        (format!("/admin/stores/{store}"), vec![c(), name("Renamed")]),
        ("/admin/store_lists".into(), vec![c(), ("merchant_id", m.to_string()), name("New list")]),
        (format!("/admin/store_lists/{list}"), vec![c(), name("Renamed")]),
        ("/admin/manufacturers".into(), vec![c(), name("New maker")]),
        (format!("/admin/manufacturers/{maker}"), vec![c(), name("Renamed")]),
        ("/admin/items".into(), vec![c(), name("New item"), ("code", "N1".into())]),
        (format!("/admin/items/{item}"), vec![c(), name("Renamed"), ("code", "R1".into())]),
        ("/admin/item_sets".into(), vec![c(), name("New set")]),
        (format!("/admin/item_sets/{set}"), vec![c(), name("Renamed")]),
    ]
}

/// One record of each kind, made through the API: (merchant, store, list, maker, item, set).
async fn records(app: &TestApp, acct: &TestAccount) -> (i64, i64, i64, i64, i64, i64) {
    let m = merchant(app, acct, "Q Burger").await;
    let id = |r: &crate::helpers::TestResponse, key: &str| r.error_free().body[key]["id"].as_i64().unwrap();
    let store = id(
        &app.post(acct, &format!("/v1.0/merchants/{m}/stores"), json!({"store": {"name": "Downtown"}})).await,
        "store",
    );
    let list = id(
        &app.post(acct, &format!("/v1.0/merchants/{m}/store_lists"), json!({"store_list": {"name": "L"}})).await,
        "store_list",
    );
    let maker =
        id(&app.post(acct, "/v1.0/manufacturers", json!({"manufacturer": {"name": "Acme"}})).await, "manufacturer");
    let item = id(&app.post(acct, "/v1.0/items", json!({"item": {"name": "Fries", "code": "F1"}})).await, "item");
    let set = id(&app.post(acct, "/v1.0/item_sets", json!({"item_set": {"name": "Sides"}})).await, "item_set");
    (m, store, list, maker, item, set)
}

/// Names of every catalog record of the account, as the API lists them (what a refused
/// write must leave as it was).
async fn catalog_names(app: &TestApp, acct: &TestAccount, m: i64) -> Vec<String> {
    let mut names = Vec::new();
    for (path, key, one) in [
        (format!("/v1.0/merchants/{m}/stores"), "stores", "store"),
        (format!("/v1.0/merchants/{m}/store_lists"), "store_lists", "store_list"),
        ("/v1.0/manufacturers".to_owned(), "manufacturers", "manufacturer"),
        ("/v1.0/items".to_owned(), "items", "item"),
        ("/v1.0/item_sets".to_owned(), "item_sets", "item_set"),
    ] {
        let body = app.get(acct, &path).await.error_free().body.clone();
        for record in body[key].as_array().unwrap() {
            let record = if record[one].is_object() { &record[one] } else { record };
            names.push(format!("{key}:{}", record["name"].as_str().unwrap()));
        }
    }
    names
}

const LISTS: [&str; 5] =
    ["/admin/stores", "/admin/store_lists", "/admin/manufacturers", "/admin/items", "/admin/item_sets"];

async fn catalog_pages_follow_the_roles_and_need_the_csrf_token(app: TestApp) {
    let acct = app.account().await;
    let (m, store, list, maker, item, set) = records(&app, &acct).await;
    let before = catalog_names(&app, &acct, m).await;
    assert_eq!(before.len(), 5, "{before:?}");
    let mut viewer = Portal::signed_in(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    let store_id = crate::portal::store(&app, &acct, "Counter").await;
    let mut operator = Portal::signed_in(&app, &user(&app, &acct, Role::StoreOperator, &[store_id]).await).await;
    let mut editor = Portal::signed_in(&app, &user(&app, &acct, Role::Editor, &[]).await).await;
    let records = [
        format!("/admin/stores/{store}"),
        format!("/admin/store_lists/{list}"),
        format!("/admin/manufacturers/{maker}"),
        format!("/admin/items/{item}"),
        format!("/admin/item_sets/{set}"),
    ];
    for path in LISTS {
        // A viewer reads the lists and records, without forms; the new forms are refused.
        let page = viewer.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.text.contains("id=\"new-record\""), "{path}: no create link");
        assert_eq!(viewer.get(&format!("{path}/new")).await.status, 403, "{path}/new");
        assert_eq!(operator.get(path).await.status, 403, "a store operator: {path}");
        assert_eq!(operator.get(&format!("{path}/new")).await.status, 403);
        assert_eq!(editor.get(&format!("{path}/new")).await.status, 200, "an editor: {path}/new");
    }
    assert_eq!(viewer.get("/admin/stores/upload").await.status, 403);
    assert_eq!(operator.get("/admin/stores/upload").await.status, 403);
    for path in &records {
        let page = viewer.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.text.contains("id=\"record-form\"") && page.text.contains("<dl class=\"facts\">"), "{path}");
        assert_eq!(operator.get(path).await.status, 403, "{path}");
    }
    // Every POST: a viewer's and a store operator's with their own valid token; anyone's
    // without a token or with another; nothing written.
    let mut owner = owner(&app, &acct).await;
    for (who, portal) in [("viewer", &mut viewer), ("operator", &mut operator)] {
        let csrf = portal.csrf.clone();
        for (path, form) in catalog_posts(&csrf, m, store, list, maker, item, set) {
            assert_eq!(portal.post(&path, &form).await.status, 403, "{who}: {path}");
        }
    }
    for (path, form) in catalog_posts("wrong", m, store, list, maker, item, set) {
        assert_eq!(owner.post(&path, &form).await.status, 403, "wrong token: {path}");
        let without: Vec<_> = form.into_iter().filter(|(k, _)| *k != "csrf").collect();
        assert_eq!(owner.post(&path, &without).await.status, 403, "no token: {path}");
    }
    assert_eq!(catalog_names(&app, &acct, m).await, before, "nothing written");
    // The editor writes each of them.
    let csrf = editor.csrf.clone();
    for (path, form) in catalog_posts(&csrf, m, store, list, maker, item, set) {
        assert_eq!(editor.post(&path, &form).await.status, 303, "editor: {path}");
    }
    assert_eq!(catalog_names(&app, &acct, m).await.len(), 10);
}

async fn another_accounts_catalog_records_are_not_found(app: TestApp) {
    let acct = app.account().await;
    let other = app.account().await;
    let (m, store, list, maker, item, set) = records(&app, &other).await;
    let before = catalog_names(&app, &other, m).await;
    let mut portal = owner(&app, &acct).await;
    let csrf = portal.csrf.clone();
    for (path, form) in catalog_posts(&csrf, m, store, list, maker, item, set) {
        // The creates name another account's merchant: a field error, not a write.
        let answer = portal.post(&path, &form).await;
        if path.matches('/').count() == 3 {
            assert_eq!(answer.status, 404, "{path}");
            assert!(answer.text.contains("main id=\"not-found\""), "{path}");
            assert_eq!(portal.get(&path).await.status, 404, "GET {path}");
        }
    }
    for path in ["/admin/stores/0", "/admin/stores/x", "/admin/items/99999999", "/admin/item_sets/-1"] {
        assert_eq!(portal.get(path).await.status, 404, "{path}");
    }
    let theirs = portal
        .post("/admin/stores", &[("csrf", csrf.as_str()), ("merchant_id", &m.to_string()), ("name", "Mine")])
        .await;
    assert_eq!(theirs.status, 422);
    assert!(theirs.text.contains("does not exist in this account"));
    let maker_of_theirs = portal
        .post(
            "/admin/items",
            &[("csrf", csrf.as_str()), ("name", "I"), ("code", "I1"), ("manufacturer_id", &maker.to_string())],
        )
        .await;
    assert_eq!(maker_of_theirs.status, 422);
    assert_eq!(catalog_names(&app, &other, m).await, before, "the other account is untouched");
    assert_eq!(api_count(&app, &acct, "/v1.0/items").await, 1, "only the account-wide item was made in ours");
}

/// No N+1 queries: each list page runs as many statements for one record as for 50,
/// measured on a separate `kindling serve` process as `statements.rs` does.
async fn catalog_lists_run_a_fixed_number_of_statements(app: TestApp) {
    let acct = app.account().await;
    let mut merchants = Vec::new();
    for i in 0..50 {
        let m = merchant(&app, &acct, &format!("M {i}")).await;
        let maker =
            app.post(&acct, "/v1.0/manufacturers", json!({"manufacturer": {"name": format!("Maker {i}")}})).await;
        let maker = maker.error_free().body["manufacturer"]["id"].as_i64().unwrap();
        let prefix = if i == 0 { "Few" } else { "Many" };
        let store = json!({"store": {"name": format!("{prefix} store {i}")}});
        let store =
            app.post(&acct, &format!("/v1.0/merchants/{m}/stores"), store).await.body["store"]["id"].as_i64().unwrap();
        let list = json!({"store_list": {"name": format!("{prefix} list {i}")}});
        let list = app.post(&acct, &format!("/v1.0/merchants/{m}/store_lists"), list).await.body["store_list"]["id"]
            .as_i64()
            .unwrap();
        app.post(
            &acct,
            &format!("/v1.0/merchants/store_lists/{list}/stores"),
            json!({"store_list": {"store_ids": [store]}}),
        )
        .await
        .error_free();
        let owner = if i % 2 == 0 { format!("/v1.0/merchants/{m}") } else { format!("/v1.0/manufacturers/{maker}") };
        let item = json!({"item": {"name": format!("{prefix} item {i}"), "code": format!("C{i}")}});
        let item =
            app.post(&acct, &format!("{owner}/items"), item).await.error_free().body["item"]["id"].as_i64().unwrap();
        let set = json!({"item_set": {"name": format!("{prefix} set {i}"), "item_ids": [item]}});
        app.post(&acct, &format!("{owner}/item_sets"), set).await.error_free();
        app.post(
            &acct,
            &format!("/v1.0/manufacturers/{maker}/merchants"),
            json!({"manufacturer": {"merchant_ids": [m]}}),
        )
        .await
        .error_free();
        let maker_name = json!({"manufacturer": {"name": format!("{prefix} maker {i}")}});
        app.put(&acct, &format!("/v1.0/manufacturers/{maker}"), maker_name).await.error_free();
        merchants.push(m);
    }
    let crate::portal::Counted { server, mut owner, client, alone } = crate::portal::counted_owner(&app, &acct).await;
    let base = server.base.as_str();
    for list in LISTS {
        let mut counts = Vec::new();
        for (q, size) in [("few", 1), ("many", 49)] {
            let path = format!("{list}?q={q}");
            let portal = &mut owner;
            let statements = crate::statements::fewest(&client, base, async || {
                let page = portal.get(&path).await;
                assert_eq!(page.text.matches("<tr data-id=").count(), size, "{path}: {}", page.text);
            })
            .await;
            counts.push(statements - alone);
        }
        assert_eq!(counts[0], counts[1], "{list}: statements for one row, then 49");
    }
}

/// The portal's pickers list names by their bytes on both stores ("B2" and "C" before "a"),
/// not by PostgreSQL's collation (the test cluster's is ICU's root locale, where "a" comes
/// first), so a form offers the same order whichever store runs it.
async fn choices_sort_names_by_bytes_on_both_stores(app: TestApp) {
    use kindling_domain::{AccountId, MerchantId};
    use kindling_store::portal::{catalog, choices, codes};
    let acct = app.account().await;
    let account = AccountId(acct.id);
    let names = ["b", "B2", "a", "C"];
    let mut first = 0;
    for name in names {
        let m = merchant(&app, &acct, name).await;
        first = if first == 0 { m } else { first };
        let body = json!({"store": {"name": name}});
        app.post(&acct, &format!("/v1.0/merchants/{first}/stores"), body).await.error_free();
    }
    let bytewise = ["B2", "C", "a", "b"];
    let merchants: Vec<String> =
        choices::merchants(&app.db, account).await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(merchants, bytewise);
    let stores: Vec<String> =
        catalog::stores_of(&app.db, account, MerchantId(first)).await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(stores, bytewise);
    let options: Vec<String> =
        codes::stores(&app.db, account, None).await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(options, bytewise);
}
