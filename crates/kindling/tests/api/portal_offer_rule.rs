//! The offer form's point-of-sale rule over real HTTP (docs/PORTAL.md, "The POS rule"): the
//! offer type, its criteria and the item sets set and edited through the form and read back
//! through `GET /v1.0/offers/{id}`; bad values, an unknown type and another account's item
//! set refused next to their fields with nothing written; criteria keys the form does not
//! show kept; roles and CSRF; a rule set in the portal pricing a basket at the register as
//! the same rule set through the API does; and the item set choices read in one statement.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use crate::portal::{created_id, escaped, user, Portal};
use kindling_domain::portal::Role;
use serde_json::{json, Value};

backend_tests!(
    a_rule_is_set_and_edited_through_the_form,
    bad_rules_are_refused_next_to_their_fields,
    criteria_the_form_does_not_show_are_kept,
    the_rule_form_follows_the_roles_and_needs_the_csrf_token,
    a_portal_rule_prices_a_basket_as_the_api_rule_does,
    the_rule_step_runs_a_fixed_number_of_statements,
);

async fn api_offer(app: &TestApp, acct: &TestAccount, id: i64) -> Value {
    app.get(acct, &format!("/v1.0/offers/{id}")).await.error_free().body["offer"].clone()
}

async fn offer_count(app: &TestApp, acct: &TestAccount) -> i64 {
    app.get(acct, "/v1.0/offers").await.error_free().body["total_entries"].as_i64().unwrap()
}

async fn item_set(app: &TestApp, acct: &TestAccount, name: &str) -> i64 {
    let created = app.post(acct, "/v1.0/item_sets", json!({"item_set": {"name": name}})).await;
    created.error_free();
    created.body["item_set"]["id"].as_i64().unwrap()
}

/// The form with a rule: 12.5% off two of the most expensive rewarded items, any number of
/// times, for each required item.
fn rule_form(csrf: &str, required: i64, rewarded: i64) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("name", "Fries deal".into()),
        ("pos_offer_code", "FRIES12".into()),
        ("offer_type", "2".into()),
        ("criteria_percent", "12.5".into()),
        ("criteria_amount_off", "".into()),
        ("criteria_price", "".into()),
        ("criteria_count", "2".into()),
        ("criteria_select", "most_expensive".into()),
        ("criteria_repeat", "unlimited".into()),
        ("criteria_priority", "".into()),
        ("criteria_exclusive", "true".into()),
        ("required_item_set_id", required.to_string()),
        ("required_item_count", "1".into()),
        ("redemption_item_set_id", rewarded.to_string()),
        ("redemption_item_count", "2".into()),
    ]
}

/// Form fields to change (or add), and their values.
type Changes<'a> = &'a [(&'static str, &'a str)];

fn with(form: &[(&'static str, String)], changes: Changes<'_>) -> Vec<(&'static str, String)> {
    let mut form: Vec<_> = form.to_vec();
    for (field, value) in changes {
        match form.iter_mut().find(|(f, _)| f == field) {
            Some(slot) => slot.1 = (*value).to_owned(),
            None => form.push((field, (*value).to_owned())),
        }
    }
    form
}

async fn a_rule_is_set_and_edited_through_the_form(app: TestApp) {
    let acct = app.account().await;
    let burgers = item_set(&app, &acct, "Burgers <all>").await;
    let fries = item_set(&app, &acct, "Fries").await;
    let stranger = app.account().await;
    item_set(&app, &stranger, "Their set").await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;

    let new = owner.get("/admin/offers/new").await;
    assert_eq!(new.status, 200);
    assert!(new.text.contains(r#"id="rule-heading""#) && new.text.contains(r#"id="criteria_percent""#));
    assert!(new.text.contains(&format!(r#"<option value="{fries}">Fries</option>"#)), "{}", new.text);
    assert!(new.text.contains(&escaped("Burgers <all>")) && !new.text.contains("Their set"), "only the account's");
    assert!(new.text.contains("A percentage off each rewarded item"), "the types explained");

    let created = owner.post("/admin/offers", &rule_form(&owner.csrf, burgers, fries)).await;
    let id = created_id(&created);
    let stored = api_offer(&app, &acct, id).await;
    assert_eq!(stored["offer_type"], 2);
    assert_eq!(
        stored["criteria"],
        json!({"percent": 12.5, "count": 2, "select": "most_expensive", "repeat": "unlimited", "exclusive": true})
    );
    assert_eq!((&stored["required_item_set_id"], &stored["required_item_count"]), (&json!(burgers), &json!(1)));
    assert_eq!((&stored["redemption_item_set_id"], &stored["redemption_item_count"]), (&json!(fries), &json!(2)));

    // The offer's page says it in words, with links to the item sets.
    let page = owner.get(&format!("/admin/offers/{id}")).await;
    assert!(page.text.contains(r#"id="pos-rule""#), "{}", page.text);
    for words in ["item percent off", "12.5% off", "2 rewarded per use", "Rewards the most expensive items first"] {
        assert!(page.text.contains(words), "{words}: {}", page.text);
    }
    assert!(page
        .text
        .contains(&format!(r#"1 of <a href="/admin/item_sets/{burgers}">{}</a>"#, escaped("Burgers <all>"))));
    assert!(page.text.contains(&format!(r#"2 of <a href="/admin/item_sets/{fries}">Fries</a>"#)));

    // The edit form shows the rule; a new type drops the keys it does not read.
    let edit = owner.get(&format!("/admin/offers/{id}/edit")).await;
    assert!(edit.text.contains(r#"id="criteria_percent" name="criteria_percent" value="12.5""#), "{}", edit.text);
    assert!(edit.text.contains(&format!(r#"<option value="{fries}" selected>Fries</option>"#)));
    assert!(edit.text.contains(r#"<option value="most_expensive" selected>"#));
    let basket = with(
        &rule_form(&owner.csrf, burgers, fries),
        &[
            ("offer_type", "4"),
            ("criteria_amount_off", "300"),
            ("criteria_priority", "5"),
            ("criteria_exclusive", ""),
            ("required_item_set_id", ""),
            ("required_item_count", ""),
        ],
    );
    let saved = owner.post(&format!("/admin/offers/{id}"), &basket).await;
    assert_eq!(saved.location(), format!("/admin/offers/{id}?done=saved"));
    let stored = api_offer(&app, &acct, id).await;
    assert_eq!(stored["offer_type"], 4);
    assert_eq!(stored["criteria"], json!({"amount_off": 300, "repeat": "unlimited", "priority": 5}));
    assert_eq!((&stored["required_item_set_id"], &stored["required_item_count"]), (&Value::Null, &Value::Null));
    assert_eq!(stored["redemption_item_set_id"], fries);
    let page = owner.get(&format!("/admin/offers/{id}")).await;
    assert!(page.text.contains("3.00 off") && page.text.contains("Priority 5"), "{}", page.text);

    // Stored value: the balance and its switch go with type 6.
    let stored_value =
        with(&basket, &[("offer_type", "6"), ("initial_remaining_value", "2500"), ("redeem_until_depleted", "true")]);
    owner.post(&format!("/admin/offers/{id}"), &stored_value).await.location();
    let stored = api_offer(&app, &acct, id).await;
    assert_eq!((&stored["offer_type"], &stored["initial_remaining_value"]), (&json!(6), &json!(2500)));
    assert_eq!(stored["redeem_until_depleted"], true);
    assert_eq!(stored["criteria"], json!({"repeat": "unlimited", "priority": 5}));
    assert!(owner.get(&format!("/admin/offers/{id}")).await.text.contains("25.00, redeemed until used up"));
}

async fn bad_rules_are_refused_next_to_their_fields(app: TestApp) {
    let acct = app.account().await;
    let burgers = item_set(&app, &acct, "Burgers").await;
    let fries = item_set(&app, &acct, "Fries").await;
    let stranger = app.account().await;
    let theirs = item_set(&app, &stranger, "Their set").await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Editor, &[]).await).await;
    let good = rule_form(&owner.csrf, burgers, fries);
    let theirs = theirs.to_string();

    let refusals: [(Changes<'_>, &str, &str); 8] = [
        (&[("criteria_percent", "150")], "criteria_percent", "Percent off must be a number from 0 to 100"),
        (&[("criteria_percent", "")], "criteria_percent", "a percentage from 0 to 100 is required"),
        (&[("offer_type", "3"), ("criteria_price", "cheap")], "criteria_price", "Fixed price must be a whole number"),
        (&[("criteria_count", "0")], "criteria_count", "must be a positive integer"),
        (&[("criteria_repeat", "often")], "criteria_repeat", "a positive integer or &quot;unlimited&quot;"),
        (&[("offer_type", "99")], "offer_type", "Offer type 99 is not supported"),
        (&[("required_item_set_id", &theirs)], "required_item_set_id", "Required items does not exist"),
        (&[("redemption_item_count", "-2")], "redemption_item_count", "must be between 0 and"),
    ];
    for (changes, field, shown) in refusals {
        let refused = owner.post("/admin/offers", &with(&good, changes)).await;
        assert_eq!(refused.status, 422, "{changes:?}: {}", refused.text);
        assert!(
            refused.text.contains(&format!(r#"id="{field}-error""#)),
            "{changes:?} next to {field}: {}",
            refused.text
        );
        assert!(refused.text.contains(shown), "{changes:?}: {shown} in {}", refused.text);
        let (last, kept) = changes[changes.len() - 1];
        if last != "offer_type" {
            assert!(refused.text.contains(&format!(r#"value="{kept}""#)), "{changes:?}: values kept");
        }
        assert!(refused.text.contains(r#"value="FRIES12""#), "other values kept");
    }
    assert_eq!(offer_count(&app, &acct).await, 0, "nothing written");

    // The same on an edit: the offer is unchanged.
    let id = crate::offers::offer(&app, &acct, json!({"name": "Fries deal", "offer_type": 0})).await;
    let before = api_offer(&app, &acct, id).await;
    for changes in [&[("criteria_percent", "101")][..], &[("redemption_item_set_id", &theirs)], &[("offer_type", "x")]]
    {
        let refused = owner.post(&format!("/admin/offers/{id}"), &with(&good, changes)).await;
        assert_eq!(refused.status, 422, "{changes:?}: {}", refused.text);
    }
    assert_eq!(api_offer(&app, &acct, id).await, before, "nothing written");
}

async fn criteria_the_form_does_not_show_are_kept(app: TestApp) {
    let acct = app.account().await;
    let criteria = json!({
        "percent": 10, "visits": 10, "group": "lunch", "group_mode": "best_deal", "item_codes": ["X1"], "level": "item",
    });
    let body = json!({"name": "Lunch deal", "offer_type": 2, "criteria": criteria});
    let id = crate::offers::offer(&app, &acct, body).await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let page = owner.get(&format!("/admin/offers/{id}")).await;
    assert!(page.text.contains("10% off") && page.text.contains("visits: 10") && page.text.contains("group: lunch"));

    let edit = owner.get(&format!("/admin/offers/{id}/edit")).await;
    assert!(edit.text.contains(r#"id="criteria_percent" name="criteria_percent" value="10""#), "{}", edit.text);
    let form = [
        ("csrf", owner.csrf.clone()),
        ("name", "Lunch deal".to_owned()),
        ("offer_type", "2".to_owned()),
        ("criteria_percent", "20".to_owned()),
    ];
    owner.post(&format!("/admin/offers/{id}"), &form).await.location();
    let expected = json!({
        "percent": 20, "visits": 10, "group": "lunch", "group_mode": "best_deal", "item_codes": ["X1"], "level": "item",
    });
    assert_eq!(api_offer(&app, &acct, id).await["criteria"], expected);
    // A refused edit of another key leaves them too.
    let bad = [
        ("csrf", owner.csrf.clone()),
        ("name", "Lunch deal".to_owned()),
        ("offer_type", "2".to_owned()),
        ("criteria_percent", "x".to_owned()),
    ];
    assert_eq!(owner.post(&format!("/admin/offers/{id}"), &bad).await.status, 422);
    assert_eq!(api_offer(&app, &acct, id).await["criteria"], expected);
    // A bad value of a key the form does not show: refused with the API's words at the top.
    let odd = json!({"offer": {"criteria": {"percent": 20, "group": ""}}});
    app.put(&acct, &format!("/v1.0/offers/{id}"), odd).await.error(422);
}

async fn the_rule_form_follows_the_roles_and_needs_the_csrf_token(app: TestApp) {
    let acct = app.account().await;
    let burgers = item_set(&app, &acct, "Burgers").await;
    let fries = item_set(&app, &acct, "Fries").await;
    let id = crate::offers::offer(&app, &acct, json!({"name": "Fries deal", "offer_type": 0})).await;
    let before = api_offer(&app, &acct, id).await;
    let store = crate::portal::store(&app, &acct, "Downtown").await;
    let posts = |csrf: &str| {
        let form = rule_form(csrf, burgers, fries);
        [("/admin/offers".to_owned(), form.clone()), (format!("/admin/offers/{id}"), form)]
    };

    let mut viewer = Portal::signed_in(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    let page = viewer.get(&format!("/admin/offers/{id}")).await;
    assert!(page.text.contains(r#"id="pos-rule""#) && !page.text.contains("Change the rule"), "read-only");
    assert_eq!(viewer.get(&format!("/admin/offers/{id}/edit")).await.status, 403);
    let csrf = viewer.csrf.clone();
    for (to, form) in posts(&csrf) {
        assert_eq!(viewer.post(&to, &form).await.status, 403, "viewer {to}");
    }
    let mut operator = Portal::new(&app);
    operator.sign_in(&user(&app, &acct, Role::StoreOperator, &[store]).await, crate::portal::PASSWORD).await.location();
    operator.csrf = operator.get("/admin/codes").await.csrf();
    let csrf = operator.csrf.clone();
    for (to, form) in posts(&csrf) {
        assert_eq!(operator.post(&to, &form).await.status, 403, "store operator {to}");
    }
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    for token in ["", "wrong"] {
        for (to, form) in posts(token) {
            let form: Vec<_> = form.into_iter().filter(|(f, _)| *f != "csrf" || !token.is_empty()).collect();
            assert_eq!(owner.post(&to, &form).await.status, 403, "csrf {token:?} {to}");
        }
    }
    assert_eq!(api_offer(&app, &acct, id).await, before, "nothing written");
    assert_eq!(offer_count(&app, &acct).await, 1, "nothing created");
    // Another account's offer: 404, with the rule as with anything else.
    let stranger = app.account().await;
    let theirs = crate::offers::offer(&app, &stranger, json!({"name": "Theirs"})).await;
    let csrf = owner.csrf.clone();
    assert_eq!(owner.post(&format!("/admin/offers/{theirs}"), &posts(&csrf)[1].1).await.status, 404);
    assert_eq!(api_offer(&app, &stranger, theirs).await["criteria"], json!({}));
}

/// The register prices a basket with a rule set in the portal exactly as with the same rule
/// set through the API: 50% off one order of fries with a burger.
async fn a_portal_rule_prices_a_basket_as_the_api_rule_does(app: TestApp) {
    use crate::pos::{code, item, meal, shop, show};
    let acct = app.account().await;
    // The rule through the API: 50% off one order of fries with a burger.
    let api_rule = json!({"offer_type": 2, "criteria": {"percent": 50}});
    let api_shop = shop(&app, &acct, api_rule).await;
    let through_api = api_offer(&app, &acct, api_shop.offer).await;
    let (burgers, fries) = (&through_api["required_item_set_id"], &through_api["redemption_item_set_id"]);
    // An approved offer on a channel with no rule yet, given the same rule in the portal.
    let unset = json!({"required_item_set_id": null, "redemption_item_set_id": null});
    let portal_shop = shop(&app, &acct, unset).await;
    let mut owner = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await;
    let form = [
        ("csrf", owner.csrf.clone()),
        ("name", "Half-price fries".to_owned()),
        ("pos_offer_code", "FREEFRIES".to_owned()),
        ("offer_type", "2".to_owned()),
        ("criteria_percent", "50".to_owned()),
        ("required_item_set_id", burgers.to_string()),
        ("required_item_count", "1".to_owned()),
        ("redemption_item_set_id", fries.to_string()),
        ("redemption_item_count", "1".to_owned()),
    ];
    owner.post(&format!("/admin/offers/{}", portal_shop.offer), &form).await.location();

    let through_portal = api_offer(&app, &acct, portal_shop.offer).await;
    for field in [
        "offer_type",
        "criteria",
        "required_item_set_id",
        "required_item_count",
        "redemption_item_set_id",
        "redemption_item_count",
        "status",
    ] {
        assert_eq!(through_portal[field], through_api[field], "{field}");
    }
    let basket = meal();
    let mut answers = Vec::new();
    for (s, tran) in [(&portal_shop, "portal"), (&api_shop, "api")] {
        let (_, code) = code(&app, &acct, s, s.member).await;
        let shown = show(&app, &acct, s, &code, tran, basket.clone()).await;
        let added = shown.body["transaction"]["add_offers"].clone();
        assert_eq!(added.as_array().map(Vec::len), Some(1), "{}", shown.text);
        answers.push((added[0]["ammount"].clone(), shown.body["evaluation"]["discount"].clone()));
    }
    assert_eq!(answers[0], answers[1], "the same price both ways");
    assert_eq!(answers[0].1, 175, "half of one order of fries (349), rounded once");
    // Without a burger the portal's rule does not apply, as the API's does not.
    let no_burger = json!({"items": [item("1", "FRIES", 1, 349)]});
    let (_, code) = code(&app, &acct, &portal_shop, portal_shop.member).await;
    let shown = show(&app, &acct, &portal_shop, &code, "no-burger", no_burger).await;
    assert_eq!(shown.body["transaction"]["errors"][0]["code"], "required_items_missing", "{}", shown.text);
}

/// The forms' item set selects and the offer page's summary read the same number of
/// statements for 2 item sets as for 50 (no statement per set).
async fn the_rule_step_runs_a_fixed_number_of_statements(app: TestApp) {
    let acct = app.account().await;
    let (first, second) = (item_set(&app, &acct, "Set 0").await, item_set(&app, &acct, "Set 1").await);
    let body = json!({"name": "Deal", "required_item_set_id": first, "redemption_item_set_id": second});
    let offer = crate::offers::offer(&app, &acct, body).await;
    let crate::portal::Counted { server, mut owner, client, alone } = crate::portal::counted_owner(&app, &acct).await;
    let base = server.base.as_str();
    let pages =
        ["/admin/offers/new".to_owned(), format!("/admin/offers/{offer}/edit"), format!("/admin/offers/{offer}")];
    let mut counts = Vec::new();
    for sets in [2, 50] {
        // The sets beyond the first two, before the second round.
        for i in 2..sets {
            item_set(&app, &acct, &format!("Set {i}")).await;
        }
        for path in &pages {
            let portal = &mut owner;
            let statements = crate::statements::fewest(&client, base, async || {
                let page = portal.get(path).await;
                assert_eq!(page.status, 200, "{path}");
                if path.ends_with("new") || path.ends_with("edit") {
                    assert_eq!(page.text.matches(">Set ").count(), 2 * sets, "{path}: both selects list every set");
                }
            })
            .await;
            counts.push(statements - alone);
        }
    }
    assert_eq!(counts[..3], counts[3..], "statements per page with 2 item sets, then 50");
}
