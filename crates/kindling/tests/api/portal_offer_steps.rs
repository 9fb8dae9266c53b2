//! The offer form's later steps over real HTTP (docs/PORTAL.md): the landing-page formatting
//! with its Preview (nothing written), the formatting seen through the API and on the real
//! landing page, and the offer's member lists, store lists and eligible merchants saved
//! from its page, checked through the API; other accounts' ids, roles and CSRF.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use crate::portal::{escaped, user, Portal};
use kindling_domain::portal::Role;
use serde_json::{json, Value};

backend_tests!(
    preview_shows_the_unsaved_values_and_writes_nothing,
    formatting_is_saved_and_shown_on_the_landing_page,
    lists_and_merchants_are_set_from_the_offer_page,
    the_steps_follow_the_roles_and_need_the_csrf_token,
    amount_limits_are_set_refused_and_cleared,
);

async fn api_offer(app: &TestApp, acct: &TestAccount, id: i64) -> Value {
    app.get(acct, &format!("/v1.0/offers/{id}")).await.error_free().body["offer"].clone()
}

/// The edit form's fields with the landing-page options set.
fn form(csrf: &str, name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("name", name.to_owned()),
        ("description", "With any <burger>.".into()),
        ("offer_type", "0".into()),
        ("terms_and_conditions", "One per visit.".into()),
        ("short_name", "Fries!".into()),
        ("bg_color", "#FF00AA".into()),
        ("bg_image", "https://cdn.example.com/banner.png".into()),
        ("web_url", "https://cdn.example.com/fries.png".into()),
        ("mobile_url", "".into()),
        ("instructions", "Show the code at the counter.".into()),
        ("extra_content", "".into()),
        ("custom_credential_content", "Valid today.".into()),
        ("in_store_only", "true".into()),
    ]
}

/// The preview's landing page: the iframe's `srcdoc`, unescaped once (it is an attribute).
fn preview_of(page: &str) -> String {
    let at = page.find(r#"srcdoc=""#).unwrap_or_else(|| panic!("no preview: {page}"));
    let rest = &page[at + r#"srcdoc=""#.len()..];
    let attribute = &rest[..rest.find('"').unwrap()];
    attribute
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn preview_shows_the_unsaved_values_and_writes_nothing(app: TestApp) {
    let acct = app.account().await;
    let merchant = crate::merchants::merchant(&app, &acct, "Q Burger").await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Free Fries", "offer_type": 0})).await;
    let before = api_offer(&app, &acct, offer).await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let edit = owner.get(&format!("/admin/offers/{offer}/edit")).await;
    assert!(edit.text.contains(r#"id="preview-offer""#) && !edit.text.contains(r#"id="preview-frame""#));
    assert!(!edit.text.contains(r#"id="error""#), "no refusal on a fresh form");

    // Preview of an edit: 200, the form with the values kept and the landing page they make.
    let mut values = form(&owner.csrf, "<b>Bigger</b> Fries");
    values.push(("merchant_id", merchant.to_string()));
    values.push(("preview", "1".into()));
    let path = format!("/admin/offers/{offer}");
    let shown = owner.post(&path, &values).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(shown.text.contains(&escaped("<b>Bigger</b> Fries")), "the value kept");
    assert!(!shown.text.contains(r#"id="error""#), "a preview is no refusal");
    assert!(!shown.text.contains("<b>Bigger"), "user text escaped");
    let landing = preview_of(&shown.text);
    // The landing page's own template, its user text escaped there too.
    assert!(landing.contains(&format!(r#"<h1 id="offer-name">{}</h1>"#, escaped("<b>Bigger</b> Fries"))), "{landing}");
    assert!(landing.contains("<title>Fries!</title>"), "{landing}");
    assert!(landing.contains(r#"<p class="merchant" id="merchant-name">Q Burger</p>"#), "{landing}");
    assert!(landing.contains(&escaped("With any <burger>.")) && !landing.contains("<burger>"));
    assert!(landing.contains("background-color: #FF00AA"), "{landing}");
    assert!(landing.contains(&format!(r#"id="offer-image" src="{}""#, escaped("https://cdn.example.com/fries.png"))));
    assert!(landing.contains(r#"id="in-store-only""#) && landing.contains("Show the code at the counter."));
    assert!(landing.contains("One per visit.") && landing.contains(r#"id="code-value">PREVIEW<"#));
    assert!(landing.contains("Valid today.") && landing.contains(r#"class="landing printable""#));
    assert!(!landing.contains(r#"id="extra-content""#), "blank options not shown");

    // Mobile only: the mobile view, with its image.
    let mut mobile = values.clone();
    mobile.push(("no_printable", "true".into()));
    mobile = mobile
        .into_iter()
        .map(|(f, v)| (f, if f == "mobile_url" { "https://cdn.example.com/m.png".into() } else { v }))
        .collect();
    let landing = preview_of(&owner.post(&path, &mobile).await.text);
    assert!(landing.contains(r#"class="landing mobile""#) && landing.contains("m.png"), "{landing}");

    // Preview of a new offer: nothing created either.
    let mut new = form(&owner.csrf, "Brand new");
    new.push(("preview", "1".into()));
    let shown = owner.post("/admin/offers", &new).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(preview_of(&shown.text).contains(r#"<h1 id="offer-name">Brand new</h1>"#));
    assert_eq!(api_offer(&app, &acct, offer).await, before, "nothing written");
    let count = app.get(&acct, "/v1.0/offers").await.error_free().body["total_entries"].clone();
    assert_eq!(count, 1, "no offer created");

    // Another account's offer: a 404, as a save.
    let stranger = app.account().await;
    let theirs = crate::offers::offer(&app, &stranger, json!({"name": "Theirs"})).await;
    assert_eq!(owner.post(&format!("/admin/offers/{theirs}"), &values).await.status, 404);
}

async fn formatting_is_saved_and_shown_on_the_landing_page(app: TestApp) {
    let acct = app.account().await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Free Fries", "offer_type": 0})).await;
    // An option the form does not show is kept by the API's merge.
    let kept = json!({"offer": {"formatting": {"text_message": "Hi", "extra_content": "old"}}});
    app.put(&acct, &format!("/v1.0/offers/{offer}"), kept).await.error_free();
    let channel = crate::offers::channel(&app, &acct, "Web").await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Editor, &[]).await).await;
    let path = format!("/admin/offers/{offer}");

    // A bad option: the API's error next to its field, nothing written.
    let bad: Vec<_> = form(&owner.csrf, "Free Fries")
        .into_iter()
        .map(|(f, v)| (f, if f == "bg_image" { "http://cdn.example.com/x.png".into() } else { v }))
        .collect();
    let refused = owner.post(&path, &bad).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains(r#"id="bg_image-error""#), "{}", refused.text);
    assert!(refused.text.contains(&escaped("must be an https URL")));
    assert_eq!(
        api_offer(&app, &acct, offer).await["formatting"],
        json!({"text_message": "Hi", "extra_content": "old"})
    );

    let saved = owner.post(&path, &form(&owner.csrf, "Free Fries")).await;
    assert_eq!(saved.location(), format!("{path}?done=saved"));
    let stored = api_offer(&app, &acct, offer).await;
    assert_eq!(stored["terms_and_conditions"], "One per visit.");
    assert_eq!(
        stored["formatting"],
        json!({
            "text_message": "Hi",
            "short_name": "Fries!",
            "bg_color": "#FF00AA",
            "bg_image": "https://cdn.example.com/banner.png",
            "web_url": "https://cdn.example.com/fries.png",
            "instructions": "Show the code at the counter.",
            "custom_credential_content": "Valid today.",
            "in_store_only": true,
        }),
        "blank options and unticked switches removed, others kept"
    );
    // The edit form shows them again.
    let edit = owner.get(&format!("{path}/edit")).await;
    assert!(
        edit.text.contains(r#"value="Fries!""#)
            && edit.text.contains(r#"id="in_store_only" name="in_store_only" value="true" checked"#)
    );

    // Published and approved: the real landing page shows the saved formatting.
    let tick = [("csrf", owner.csrf.clone()), ("channel_id", channel.to_string())];
    owner.post(&format!("{path}/channels"), &tick).await.location();
    let approve = [("csrf", owner.csrf.clone()), ("action", "approve".to_owned())];
    owner.post(&format!("{path}/status"), &approve).await.location();
    let xid = api_offer(&app, &acct, offer).await["channels"][0]["channel"]["xid"].as_str().unwrap().to_owned();
    let page = app.client.get(format!("{}/{xid}", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("<title>Fries!</title>") && page.contains("background-color: #FF00AA"), "{page}");
    assert!(page.contains(r#"id="in-store-only""#) && page.contains("One per visit.") && page.contains("Valid today."));
    assert!(!page.contains(r#"id="extra-content""#), "removed");
}

async fn lists_and_merchants_are_set_from_the_offer_page(app: TestApp) {
    let acct = app.account().await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Free Fries"})).await;
    let m1 = crate::merchants::merchant(&app, &acct, "Q <Burger>").await;
    let m2 = crate::merchants::merchant(&app, &acct, "Taco Town").await;
    let body = |k: &str, name: &str| json!({ k: {"name": name} });
    let vip = app.post(&acct, "/v1.0/member_lists", body("member_list", "VIP")).await.body["member_list"]["id"]
        .as_i64()
        .unwrap();
    let fans = app.post(&acct, "/v1.0/member_lists", body("member_list", "Fans")).await.body["member_list"]["id"]
        .as_i64()
        .unwrap();
    let sl = app.post(&acct, &format!("/v1.0/merchants/{m1}/store_lists"), body("store_list", "Colorado")).await.body
        ["store_list"]["id"]
        .as_i64()
        .unwrap();
    let stranger = app.account().await;
    let their_list = app.post(&stranger, "/v1.0/member_lists", body("member_list", "Theirs")).await.body["member_list"]
        ["id"]
        .as_i64()
        .unwrap();
    let their_merchant = crate::merchants::merchant(&app, &stranger, "Their merchant").await;
    let their_offer = crate::offers::offer(&app, &stranger, json!({"name": "Their offer"})).await;

    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let csrf = owner.csrf.clone();
    let path = format!("/admin/offers/{offer}");
    let page = owner.get(&path).await;
    for (field, id) in [("member_list_id", vip), ("member_list_id", fans), ("store_list_id", sl), ("merchant_id", m2)] {
        assert!(page.text.contains(&format!(r#"name="{field}" value="{id}""#)), "{field} {id}: {}", page.text);
    }
    assert!(page.text.contains(&escaped("Q <Burger>")) && !page.text.contains("Theirs"));

    let post = |what: &str, field: &'static str, ids: &[i64]| {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(ids.iter().map(|id| (field, id.to_string())));
        (format!("{path}/{what}"), form)
    };
    let (to, form) = post("member_lists", "member_list_id", &[vip, fans]);
    assert_eq!(owner.post(&to, &form).await.location(), format!("{path}?done=member_lists"));
    let (to, form) = post("store_lists", "store_list_id", &[sl]);
    assert_eq!(owner.post(&to, &form).await.location(), format!("{path}?done=store_lists"));
    let (to, form) = post("merchants", "merchant_id", &[m1, m2]);
    assert_eq!(owner.post(&to, &form).await.location(), format!("{path}?done=merchants"));
    let stored = api_offer(&app, &acct, offer).await;
    assert_eq!(stored["eligibility"]["member_list_ids"], json!([vip, fans]));
    assert_eq!(stored["eligibility"]["store_list_ids"], json!([sl]));
    assert_eq!(stored["eligibility"]["merchant_ids"], json!([m1, m2]));
    let page = owner.get(&format!("{path}?done=merchants")).await;
    assert!(page.text.contains(&format!(r#"id="member-lists-{vip}" name="member_list_id" value="{vip}" checked"#)));

    // Another account's id (or not a number) refuses the whole form: 422, nothing changed.
    for (what, field, good, bad) in [
        ("member_lists", "member_list_id", fans, their_list.to_string()),
        ("merchants", "merchant_id", m1, their_merchant.to_string()),
        ("store_lists", "store_list_id", sl, "x".to_owned()),
    ] {
        let form = [("csrf", csrf.clone()), (field, good.to_string()), (field, bad.clone())];
        let refused = owner.post(&format!("{path}/{what}"), &form).await;
        assert_eq!(refused.status, 422, "{what} {bad}: {}", refused.text);
        assert!(refused.text.contains("were not saved"), "{}", refused.text);
    }
    assert_eq!(api_offer(&app, &acct, offer).await, stored, "unchanged");
    // Unticking all empties a set.
    let (to, form) = post("member_lists", "member_list_id", &[]);
    owner.post(&to, &form).await.location();
    assert_eq!(api_offer(&app, &acct, offer).await["eligibility"]["member_list_ids"], json!([]));
    // Another account's offer: 404, theirs unchanged.
    let form = [("csrf", csrf.clone()), ("member_list_id", their_list.to_string())];
    assert_eq!(owner.post(&format!("/admin/offers/{their_offer}/member_lists"), &form).await.status, 404);
    assert_eq!(api_offer(&app, &stranger, their_offer).await["eligibility"]["member_list_ids"], json!([]));
}

async fn the_steps_follow_the_roles_and_need_the_csrf_token(app: TestApp) {
    let acct = app.account().await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Free Fries"})).await;
    let merchant = crate::merchants::merchant(&app, &acct, "Q Burger").await;
    let list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "VIP"}})).await.body["member_list"]
        ["id"]
        .as_i64()
        .unwrap();
    let store = crate::portal::store(&app, &acct, "Downtown").await;
    let path = format!("/admin/offers/{offer}");
    let writes = |csrf: &str| {
        let csrf = csrf.to_owned();
        vec![
            (format!("{path}/member_lists"), vec![("csrf", csrf.clone()), ("member_list_id", list.to_string())]),
            (format!("{path}/merchants"), vec![("csrf", csrf.clone()), ("merchant_id", merchant.to_string())]),
            (format!("{path}/store_lists"), vec![("csrf", csrf.clone())]),
            (path.clone(), {
                let mut f = form(&csrf, "Renamed");
                f.push(("preview", "1".into()));
                f
            }),
            (path.clone(), form(&csrf, "Renamed")),
        ]
    };
    let before = api_offer(&app, &acct, offer).await;

    let mut viewer = Portal::signed_in(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    let seen = viewer.get(&path).await;
    assert!(seen.status == 200 && seen.text.contains("Member lists") && !seen.text.contains("member-lists-form"));
    let csrf = viewer.csrf.clone();
    for (to, form) in writes(&csrf) {
        assert_eq!(viewer.post(&to, &form).await.status, 403, "viewer {to}");
    }
    let mut operator = Portal::new(&app);
    let email = user(&app, &acct, Role::StoreOperator, &[store]).await;
    operator.sign_in(&email, crate::portal::PASSWORD).await.location();
    operator.csrf = operator.get("/admin/codes").await.csrf();
    let csrf = operator.csrf.clone();
    for (to, form) in writes(&csrf) {
        assert_eq!(operator.post(&to, &form).await.status, 403, "store operator {to}");
    }
    // An owner without the token, or with a wrong one: refused.
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    for token in ["", "wrong"] {
        for (to, form) in writes(token) {
            let form: Vec<_> = form.into_iter().filter(|(f, _)| *f != "csrf" || !token.is_empty()).collect();
            let refused = owner.post(&to, &form).await;
            assert_eq!(refused.status, 403, "csrf {token:?} {to}");
        }
    }
    assert_eq!(api_offer(&app, &acct, offer).await, before, "nothing written");
    // The owner's token works.
    let csrf = owner.csrf.clone();
    for (to, form) in writes(&csrf) {
        let status = owner.post(&to, &form).await.status;
        assert!(status == 303 || status == 200, "owner {to}: {status}");
    }
    assert_eq!(api_offer(&app, &acct, offer).await["eligibility"]["member_list_ids"], json!([list]));
}

async fn amount_limits_are_set_refused_and_cleared(app: TestApp) {
    let acct = app.account().await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Free Fries", "offer_type": 0})).await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let path = format!("/admin/offers/{offer}");
    let csrf = owner.csrf.clone();
    let amounts = |max: &str, min: &str, trigger: &str| {
        let mut f = form(&csrf, "Free Fries");
        f.extend([("max_amount", max.to_owned()), ("min_spend_amount", min.to_owned())]);
        f.push(("trigger_amount", trigger.to_owned()));
        f
    };
    let refused = owner.post(&path, &amounts("500", "-1", "x")).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.text.contains(r#"id="min_spend_amount-error""#)
            && refused.text.contains(r#"id="trigger_amount-error""#)
    );
    assert!(refused.text.contains(r#"id="max_amount" name="max_amount" value="500""#), "values kept");
    assert_eq!(api_offer(&app, &acct, offer).await["max_amount"], Value::Null, "nothing written");

    owner.post(&path, &amounts("500", "1000", "1200")).await.location();
    let stored = api_offer(&app, &acct, offer).await;
    assert_eq!((&stored["max_amount"], &stored["min_spend_amount"]), (&json!(500), &json!(1000)));
    assert_eq!(stored["trigger_amount"], 1200);
    let edit = owner.get(&format!("{path}/edit")).await;
    assert!(edit.text.contains(r#"id="trigger_amount" name="trigger_amount" value="1200""#));
    owner.post(&path, &amounts("", "", "")).await.location();
    let stored = api_offer(&app, &acct, offer).await;
    assert_eq!([&stored["max_amount"], &stored["min_spend_amount"], &stored["trigger_amount"]], [&Value::Null; 3]);
}
