//! The Admin Portal's people pages over real HTTP (docs/PORTAL.md, "Channels", "Campaigns",
//! "Member lists", "Members"): the forms write through the API's code and the API sees the
//! result; a channel's test callback reaches a real local listener through the callback
//! outbox and shows in the channel's delivery log; the role rules by posting every form
//! directly; another account's ids; CSRF; and fixed statement counts for the list pages.

use crate::backend_tests;
use crate::callbacks::{query, Listener};
use crate::credentials::{member, setup, Setup};
use crate::helpers::{TestAccount, TestApp};
use crate::portal::{code, created_id, escaped, store, user, Page, Portal, PASSWORD};
use kindling_domain::portal::Role;
use kindling_domain::{AccountId, ChannelId, Timestamp};
use kindling_store::portal::channels::queue_test_callback;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

backend_tests!(
    channels_are_created_edited_and_send_a_test_callback,
    the_delivery_log_shows_conversions_and_failures,
    campaigns_are_created_and_edited_through_the_forms,
    member_lists_and_their_members_through_the_forms,
    members_are_found_by_identifier_with_their_codes_and_redemptions,
    people_pages_follow_the_roles,
    another_accounts_people_are_not_found,
    people_forms_need_the_csrf_token,
    people_pages_run_a_fixed_number_of_statements,
);

async fn owner(app: &TestApp, acct: &TestAccount) -> Portal {
    Portal::signed_in(app, &user(app, acct, Role::Owner, &[]).await).await
}

async fn api_channel(app: &TestApp, acct: &TestAccount, id: i64) -> Value {
    app.get(acct, &format!("/v1.0/channels/{id}")).await.error_free().body["channel"].clone()
}

async fn api_count(app: &TestApp, acct: &TestAccount, path: &str) -> i64 {
    app.get(acct, path).await.error_free().body["total_entries"].as_i64().unwrap()
}

/// The channel's page until its delivery log shows `n` rows with `status` (at most 20 s:
/// the worker delivers, then records the attempt).
async fn log_until(portal: &mut Portal, channel: i64, status: &str, n: usize) -> Page {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = portal.get(&format!("/admin/channels/{channel}")).await;
        assert_eq!(page.status, 200, "{}", page.text);
        if page.text.matches(&format!(r#"data-status="{status}""#)).count() >= n {
            return page;
        }
        assert!(Instant::now() < deadline, "no {n} {status} rows: {}", page.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn channels_are_created_edited_and_send_a_test_callback(app: TestApp) {
    let listener = Listener::start(0).await;
    let acct = app.account().await;
    let mut owner = owner(&app, &acct).await;
    let csrf = owner.csrf.clone();
    let list = owner.get("/admin/channels").await;
    assert_eq!(list.status, 200);
    assert!(list.text.contains(r#"href="/admin/channels/new""#) && list.text.contains(r#"id="no-channels""#));
    let nav = format!(r#"href="{}" aria-current="page""#, escaped("/admin/channels"));
    assert!(list.text.contains(&nav), "the nav marks Channels");
    assert_eq!(owner.get("/admin/channels/new").await.status, 200);

    // Bad input: each field's error next to it, the values kept, nothing written.
    let bad = owner
        .post("/admin/channels", &[("csrf", csrf.as_str()), ("name", " "), ("conversion_callback_url", "ftp://x/%{a")])
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains(&escaped("Name can't be blank")), "{}", bad.text);
    assert!(bad.text.contains(r#"id="conversion_callback_url-error""#) && bad.text.contains(&escaped("ftp://x/%{a")));
    assert_eq!(api_count(&app, &acct, "/v1.0/channels").await, 0, "nothing written");

    // Good input, then an edit, checked through the API.
    let template = format!("{}/hook/%{{credential_id}}?xid=%{{xid}}&status=%{{status}}&uid=%{{sf_uid}}", listener.base);
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "App <iOS>"),
        ("conversion_callback_url", &template),
        ("allow_hmac", "true"),
    ];
    let created = owner.post("/admin/channels", &form).await;
    let id = created_id(&created);
    let channel = api_channel(&app, &acct, id).await;
    assert_eq!(
        (&channel["name"], &channel["conversion_callback_url"], &channel["allow_hmac"], &channel["allow_sms_keyword"]),
        (&json!("App <iOS>"), &json!(template), &json!(true), &json!(false))
    );
    let page = owner.get(&format!("/admin/channels/{id}?done=created")).await;
    assert!(page.text.contains(&escaped("App <iOS>")) && page.text.contains(r#"id="no-deliveries""#));
    let path = format!("/admin/channels/{id}");
    let refused =
        owner.post(&path, &[("csrf", csrf.as_str()), ("name", "App"), ("conversion_callback_url", "nope")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains(r#"value="nope""#));
    assert_eq!(api_channel(&app, &acct, id).await["conversion_callback_url"], json!(template), "nothing written");
    let saved = owner
        .post(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("name", "App"),
                ("conversion_callback_url", &template),
                ("allow_sms_keyword", "true"),
            ],
        )
        .await;
    assert_eq!(saved.location(), format!("{path}?done=saved"));
    let channel = api_channel(&app, &acct, id).await;
    assert_eq!(
        (&channel["name"], &channel["allow_hmac"], &channel["allow_sms_keyword"]),
        (&json!("App"), &json!(false), &json!(true))
    );

    // The test callback: queued in the outbox, delivered by the worker to the listener.
    let sent = owner.post(&format!("{path}/test"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(sent.location(), format!("{path}?done=test"));
    let got = listener.wait_for(1).await;
    assert_eq!(got[0].method, "GET");
    assert!(got[0].uri.starts_with("/hook/0?"), "{}", got[0].uri);
    let q = query(&got[0].uri);
    assert_eq!((q["xid"].as_str(), q["status"].as_str(), q["uid"].as_str()), ("test", "test", "test"));
    let page = log_until(&mut owner, id, "delivered", 1).await;
    assert!(page.text.contains(r#"<td data-label="Event">test</td>"#), "{}", page.text);
    assert!(page.text.contains("(HTTP 200)") && page.text.contains(&escaped(&format!("{}/hook/0?", listener.base))));

    // The list finds it by any part of its name; the other one is not listed.
    crate::offers::channel(&app, &acct, "Email").await;
    let found = owner.get("/admin/channels?q=pP").await;
    assert!(
        found.text.contains(&format!(r#"data-channel-id="{id}""#)) && !found.text.contains(">Email<"),
        "{}",
        found.text
    );

    // A channel without a callback URL cannot be tested: said so, nothing queued.
    let cleared = owner.post(&path, &[("csrf", csrf.as_str()), ("name", "App"), ("conversion_callback_url", "")]).await;
    assert_eq!(cleared.status, 303);
    assert_eq!(api_channel(&app, &acct, id).await["conversion_callback_url"], Value::Null, "a blank URL clears it");
    let untested = owner.post(&format!("{path}/test"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(untested.status, 422);
    assert!(untested.text.contains("has no callback URL"));
    let queued: Option<i64> = app
        .db
        .fetch_optional("SELECT COUNT(*) FROM callback_outbox WHERE account_id = $1", &[acct.id.into()])
        .await
        .unwrap();
    assert_eq!(queued, Some(1), "only the first test was queued");
}

async fn the_delivery_log_shows_conversions_and_failures(app: TestApp) {
    // The listener fails the first request: the log shows the error, then the retry's success.
    let listener = Listener::start(1).await;
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let template = format!("{}/conv/%{{credential_id}}", listener.base);
    let body = json!({"channel": {"conversion_callback_url": template}});
    app.put(&acct, &format!("/v1.0/channels/{}", s.channel), body).await.error_free();
    let (credential, _) = code(&app, &acct, &s).await;
    app.raw(Some(&acct.token), Method::PUT, &format!("/v1.0/credentials/{credential}/redeem"), None).await.error_free();
    let mut owner = owner(&app, &acct).await;
    listener.wait_for(2).await;
    let page = log_until(&mut owner, s.channel, "delivered", 1).await;
    assert!(
        page.text.contains(r#"data-label="Last error">HTTP 500</td>"#),
        "the failed attempt's error: {}",
        page.text
    );
    assert!(page.text.contains(r#"<td data-label="Event">conversion</td>"#), "{}", page.text);
    assert!(page.text.contains(r#"<td class="num" data-label="Attempts">2</td>"#), "{}", page.text);
    assert!(page.text.contains(&escaped(&format!("{}/conv/{credential}", listener.base))));
    // Another channel's log does not show it.
    let other = crate::offers::channel(&app, &acct, "Other").await;
    assert!(owner.get(&format!("/admin/channels/{other}")).await.text.contains(r#"id="no-deliveries""#));
}

async fn api_campaign(app: &TestApp, acct: &TestAccount, id: i64) -> Value {
    app.get(acct, &format!("/v1.0/campaigns/{id}")).await.error_free().body["campaign"].clone()
}

async fn campaigns_are_created_and_edited_through_the_forms(app: TestApp) {
    let acct = app.account().await;
    let offer = crate::offers::offer(&app, &acct, json!({"name": "Fries <big>"})).await;
    let mut owner = owner(&app, &acct).await;
    let csrf = owner.csrf.clone();
    let list = owner.get("/admin/campaigns").await;
    assert!(list.text.contains(r#"id="no-campaigns""#) && list.text.contains(r#"href="/admin/campaigns/new""#));
    let new = owner.get("/admin/campaigns/new").await;
    assert!(
        new.text.contains(&format!(r#"<option value="{offer}">{}</option>"#, escaped("Fries <big>"))),
        "{}",
        new.text
    );

    // Bad input: the API's errors next to their fields, values kept, nothing written.
    let bad = owner
        .post(
            "/admin/campaigns",
            &[
                ("csrf", csrf.as_str()),
                ("offer_id", ""),
                ("channel_name", " "),
                ("code_count", &"9".repeat(40)),
                ("start_display_at", "soon"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    for field in ["offer_id", "channel_name", "code_count", "start_display_at"] {
        assert!(bad.text.contains(&format!(r#"id="{field}-error""#)), "{field}: {}", bad.text);
    }
    assert!(bad.text.contains(&"9".repeat(40)), "values kept");
    assert_eq!(api_count(&app, &acct, "/v1.0/campaigns").await, 0, "nothing written");

    // Good input: the channel is found or created by name, as POST /v1.0/campaigns does.
    let offer_text = offer.to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("offer_id", offer_text.as_str()),
        ("channel_name", "Newsletter"),
        ("external_id", "EXT-1"),
        ("pos_offer_code", "POS9"),
        ("start_display_at", "2026-12-01T09:30"),
        ("allow_return_later", "true"),
    ];
    let created = owner.post("/admin/campaigns", &form).await;
    let id = created_id(&created);
    let campaign = api_campaign(&app, &acct, id).await;
    assert_eq!(
        (&campaign["offer_id"], &campaign["channel_name"], &campaign["external_id"], &campaign["pos_offer_code"]),
        (&json!(offer), &json!("Newsletter"), &json!("EXT-1"), &json!("POS9"))
    );
    assert_eq!(
        (&campaign["allow_return_later"], &campaign["start_display_at"]),
        (&json!(true), &json!("2026-12-01T09:30:00Z"))
    );
    let page = owner.get(&format!("/admin/campaigns/{id}")).await;
    assert!(page.text.contains(campaign["xid"].as_str().unwrap()) && page.text.contains(r#"value="2026-12-01T09:30""#));

    // The same offer and channel with another external id is the API's conflict; a taken
    // external id is the field's error.
    let again = owner
        .post(
            "/admin/campaigns",
            &[
                ("csrf", csrf.as_str()),
                ("offer_id", &offer_text),
                ("channel_name", "Newsletter"),
                ("external_id", "EXT-2"),
            ],
        )
        .await;
    assert_eq!(again.status, 422);
    assert!(again.text.contains("already has campaign"), "{}", again.text);
    let other = crate::offers::offer(&app, &acct, json!({"name": "Shake"})).await.to_string();
    let taken = owner
        .post(
            "/admin/campaigns",
            &[("csrf", csrf.as_str()), ("offer_id", &other), ("channel_name", "Web"), ("external_id", "EXT-1")],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.text.contains(&escaped("External id has already been taken")), "{}", taken.text);
    assert_eq!(api_count(&app, &acct, "/v1.0/campaigns").await, 1, "nothing more written");

    // Edit: blank fields clear, the offer and channel stay.
    let path = format!("/admin/campaigns/{id}");
    let saved = owner.post(&path, &[("csrf", csrf.as_str()), ("external_id", "EXT-9"), ("code_ref", "Spring")]).await;
    assert_eq!(saved.location(), format!("{path}?done=saved"));
    let campaign = api_campaign(&app, &acct, id).await;
    assert_eq!(
        (&campaign["external_id"], &campaign["code_ref"], &campaign["pos_offer_code"]),
        (&json!("EXT-9"), &json!("Spring"), &json!(null))
    );
    assert_eq!(
        (&campaign["allow_return_later"], &campaign["start_display_at"], &campaign["channel_name"]),
        (&json!(false), &json!(null), &json!("Newsletter"))
    );
    let refused = owner.post(&path, &[("csrf", csrf.as_str()), ("start_display_at", "later")]).await;
    assert_eq!(refused.status, 422);
    assert_eq!(api_campaign(&app, &acct, id).await["external_id"], json!("EXT-9"), "nothing written");
    let list = owner.get("/admin/campaigns").await;
    assert!(list.text.contains(&format!(r#"data-campaign-id="{id}""#)) && list.text.contains(&escaped("Fries <big>")));
}

async fn list_members(app: &TestApp, acct: &TestAccount, list: i64) -> Vec<i64> {
    let got = app.get(acct, &format!("/v1.0/member_lists/{list}/members")).await;
    got.error_free().body["member_list"]["member_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

async fn member_lists_and_their_members_through_the_forms(app: TestApp) {
    let acct = app.account().await;
    let (ann, bob) = (member(&app, &acct, "ann@x").await, member(&app, &acct, "bob <b>").await);
    let mut owner = owner(&app, &acct).await;
    let csrf = owner.csrf.clone();
    assert!(owner.get("/admin/member_lists").await.text.contains(r#"id="no-member-lists""#));
    let blank = owner.post("/admin/member_lists", &[("csrf", csrf.as_str()), ("name", "")]).await;
    assert_eq!(blank.status, 422);
    assert!(blank.text.contains(&escaped("Name can't be blank")));
    assert_eq!(api_count(&app, &acct, "/v1.0/member_lists").await, 0);
    let created = owner.post("/admin/member_lists", &[("csrf", csrf.as_str()), ("name", "VIPs")]).await;
    let id = created_id(&created);
    let path = format!("/admin/member_lists/{id}");
    let renamed = owner.post(&path, &[("csrf", csrf.as_str()), ("name", "Gold <VIP>")]).await;
    assert_eq!(renamed.location(), format!("{path}?done=saved"));
    let api = app.get(&acct, &format!("/v1.0/member_lists/{id}")).await.error_free().body["member_list"].clone();
    assert_eq!(api["name"], "Gold <VIP>");

    // Members by identifier, one a line: all must exist, or nothing changes.
    let members_path = format!("{path}/members");
    let unknown = owner
        .post(&members_path, &[("csrf", csrf.as_str()), ("identifiers", "ann@x\nnobody"), ("action", "add")])
        .await;
    assert_eq!(unknown.status, 422);
    assert!(
        unknown.text.contains("no member of the account: nobody") && unknown.text.contains("ann@x\nnobody"),
        "{}",
        unknown.text
    );
    assert!(list_members(&app, &acct, id).await.is_empty(), "nothing written");
    let none = owner.post(&members_path, &[("csrf", csrf.as_str()), ("identifiers", " \n"), ("action", "add")]).await;
    assert_eq!(none.status, 422);
    let added = owner
        .post(&members_path, &[("csrf", csrf.as_str()), ("identifiers", "ann@x\r\nbob <b>\n"), ("action", "add")])
        .await;
    assert_eq!(added.location(), format!("{path}?done=added"));
    assert_eq!(list_members(&app, &acct, id).await, [ann, bob]);
    let page = owner.get(&path).await;
    assert!(
        page.text.contains(&escaped("bob <b>")) && page.text.contains(r#"id="member-count">2 members"#),
        "{}",
        page.text
    );
    let listed = owner.get("/admin/member_lists?q=gold").await;
    assert!(listed.text.contains(r#"<td class="num" data-label="Members">2</td>"#), "{}", listed.text);
    let removed =
        owner.post(&members_path, &[("csrf", csrf.as_str()), ("identifiers", "ann@x"), ("action", "remove")]).await;
    assert_eq!(removed.location(), format!("{path}?done=removed"));
    assert_eq!(list_members(&app, &acct, id).await, [bob]);

    // A long list pages by 50.
    for i in 0..50 {
        let m = member(&app, &acct, &format!("m{i:02}")).await;
        let body = json!({"member_list": {"member_ids": [m]}});
        app.put(&acct, &format!("/v1.0/member_lists/{id}/members"), body).await.error_free();
    }
    let first = owner.get(&path).await;
    assert_eq!(first.text.matches("<tr data-member-id=").count(), 50);
    assert!(first.text.contains(&format!(r#"href="{}""#, escaped(&format!("{path}?page=2")))));
    assert_eq!(owner.get(&format!("{path}?page=2")).await.text.matches("<tr data-member-id=").count(), 1);
}

async fn members_are_found_by_identifier_with_their_codes_and_redemptions(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries <x>"})).await;
    crate::offers::approve(&app, &acct, s.offer).await;
    let ann = member(&app, &acct, "ann_1").await;
    for other in ["ann-2", "Ann_3", "annx1", "bob"] {
        member(&app, &acct, other).await;
    }
    let ann_setup = Setup { member: ann, ..s };
    let (redeemed, redeemed_code) = code(&app, &acct, &ann_setup).await;
    let (_, open_code) = code(&app, &acct, &ann_setup).await;
    let shop = store(&app, &acct, "Downtown <1>").await;
    let path = format!("/v1.0/credentials/{redeemed}/redeem?store_id={shop}");
    app.raw(Some(&acct.token), Method::PUT, &path, None).await.error_free();

    let mut owner = owner(&app, &acct).await;
    let empty = owner.get("/admin/members").await;
    assert!(empty.status == 200 && !empty.text.contains("<tr data-member-id="), "nothing listed before a search");
    // A prefix, case-sensitive, with `_` and `%` as themselves.
    let found = owner.get("/admin/members?q=ann_").await;
    assert_eq!(found.text.matches("<tr data-member-id=").count(), 1, "{}", found.text);
    assert!(found.text.contains(&format!(r#"data-member-id="{ann}""#)));
    assert_eq!(owner.get("/admin/members?q=ann").await.text.matches("<tr data-member-id=").count(), 3);
    assert!(owner.get("/admin/members?q=%25").await.text.contains(r#"id="no-members""#));
    assert_eq!(owner.get("/admin/members?q=ann&exact=1").await.text.matches("<tr data-member-id=").count(), 0);
    assert_eq!(owner.get("/admin/members?q=bob&exact=1").await.text.matches("<tr data-member-id=").count(), 1);

    let page = owner.get(&format!("/admin/members/{ann}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains(r#"id="code-count">2 codes"#)
            && page.text.contains(r#"id="redemption-count">1 redemption<"#),
        "{}",
        page.text
    );
    assert!(page.text.contains(&redeemed_code) && page.text.contains(&open_code));
    assert!(page.text.contains(r#"status-redeemed">redeemed"#) && page.text.contains(r#"status-open">open"#));
    assert!(page.text.contains(&escaped("Fries <x>")) && page.text.contains(&escaped("Downtown <1>")));
    assert_eq!(owner.get("/admin/members/99999999").await.status, 404);
    assert_eq!(owner.get("/admin/members/x").await.status, 404);
}

async fn people_pages_follow_the_roles(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "L"}})).await.body["member_list"]
        ["id"]
        .as_i64()
        .unwrap();
    let campaign =
        app.post(&acct, "/v1.0/campaigns", json!({"campaign": {"offer_id": s.offer, "channel_name": "Web"}})).await;
    let campaign = campaign.error_free().body["campaign"]["id"].as_i64().unwrap();
    let identifier = app.get(&acct, &format!("/v1.0/members/{}", s.member)).await.body["member"]["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let offer = s.offer.to_string();
    let forms = |csrf: &str| -> Vec<(String, Vec<(&'static str, String)>)> {
        let c = ("csrf", csrf.to_owned());
        vec![
            ("/admin/channels".into(), vec![c.clone(), ("name", "Sneaky".into())]),
            (format!("/admin/channels/{}", s.channel), vec![c.clone(), ("name", "Sneaky".into())]),
            (format!("/admin/channels/{}/test", s.channel), vec![c.clone()]),
            (
                "/admin/campaigns".into(),
                vec![c.clone(), ("offer_id", offer.clone()), ("channel_name", "Sneaky".into())],
            ),
            (format!("/admin/campaigns/{campaign}"), vec![c.clone(), ("external_id", "Sneaky".into())]),
            ("/admin/member_lists".into(), vec![c.clone(), ("name", "Sneaky".into())]),
            (format!("/admin/member_lists/{list}"), vec![c.clone(), ("name", "Sneaky".into())]),
            (
                format!("/admin/member_lists/{list}/members"),
                vec![c.clone(), ("identifiers", identifier.clone()), ("action", "add".into())],
            ),
        ]
    };
    let pages = [
        "/admin/channels".to_owned(),
        format!("/admin/channels/{}", s.channel),
        "/admin/campaigns".to_owned(),
        format!("/admin/campaigns/{campaign}"),
        "/admin/member_lists".to_owned(),
        format!("/admin/member_lists/{list}"),
        format!("/admin/members?q={identifier}"),
        format!("/admin/members/{}", s.member),
    ];
    let form_pages = ["/admin/channels/new", "/admin/campaigns/new", "/admin/member_lists/new"];

    // A viewer reads every page, without forms, and may not post any.
    let mut viewer = Portal::signed_in(&app, &user(&app, &acct, Role::Viewer, &[]).await).await;
    for path in &pages {
        let page = viewer.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.text.contains(r#"method="post" action="/admin/c"#)
                && !page.text.contains(r#"method="post" action="/admin/m"#),
            "{path}: no forms"
        );
    }
    for path in form_pages {
        assert_eq!(viewer.get(path).await.status, 403, "{path}");
    }
    let csrf = viewer.csrf.clone();
    for (path, form) in forms(&csrf) {
        assert_eq!(viewer.post(&path, &form).await.status, 403, "{path}");
    }
    // A store operator sees none of them.
    let shop = store(&app, &acct, "Shop").await;
    let mut operator = Portal::signed_in(&app, &user(&app, &acct, Role::StoreOperator, &[shop]).await).await;
    for path in pages.iter().map(String::as_str).chain(form_pages) {
        assert_eq!(operator.get(path).await.status, 403, "{path}");
    }
    let csrf = operator.csrf.clone();
    for (path, form) in forms(&csrf) {
        assert_eq!(operator.post(&path, &form).await.status, 403, "{path}");
    }
    // Nothing was written.
    assert_eq!(api_channel(&app, &acct, s.channel).await["name"], "App");
    assert_eq!(api_count(&app, &acct, "/v1.0/channels").await, 2, "App and the campaign's Web");
    assert_eq!(api_count(&app, &acct, "/v1.0/campaigns").await, 2, "the offer on App, and on Web");
    assert_eq!(api_campaign(&app, &acct, campaign).await["external_id"], Value::Null);
    assert_eq!(api_count(&app, &acct, "/v1.0/member_lists").await, 1);
    assert!(list_members(&app, &acct, list).await.is_empty());
    let outbox: Option<i64> = app
        .db
        .fetch_optional("SELECT COUNT(*) FROM callback_outbox WHERE account_id = $1", &[acct.id.into()])
        .await
        .unwrap();
    assert_eq!(outbox, Some(0));

    // An editor may do all of it.
    let mut editor = Portal::signed_in(&app, &user(&app, &acct, Role::Editor, &[]).await).await;
    for path in form_pages {
        assert_eq!(editor.get(path).await.status, 200, "{path}");
    }
    let csrf = editor.csrf.clone();
    for (path, form) in forms(&csrf) {
        let answer = editor.post(&path, &form).await;
        // The channel has no callback URL, so its test is refused (422), not forbidden.
        let allowed = if path.ends_with("/test") { 422 } else { 303 };
        assert_eq!(answer.status, allowed, "{path}: {}", answer.text);
    }
    assert_eq!(list_members(&app, &acct, list).await, [s.member]);
}

async fn another_accounts_people_are_not_found(app: TestApp) {
    let acct = app.account().await;
    let stranger = app.account().await;
    let theirs = setup(&app, &stranger, json!({"name": "Theirs"})).await;
    let body = json!({"campaign": {"offer_id": theirs.offer, "channel_name": "Their web"}});
    let campaign = app.post(&stranger, "/v1.0/campaigns", body).await.body["campaign"]["id"].as_i64().unwrap();
    let list = app.post(&stranger, "/v1.0/member_lists", json!({"member_list": {"name": "Theirs"}})).await.body
        ["member_list"]["id"]
        .as_i64()
        .unwrap();
    member(&app, &acct, "mine").await;
    let my_list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "Mine"}})).await.body
        ["member_list"]["id"]
        .as_i64()
        .unwrap();
    let their_identifier = app.get(&stranger, &format!("/v1.0/members/{}", theirs.member)).await.body["member"]
        ["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut owner = owner(&app, &acct).await;
    let csrf = owner.csrf.clone();
    for path in [
        format!("/admin/channels/{}", theirs.channel),
        format!("/admin/campaigns/{campaign}"),
        format!("/admin/member_lists/{list}"),
        format!("/admin/members/{}", theirs.member),
        "/admin/channels/abc".to_owned(),
    ] {
        assert_eq!(owner.get(&path).await.status, 404, "{path}");
    }
    for (path, form) in [
        (format!("/admin/channels/{}", theirs.channel), vec![("csrf", csrf.clone()), ("name", "Mine now".into())]),
        (format!("/admin/channels/{}/test", theirs.channel), vec![("csrf", csrf.clone())]),
        (format!("/admin/campaigns/{campaign}"), vec![("csrf", csrf.clone()), ("external_id", "Mine".into())]),
        (format!("/admin/member_lists/{list}"), vec![("csrf", csrf.clone()), ("name", "Mine now".into())]),
        (format!("/admin/member_lists/{list}/members"), vec![("csrf", csrf.clone()), ("identifiers", "mine".into())]),
    ] {
        assert_eq!(owner.post(&path, &form).await.status, 404, "{path}");
    }
    // Their offer in the campaign form, and their member by identifier, are unknown here.
    let body = [("csrf", csrf.clone()), ("offer_id", theirs.offer.to_string()), ("channel_name", "Web".into())];
    let refused = owner.post("/admin/campaigns", &body).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains(&escaped(&format!("Offer does not exist: {}", theirs.offer))), "{}", refused.text);
    let form = [("csrf", csrf.clone()), ("identifiers", their_identifier.clone()), ("action", "add".into())];
    assert_eq!(owner.post(&format!("/admin/member_lists/{my_list}/members"), &form).await.status, 422);
    assert!(list_members(&app, &acct, my_list).await.is_empty());
    assert!(owner
        .get(&format!("/admin/members?q={their_identifier}&exact=1"))
        .await
        .text
        .contains(r#"id="no-members""#));
    // Nothing of theirs changed, and no member of mine joined their list.
    assert_eq!(api_channel(&app, &stranger, theirs.channel).await["name"], "App");
    assert_eq!(api_campaign(&app, &stranger, campaign).await["external_id"], Value::Null);
    assert!(list_members(&app, &stranger, list).await.is_empty());
}

async fn people_forms_need_the_csrf_token(app: TestApp) {
    let acct = app.account().await;
    let s = setup(&app, &acct, json!({"name": "Fries"})).await;
    let list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "L"}})).await.body["member_list"]
        ["id"]
        .as_i64()
        .unwrap();
    let campaign =
        app.post(&acct, "/v1.0/campaigns", json!({"campaign": {"offer_id": s.offer, "channel_name": "Web"}})).await;
    let campaign = campaign.body["campaign"]["id"].as_i64().unwrap();
    let url = "https://example.com/cb";
    app.put(&acct, &format!("/v1.0/channels/{}", s.channel), json!({"channel": {"conversion_callback_url": url}}))
        .await
        .error_free();
    let mut owner = owner(&app, &acct).await;
    let other = Portal::signed_in(&app, &user(&app, &acct, Role::Owner, &[]).await).await.csrf;
    let paths = [
        "/admin/channels".to_owned(),
        format!("/admin/channels/{}", s.channel),
        format!("/admin/channels/{}/test", s.channel),
        "/admin/campaigns".to_owned(),
        format!("/admin/campaigns/{campaign}"),
        "/admin/member_lists".to_owned(),
        format!("/admin/member_lists/{list}"),
        format!("/admin/member_lists/{list}/members"),
    ];
    for path in &paths {
        for csrf in [None, Some(""), Some("wrong"), Some(other.as_str())] {
            let mut form =
                vec![("name", "Forged"), ("offer_id", "1"), ("channel_name", "Forged"), ("identifiers", "x")];
            if let Some(csrf) = csrf {
                form.push(("csrf", csrf));
            }
            assert_eq!(owner.post(path, &form).await.status, 403, "{path} with {csrf:?}");
        }
    }
    assert_eq!(api_channel(&app, &acct, s.channel).await["name"], "App");
    assert_eq!(api_count(&app, &acct, "/v1.0/member_lists").await, 1);
    assert_eq!(api_count(&app, &acct, "/v1.0/channels").await, 2);
    let outbox: Option<i64> = app
        .db
        .fetch_optional("SELECT COUNT(*) FROM callback_outbox WHERE account_id = $1", &[acct.id.into()])
        .await
        .unwrap();
    assert_eq!(outbox, Some(0));
}

async fn people_pages_run_a_fixed_number_of_statements(app: TestApp) {
    let acct = app.account().await;
    // One of each under "few-", fifty under "many-" (the member page: 1 code, then 6).
    let few = setup(&app, &acct, json!({"name": "Few offer"})).await;
    crate::offers::approve(&app, &acct, few.offer).await;
    let many_member = member(&app, &acct, "codes-member").await;
    let few_list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "few-list"}})).await.body
        ["member_list"]["id"]
        .as_i64()
        .unwrap();
    let many_list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "many-list"}})).await.body
        ["member_list"]["id"]
        .as_i64()
        .unwrap();
    app.put(
        &acct,
        &format!("/v1.0/member_lists/{few_list}/members"),
        json!({"member_list": {"member_ids": [few.member]}}),
    )
    .await
    .error_free();
    let mut many_ids = Vec::new();
    for i in 0..50 {
        crate::offers::channel(&app, &acct, &format!("many-channel-{i:02}")).await;
        many_ids.push(member(&app, &acct, &format!("many-{i:02}")).await);
        if i > 0 {
            app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": format!("many-list-{i:02}")}})).await;
        }
    }
    app.put(
        &acct,
        &format!("/v1.0/member_lists/{many_list}/members"),
        json!({"member_list": {"member_ids": many_ids}}),
    )
    .await
    .error_free();
    let few_channel_name = "few-channel";
    crate::offers::channel(&app, &acct, few_channel_name).await;
    let many_setup = Setup { member: many_member, ..few };
    for _ in 0..6 {
        let (credential, _) = code(&app, &acct, &many_setup).await;
        app.raw(Some(&acct.token), Method::PUT, &format!("/v1.0/credentials/{credential}/redeem"), None)
            .await
            .error_free();
    }
    code(&app, &acct, &few).await;
    // Delivery logs of 1 and 6 test callbacks, all delivered before the counting starts.
    let listener = Listener::start(0).await;
    let body = json!({"channel": {"name": "log", "conversion_callback_url": format!("{}/t", listener.base)}});
    let mut logs = Vec::new();
    for tests in [1, 6] {
        let channel =
            app.post(&acct, "/v1.0/channels", body.clone()).await.error_free().body["channel"]["id"].as_i64().unwrap();
        for _ in 0..tests {
            let (account, now) = (AccountId(acct.id), Timestamp::now());
            queue_test_callback(&app.db, account, ChannelId(channel), now).await.unwrap();
        }
        logs.push(channel);
    }
    listener.wait_for(7).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let delivered = "SELECT COUNT(*) FROM callback_outbox WHERE account_id = $1 AND delivered_at IS NOT NULL";
    while app.db.fetch_optional::<i64>(delivered, &[acct.id.into()]).await.unwrap() != Some(7) {
        assert!(Instant::now() < deadline, "the test callbacks were delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let crate::portal::Counted { server, mut owner, client, alone } = crate::portal::counted_owner(&app, &acct).await;
    let base = server.base.as_str();
    let pairs = [
        ("/admin/channels?q=few-".to_owned(), "/admin/channels?q=many-".to_owned(), "<tr data-channel-id=", (1, 50)),
        (
            "/admin/member_lists?q=few-".to_owned(),
            "/admin/member_lists?q=many-".to_owned(),
            "<tr data-member-list-id=",
            (1, 50),
        ),
        (
            format!("/admin/member_lists/{few_list}"),
            format!("/admin/member_lists/{many_list}"),
            "<tr data-member-id=",
            (1, 50),
        ),
        ("/admin/members?q=member-".to_owned(), "/admin/members?q=many-".to_owned(), "<tr data-member-id=", (1, 50)),
        (
            format!("/admin/members/{}", few.member),
            format!("/admin/members/{many_member}"),
            "<tr data-credential-id=",
            (1, 6),
        ),
        (
            format!("/admin/channels/{}", logs[0]),
            format!("/admin/channels/{}", logs[1]),
            "<tr data-delivery-id=",
            (1, 6),
        ),
    ];
    for (small, large, marker, sizes) in pairs {
        let mut counts = Vec::new();
        for (path, size) in [(small.as_str(), sizes.0), (large.as_str(), sizes.1)] {
            let portal = &mut owner;
            let statements = crate::statements::fewest(&client, base, async || {
                let page = portal.get(path).await;
                assert_eq!(page.text.matches(marker).count(), size, "{path}: {}", page.text);
            })
            .await;
            counts.push(statements - alone);
        }
        assert_eq!(counts[0], counts[1], "{small} and {large}: statements for a few rows, then many");
    }
}

/// The test callback goes the way of every callback: a `kindling serve` whose worker may
/// not call private addresses (the default) refuses the listener on 127.0.0.1, and the
/// delivery log says why. Its own SQLite database, so no test worker (which allows private
/// addresses) delivers it instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_callback_to_a_private_address_is_refused() {
    let listener = Listener::start(0).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("vetted.db").display());
    let db = kindling_store::Db::connect(&url).await.unwrap();
    let account = kindling_store::accounts::create(&db, "Vetted", "not-a-key-hash").await.unwrap();
    let email = format!("owner-{}@example.com", kindling_domain::secret::new_xid().to_lowercase());
    let user = kindling_store::portal::NewUser {
        email: kindling_domain::portal::Email::parse(&email).unwrap(),
        password_hash: kindling_domain::secret::hash_password(PASSWORD),
        access: kindling_domain::portal::Access::new(Role::Owner, &[]).unwrap(),
    };
    kindling_store::portal::create_user(&db, account, user).await.unwrap();
    let server = crate::cli::Server::start_with(&url, &[("KINDLING_CALLBACK_ALLOW_PRIVATE", "0")]).await;
    let mut owner = Portal::at(&server.base);
    assert_eq!(owner.sign_in(&email, PASSWORD).await.status, 303);
    owner.csrf = owner.get("/admin/channels/new").await.csrf();
    let template = format!("{}/hook", listener.base);
    let csrf = owner.csrf.clone();
    let form = [("csrf", csrf.as_str()), ("name", "Private"), ("conversion_callback_url", template.as_str())];
    let created = owner.post("/admin/channels", &form).await;
    let id = created_id(&created);
    assert_eq!(owner.post(&format!("/admin/channels/{id}/test"), &[("csrf", csrf.as_str())]).await.status, 303);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = owner.get(&format!("/admin/channels/{id}")).await;
        if page.text.contains("is not a public address") {
            assert!(page.text.contains(r#"data-status="waiting""#), "retried later: {}", page.text);
            break;
        }
        assert!(Instant::now() < deadline, "no refusal in the log: {}", page.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listener.received.lock().unwrap().is_empty(), "nothing reached the private address");
}
