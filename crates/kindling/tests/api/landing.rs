//! Landing pages (`GET /{xid}`) over real HTTP: the guide's steps, views, visitors, signed
//! links, refusals, escaping and the page cache. The browser tests (browser.rs) look at the
//! same pages in Chromium.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp};
use crate::offers::{approve, channel, offer};
use kindling_domain::Timestamp;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

backend_tests!(
    guide_landing_page_steps,
    views_and_pictures,
    what_is_not_offered_is_not_found,
    returning_visitors,
    sf_uid_and_sf_ac_reach_the_credential_and_impression,
    signed_links,
    refusals_show_why_and_still_count,
    offer_text_is_escaped,
    changes_show_at_once,
    bad_links_are_refused,
    parallel_first_visits_of_one_member_make_one_code,
    a_landing_code_converts_with_its_sf_uid_and_sf_ac,
);

/// An approved offer on a channel with its xid.
pub struct Landing {
    pub offer: i64,
    pub channel: i64,
    pub xid: String,
}

/// The guide's steps: an offer (with `body`), approved, a channel linked; the xid from the
/// offer's `channels`.
pub async fn landing(app: &TestApp, acct: &TestAccount, body: Value) -> Landing {
    let offer = offer(app, acct, body).await;
    approve(app, acct, offer).await;
    let channel = channel(app, acct, "Email").await;
    app.post(acct, &format!("/v1.0/offers/{offer}/channels"), json!({"offer": {"channel_ids": [channel]}}))
        .await
        .error_free();
    let shown = app.get(acct, &format!("/v1.0/offers/{offer}")).await;
    let xid = shown.body["offer"]["channels"][0]["channel"]["xid"].as_str().unwrap().to_owned();
    Landing { offer, channel, xid }
}

/// One page view as a browser makes it.
pub struct View {
    pub status: StatusCode,
    pub html: String,
    pub set_cookie: Option<String>,
    pub content_type: String,
}

impl View {
    /// The code shown, if any.
    pub fn code(&self) -> Option<String> {
        let start = self.html.find("<span id=\"code-value\">")? + "<span id=\"code-value\">".len();
        let end = self.html[start..].find('<')? + start;
        Some(self.html[start..end].to_owned())
    }

    /// `name=value` of the visitor cookie this response set.
    pub fn cookie(&self) -> String {
        self.set_cookie.as_deref().expect("a new visitor gets a cookie").split(';').next().unwrap().to_owned()
    }
}

pub async fn view(app: &TestApp, path: &str, cookie: Option<&str>) -> View {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.expect("landing page answers");
    let status = response.status();
    let header =
        |name| response.headers().get(name).map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned());
    let set_cookie = header(SET_COOKIE);
    let content_type = header(CONTENT_TYPE).unwrap_or_default();
    View { status, html: response.text().await.unwrap(), set_cookie, content_type }
}

async fn scalar(app: &TestApp, sql: &str, params: &[kindling_store::Value]) -> i64 {
    app.db.fetch_optional::<i64>(sql, params).await.unwrap().unwrap_or(0)
}

/// The impressions of `xid`, as `GET /v1.0/impressions` lists them.
async fn impressions_of(app: &TestApp, acct: &TestAccount, xid: &str) -> Vec<Value> {
    let list = app.get(acct, &format!("/v1.0/impressions?offer_xid={xid}&per_page=500")).await;
    list.spec("get", "/v1.0/impressions");
    list.body["impressions"].as_array().unwrap().iter().map(|i| i["impression"].clone()).collect()
}

async fn impressions(app: &TestApp, acct: &TestAccount, xid: &str) -> usize {
    impressions_of(app, acct, xid).await.len()
}

/// The account's credentials carrying `offer`, as the API lists them.
async fn credentials_of(app: &TestApp, acct: &TestAccount, offer: i64) -> Vec<Value> {
    let list = app.get(acct, "/v1.0/credentials?per_page=500").await;
    list.body["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credential"].clone())
        .filter(|c| c["offer_ids"].as_array().unwrap().contains(&json!(offer)))
        .collect()
}

async fn guide_landing_page_steps(app: TestApp) {
    let acct = app.account().await;
    let l = landing(&app, &acct, json!({"name": "Test offer", "description": "A free burger"})).await;
    // "Let's add a banner image" and "a background color for the header".
    app.put(
        &acct,
        &format!("/v1.0/offers/{}.json", l.offer),
        json!({"offer": {"formatting": {"bg_image": "https://my-domain/banner_image.png", "bg_color": "#FF00AA"}}}),
    )
    .await
    .error_free();
    let page = view(&app, &format!("/{}", l.xid), None).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert!(page.html.contains("<h1 id=\"offer-name\">Test offer</h1>"), "{}", page.html);
    assert!(page.html.contains("<img id=\"banner-image\" src=\"https:&#x2f;&#x2f;my-domain&#x2f;banner_image.png\""));
    assert!(page.html.contains("background-color: #FF00AA"));
    assert!(page.html.contains("<body class=\"landing printable\">"));
    let code = page.code().expect("the visitor gets a code");
    // The code is a real credential of this offer on this channel.
    let issued = credentials_of(&app, &acct, l.offer).await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0]["identifier"], json!(code));
    assert_eq!(issued[0]["channel_id"], json!(l.channel));
    assert_eq!(issued[0]["status"], "open");
    // It redeems like any other.
    let id = issued[0]["id"].as_i64().unwrap();
    let redeemed = app.put(&acct, &format!("/v1.0/credentials/{id}/redeem"), json!({})).await;
    assert_eq!(redeemed.status, 201, "{}", redeemed.text);
    // "?printable=false" is the mobile page.
    let mobile = view(&app, &format!("/{}?printable=false", l.xid), None).await;
    assert!(mobile.html.contains("<body class=\"landing mobile\">"));
    assert_eq!(impressions(&app, &acct, &l.xid).await, 2);
}

async fn views_and_pictures(app: TestApp) {
    let acct = app.account().await;
    let plain = landing(&app, &acct, json!({"name": "No barcodes"})).await;
    let printable = view(&app, &format!("/{}", plain.xid), None).await;
    assert!(printable.code().is_some());
    assert!(!printable.html.contains("id=\"barcode\"") && !printable.html.contains("id=\"qrcode\""));
    let m = app
        .post(&acct, "/v1.0/merchants", json!({"merchant": {"name": "Scanner Store", "supports_barcode": true}}))
        .await
        .body["merchant"]["id"]
        .as_i64()
        .unwrap();
    let scanned = landing(&app, &acct, json!({"name": "Barcodes", "merchant_id": m})).await;
    let printable = view(&app, &format!("/{}", scanned.xid), None).await;
    let code = printable.code().unwrap();
    assert!(printable.html.contains(&format!("<div id=\"barcode\"><svg role=\"img\" aria-label=\"Barcode {code}\"")));
    assert!(!printable.html.contains("id=\"qrcode\""));
    let mobile = view(&app, &format!("/{}?printable=false", scanned.xid), None).await;
    let code = mobile.code().unwrap();
    assert!(mobile.html.contains(&format!("<div id=\"qrcode\"><svg role=\"img\" aria-label=\"QR code {code}\"")));
    assert!(!mobile.html.contains("id=\"barcode\""));
    // no_printable: only the mobile page; in_store_only and the text options show.
    app.put(
        &acct,
        &format!("/v1.0/offers/{}", scanned.offer),
        json!({"offer": {"formatting": {"no_printable": true, "in_store_only": true, "instructions": "Show the cashier",
            "short_name": "Barcode deal", "mobile_url": "https://cdn.example.com/m.png", "web_url": "https://cdn.example.com/w.png"}}}),
    )
    .await
    .error_free();
    let forced = view(&app, &format!("/{}", scanned.xid), None).await;
    assert!(forced.html.contains("<body class=\"landing mobile\">"));
    assert!(forced.html.contains("id=\"qrcode\""));
    assert!(forced.html.contains("<p id=\"in-store-only\">"));
    assert!(forced.html.contains("<title>Barcode deal</title>"));
    assert!(forced.html.contains("Show the cashier"));
    assert!(forced.html.contains("src=\"https:&#x2f;&#x2f;cdn.example.com&#x2f;m.png\""));
    // Account-level support (not writable through the API; set as an operator would) turns
    // pictures on for an offer without a merchant.
    app.db.execute("UPDATE accounts SET supports_barcode = TRUE WHERE id = $1", &[acct.id.into()]).await.unwrap();
    let account_level = view(&app, &format!("/{}", plain.xid), None).await;
    assert!(account_level.html.contains("<div id=\"barcode\"><svg"), "{}", account_level.html);
}

async fn what_is_not_offered_is_not_found(app: TestApp) {
    let acct = app.account().await;
    for path in ["/Zz9Zz9Q", "/a.b", "/-", &format!("/{}", "x".repeat(300))] {
        let page = view(&app, path, None).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.html.contains("<main id=\"not-found\""), "{path}: {}", page.html);
        assert_eq!(page.content_type, "text/html; charset=utf-8");
    }
    // Linked but not approved.
    let pending = offer(&app, &acct, json!({"name": "Pending"})).await;
    let ch = channel(&app, &acct, "Web").await;
    app.post(&acct, &format!("/v1.0/offers/{pending}/channels"), json!({"offer": {"channel_ids": [ch]}})).await;
    let xid = app.get(&acct, &format!("/v1.0/offers/{pending}")).await.body["offer"]["channels"][0]["channel"]["xid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(view(&app, &format!("/{xid}"), None).await.status, 404);
    // Approved, then suspended.
    approve(&app, &acct, pending).await;
    assert_eq!(view(&app, &format!("/{xid}"), None).await.status, 200);
    app.put(&acct, &format!("/v1.0/offers/{pending}/actions/suspend"), json!({})).await;
    assert_eq!(view(&app, &format!("/{xid}"), None).await.status, 404);
    // Not yet active, and past its expiry.
    let later = Timestamp::from_unix(Timestamp::now().unix() + 86_400).to_string();
    let future = landing(&app, &acct, json!({"name": "Tomorrow", "activates_at": later})).await;
    assert_eq!(view(&app, &format!("/{}", future.xid), None).await.status, 404);
    let expired = landing(&app, &acct, json!({"name": "Soon gone"})).await;
    let past = Timestamp::from_unix(Timestamp::now().unix() - 60).to_string();
    let earlier = Timestamp::from_unix(Timestamp::now().unix() - 86_400).to_string();
    app.db
        .execute(
            "UPDATE offers SET activates_at = $1, expires_at = $2 WHERE id = $3",
            &[
                Timestamp::parse(&earlier).unwrap().unix().into(),
                Timestamp::parse(&past).unwrap().unix().into(),
                expired.offer.into(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(view(&app, &format!("/{}", expired.xid), None).await.status, 404);
    // None of these handed out a code or counted a view.
    let all = app.get(&acct, "/v1.0/impressions").await;
    assert_eq!(all.body["total_entries"], 1, "{}", all.text);
}

async fn returning_visitors(app: TestApp) {
    let acct = app.account().await;
    let l = landing(&app, &acct, json!({"name": "Come back"})).await;
    let first = view(&app, &format!("/{}", l.xid), None).await;
    let cookie = first.cookie();
    let code = first.code().unwrap();
    let again = view(&app, &format!("/{}", l.xid), Some(&cookie)).await;
    assert_eq!(again.code().as_deref(), Some(code.as_str()));
    assert!(again.html.contains("id=\"returning\""));
    assert!(again.set_cookie.is_none(), "a known visitor keeps their cookie");
    let stranger = view(&app, &format!("/{}", l.xid), None).await;
    assert_ne!(stranger.code(), Some(code.clone()));
    // A forged cookie value is not trusted: a new visitor.
    let forged = view(&app, &format!("/{}", l.xid), Some("kindling_visitor=../../etc")).await;
    assert!(forged.set_cookie.is_some());
    // Once redeemed, the visitor gets a new code.
    let id = credentials_of(&app, &acct, l.offer).await.into_iter().find(|c| c["identifier"] == json!(code)).unwrap()
        ["id"]
        .as_i64()
        .unwrap();
    app.put(&acct, &format!("/v1.0/credentials/{id}/redeem"), json!({})).await;
    let after = view(&app, &format!("/{}", l.xid), Some(&cookie)).await;
    assert!(after.code().is_some_and(|c| c != code));
    // allow_return_later false: the code is shown once.
    let once = app
        .put(
            &acct,
            &format!("/v1.0/offers/{}/channels/{}", l.offer, l.channel),
            json!({"eligible_channel": {"allow_return_later": false}}),
        )
        .await;
    assert_eq!(once.status, 201, "{}", once.text);
    let shown_once = view(&app, &format!("/{}", l.xid), Some(&cookie)).await;
    assert!(shown_once.html.contains("<p id=\"claimed\">"), "{}", shown_once.html);
    assert!(shown_once.code().is_none());
    assert_eq!(credentials_of(&app, &acct, l.offer).await.len(), 4);
    assert_eq!(impressions(&app, &acct, &l.xid).await, 6);
}

async fn sf_uid_and_sf_ac_reach_the_credential_and_impression(app: TestApp) {
    let acct = app.account().await;
    let l = landing(&app, &acct, json!({"name": "Tracked"})).await;
    let page = view(&app, &format!("/{}?sf_uid=ext-123&sf_ac=spring%20banner", l.xid), None).await;
    let code = page.code().unwrap();
    let member = app.get(&acct, "/v1.0/members/search?identifier=ext-123").await;
    assert_eq!(member.status, 200, "the sf_uid is the member's identifier");
    let member_id = member.body["member"]["id"].as_i64().unwrap();
    let issued = credentials_of(&app, &acct, l.offer).await;
    assert_eq!(issued[0]["identifier"], json!(code));
    assert_eq!(issued[0]["member_id"], json!(member_id));
    let annotations: Value = serde_json::from_str(issued[0]["annotations"].as_str().unwrap()).unwrap();
    assert_eq!(annotations["sf_ac"], "spring banner");
    // The browser that got the code finds it again; another browser naming the same member
    // in an unsigned link (anyone can type an sf_uid) is told it was claimed, without the code.
    let again = view(&app, &format!("/{}?sf_uid=ext-123", l.xid), Some(&page.cookie())).await;
    assert_eq!(again.code(), Some(code.clone()));
    let elsewhere = view(&app, &format!("/{}?sf_uid=ext-123", l.xid), None).await;
    assert_eq!(elsewhere.status, 200);
    assert!(elsewhere.html.contains("<p id=\"claimed\">"), "{}", elsewhere.html);
    assert!(elsewhere.code().is_none() && !elsewhere.html.contains(&code), "{}", elsewhere.html);
    assert_eq!(credentials_of(&app, &acct, l.offer).await.len(), 1, "no second code either");
    let recorded = impressions_of(&app, &acct, &l.xid).await;
    assert_eq!(recorded.len(), 3);
    let first = &recorded[0];
    assert_eq!(first["member_id"], json!(member_id));
    assert_eq!(first["creative_name"], "spring banner");
    assert_eq!(first["channel_id"], json!(l.channel));
    assert_eq!(first["channel_name"], "Email");
    assert_eq!(first["offer_xid"], json!(l.xid));
    assert_eq!(first["annotations"], r#"{"view":"printable"}"#);
    assert!(first["cookie_id"].as_str().is_some_and(|c| c.len() == 32));
    assert_eq!(recorded[1]["creative_name"], Value::Null);
}

async fn signed_links(app: TestApp) {
    let acct = app.account().await;
    let l = landing(&app, &acct, json!({"name": "Members only"})).await;
    let secured = app
        .put(
            &acct,
            &format!("/v1.0/offers/{}/channels/{}", l.offer, l.channel),
            json!({"eligible_channel": {"security": "signed"}}),
        )
        .await;
    assert_eq!(secured.status, 201, "{}", secured.text);
    let key = secured.body["eligible_channel"]["security_key"].as_str().unwrap().to_owned();
    let now = Timestamp::now().unix();
    let sig = |uid: &str, expires: i64| kindling_domain::landing::sign(&key, &l.xid, uid, expires);
    let refused = [
        format!("/{}", l.xid),
        format!("/{}?sf_uid=m1", l.xid),
        format!("/{}?sf_uid=m1&expires={}&sig={}", l.xid, now + 600, sig("m2", now + 600)),
        format!("/{}?sf_uid=m1&expires={}&sig={}", l.xid, now + 601, sig("m1", now + 600)),
        format!("/{}?sf_uid=m1&expires={}&sig={}", l.xid, now - 1, sig("m1", now - 1)),
        format!("/{}?sf_uid=m1&expires={}&sig=nothex", l.xid, now + 600),
    ];
    for path in &refused {
        let page = view(&app, path, None).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(page.html.contains("<main id=\"forbidden\""));
    }
    assert!(credentials_of(&app, &acct, l.offer).await.is_empty());
    assert_eq!(impressions(&app, &acct, &l.xid).await, 0);
    let signed =
        view(&app, &format!("/{}?sf_uid=m1&expires={}&sig={}", l.xid, now + 600, sig("m1", now + 600)), None).await;
    assert_eq!(signed.status, 200, "{}", signed.html);
    assert!(signed.code().is_some());
    let member = app.get(&acct, "/v1.0/members/search?identifier=m1").await;
    assert_eq!(member.status, 200);
    // Turning security off opens the page again.
    app.put(
        &acct,
        &format!("/v1.0/offers/{}/channels/{}", l.offer, l.channel),
        json!({"eligible_channel": {"security": ""}}),
    )
    .await;
    assert_eq!(view(&app, &format!("/{}", l.xid), None).await.status, 200);
}

async fn refusals_show_why_and_still_count(app: TestApp) {
    let acct = app.account().await;
    let l = landing(&app, &acct, json!({"name": "VIP only"})).await;
    let list = app.post(&acct, "/v1.0/member_lists", json!({"member_list": {"name": "VIP"}})).await.body["member_list"]
        ["id"]
        .as_i64()
        .unwrap();
    app.post(&acct, &format!("/v1.0/offers/{}/member_lists", l.offer), json!({"offer": {"member_list_ids": [list]}}))
        .await;
    let page = view(&app, &format!("/{}", l.xid), None).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("<p id=\"unavailable\">This offer is not available to you.</p>"), "{}", page.html);
    assert!(page.code().is_none());
    assert!(credentials_of(&app, &acct, l.offer).await.is_empty());
    assert_eq!(impressions(&app, &acct, &l.xid).await, 1);
    // A member on the list gets a code.
    let vip = view(&app, &format!("/{}?sf_uid=vip-1", l.xid), None).await;
    assert!(vip.code().is_none());
    let member = app.get(&acct, "/v1.0/members/search?identifier=vip-1").await.body["member"]["id"].as_i64().unwrap();
    app.post(&acct, &format!("/v1.0/member_lists/{list}/members"), json!({"member_list": {"member_ids": [member]}}))
        .await;
    let vip = view(&app, &format!("/{}?sf_uid=vip-1", l.xid), None).await;
    assert!(vip.code().is_some(), "{}", vip.html);
}

async fn offer_text_is_escaped(app: TestApp) {
    let acct = app.account().await;
    let name = "<script>document.title='pwned'</script><img src=x onerror=\"alert(1)\">";
    let l = landing(
        &app,
        &acct,
        json!({"name": name, "description": "<b>bold</b> & \"quoted\"", "terms_and_conditions": "</main><script>x()</script>"}),
    )
    .await;
    let page = view(&app, &format!("/{}", l.xid), None).await;
    assert_eq!(page.status, 200);
    assert!(!page.html.contains("<script"), "{}", page.html);
    assert!(!page.html.contains("<img src=x"));
    assert!(!page.html.contains("<b>bold"));
    assert!(page.html.contains("&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;&#x2f;script&gt;"));
    assert!(page.html.contains("&lt;b&gt;bold&lt;&#x2f;b&gt; &amp; &quot;quoted&quot;"));
    // The kindling:code slot cannot be forged by offer text either.
    assert_eq!(page.html.matches("id=\"code-value\"").count(), 1);
}

async fn changes_show_at_once(app: TestApp) {
    let acct = app.account().await;
    let l = landing(&app, &acct, json!({"name": "Before"})).await;
    let before = view(&app, &format!("/{}", l.xid), None).await;
    assert!(before.html.contains(">Before</h1>"));
    for (change, shown) in [
        (json!({"offer": {"name": "After"}}), ">After</h1>"),
        (json!({"offer": {"formatting": {"bg_color": "#123456"}}}), "background-color: #123456"),
        (json!({"offer": {"formatting": {"bg_color": "#654321"}}}), "background-color: #654321"),
        (json!({"offer": {"terms_and_conditions": "New terms"}}), "New terms"),
    ] {
        app.put(&acct, &format!("/v1.0/offers/{}", l.offer), change).await.error_free();
        let page = view(&app, &format!("/{}", l.xid), None).await;
        assert!(page.html.contains(shown), "{shown} not shown: {}", page.html);
    }
    // Unlinking the channel removes the page.
    let unlinked = app
        .raw(
            Some(&acct.token),
            reqwest::Method::DELETE,
            &format!("/v1.0/offers/{}/channels", l.offer),
            Some(json!({"offer": {"channel_ids": [l.channel]}}).to_string()),
        )
        .await;
    assert!(unlinked.status.is_success(), "{}", unlinked.text);
    assert_eq!(view(&app, &format!("/{}", l.xid), None).await.status, 404);
}

async fn bad_links_are_refused(app: TestApp) {
    let acct = app.account().await;
    let l = landing(&app, &acct, json!({"name": "Links"})).await;
    for query in [format!("sf_uid={}", "u".repeat(256)), format!("sf_ac={}", "a".repeat(256))] {
        let page = view(&app, &format!("/{}?{query}", l.xid), None).await;
        assert_eq!(page.status, 400, "{query}");
        assert!(page.html.contains("<main id=\"bad-request\""));
    }
    // Malformed escapes and unknown parameters are not errors.
    let odd = view(&app, &format!("/{}?sf_uid=%zz&x=%&printable", l.xid), None).await;
    assert_eq!(odd.status, 200, "{}", odd.html);
    assert!(credentials_of(&app, &acct, l.offer).await.len() == 1);
}

async fn parallel_first_visits_of_one_member_make_one_code(app: TestApp) {
    let acct = app.account().await;
    let l = landing(&app, &acct, json!({"name": "Two tabs"})).await;
    let path = format!("/{}?sf_uid=tabs", l.xid);
    // Tabs of one browser: one visitor cookie.
    let random = kindling_domain::secret::digest_bytes(kindling_domain::secret::new_xid().as_bytes());
    let cookie = format!("kindling_visitor={}", &random[..32]);
    let mut tabs = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, url, cookie) = (app.client.clone(), format!("{}{path}", app.base), cookie.clone());
        tabs.spawn(async move { client.get(url).header(COOKIE, cookie).send().await.unwrap().text().await.unwrap() });
    }
    let mut codes = std::collections::BTreeSet::new();
    while let Some(html) = tabs.join_next().await {
        let page = View { status: StatusCode::OK, html: html.unwrap(), set_cookie: None, content_type: String::new() };
        codes.insert(page.code().expect("every tab shows the code"));
    }
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(credentials_of(&app, &acct, l.offer).await.len(), 1);
    let tabs = "SELECT COUNT(*) AS count FROM members WHERE identifier = $1 AND account_id = $2";
    assert_eq!(scalar(&app, tabs, &["tabs".into(), acct.id.into()]).await, 1);
}

/// The guide's channel callback: "sf_uid ... (for promotions that use Sparkfly's landing
/// page)" and "sf_ac: the name of the creative that was viewed to generate the credential".
async fn a_landing_code_converts_with_its_sf_uid_and_sf_ac(app: TestApp) {
    let listener = crate::callbacks::Listener::start(0).await;
    let acct = app.account().await;
    let l = landing(&app, &acct, json!({"name": "Converts"})).await;
    let template = format!("{}/conv?uid=%{{sf_uid}}&ac=%{{sf_ac}}&xid=%{{xid}}", listener.base);
    app.put(&acct, &format!("/v1.0/channels/{}", l.channel), json!({"channel": {"conversion_callback_url": template}}))
        .await
        .error_free();
    let page = view(&app, &format!("/{}?sf_uid=ext%20777&sf_ac=summer%2Fhero", l.xid), None).await;
    let code = page.code().unwrap();
    let id = credentials_of(&app, &acct, l.offer).await[0]["id"].as_i64().unwrap();
    let redeemed = app.put(&acct, &format!("/v1.0/credentials/{id}/redeem"), json!({})).await;
    assert_eq!(redeemed.status, 201);
    assert_eq!(redeemed.body["credential"]["identifier"], json!(code));
    let got = listener.wait_for(1).await;
    let q = crate::callbacks::query(&got[0].uri);
    assert_eq!(q["uid"], "ext 777");
    assert_eq!(q["ac"], "summer/hero");
    assert_eq!(q["xid"], l.xid);
}
