//! `kindling import stores|items|members`: every row validated first; stores and items all
//! rows or none, members streamed in batches, skipping identifiers the account already has.

use crate::backend_tests;
use crate::helpers::{TestAccount, TestApp, TestResponse};
use crate::merchants::merchant;
use serde_json::json;
use std::process::Command;

backend_tests!(import_stores_all_or_nothing, import_items_for_each_owner, import_members_in_batches);

fn import(app: &TestApp, args: &[&str], csv: &str) -> (bool, String, String) {
    import_file(app, args, "rows.csv", csv)
}

fn import_file(app: &TestApp, args: &[&str], name: &str, contents: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, contents).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .arg("import")
        .args(args)
        .arg(&file)
        .args(["--database-url", &app.url])
        .output()
        .unwrap();
    (output.status.success(), String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap())
}

async fn import_stores_all_or_nothing(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q Burger").await;
    let ms = m.to_string();
    let args = ["stores", "--merchant", ms.as_str()];
    let base = format!("/v1.0/merchants/{m}/stores");

    let bad = "name,site_id,lat,lng,is_active\nGood,S1,39.7,-104.9,true\nBad lat,S2,north,-104.9,yes\n,S3,,,\nBad flag,S4,,,maybe\n";
    let (ok, _, stderr) = import(&app, &args, bad);
    assert!(!ok);
    for expected in ["line 3", "lat must be a number", "line 4: name can't be blank", "line 5", "is_active"] {
        assert!(stderr.contains(expected), "{expected:?} missing from: {stderr}");
    }
    assert!(!stderr.contains("line 2"), "good rows are not reported: {stderr}");
    assert_eq!(app.get(&acct, &base).await.body["total_entries"], 0, "nothing written");

    let duplicate = "name,site_id\nA,S1\nB,S1\n";
    let (ok, _, stderr) = import(&app, &args, duplicate);
    assert!(!ok && stderr.contains("line 3"), "{stderr}");
    assert_eq!(app.get(&acct, &base).await.body["total_entries"], 0, "the first row was rolled back too");

    let (ok, _, stderr) = import(&app, &args, "name,colour\nA,red\n");
    assert!(!ok && stderr.contains("unknown columns"), "{stderr}");

    let good = "name,number,site_id,address,city,state,zip,country,lat,lng,is_active,primary_name,primary_email\n\
                Downtown,1,S1,1 Main St,Denver,CO,80202,US,39.7392,-104.9903,true,Lee,lee@example.com\n\
                Uptown,2,S2,,,,,,,,false,,\n\
                \"Corner, The\",3,S3,,,,,,,,,,\n";
    let (ok, stdout, stderr) = import(&app, &args, good);
    assert!(ok, "{stderr}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(stdout.trim()).unwrap(),
        json!({"imported": 3, "kind": "stores"})
    );
    let listed = app.get(&acct, &base).await;
    listed.spec("get", "/v1.0/merchants/{merchant_id}/stores");
    assert_eq!(listed.body["total_entries"], 3);
    let first = &listed.body["stores"][0]["store"];
    assert_eq!(
        (first["name"].as_str(), first["location"]["lat"].as_str(), first["location"]["zip"].as_str()),
        (Some("Downtown"), Some("39.7392"), Some("80202"))
    );
    assert_eq!(first["contacts"]["primary"]["email"], "lee@example.com");
    assert_eq!(listed.body["stores"][1]["store"]["is_active"], false);
    assert_eq!(listed.body["stores"][2]["store"]["name"], "Corner, The");

    let (ok, _, stderr) = import(&app, &["stores", "--merchant", "99999999"], good);
    assert!(!ok && stderr.contains("99999999"), "{stderr}");
}

async fn import_items_for_each_owner(app: TestApp) {
    let acct = app.account().await;
    let m = merchant(&app, &acct, "Q").await;
    let rows: String =
        std::iter::once("name,code\n".to_owned()).chain((0..250).map(|i| format!("Item {i},C{i:04}\n"))).collect();
    let (ok, stdout, stderr) = import(&app, &["items", "--merchant", &m.to_string()], &rows);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("\"imported\":250"));
    let mine = app.get(&acct, &format!("/v1.0/merchants/{m}/items?code=C0249")).await;
    assert_eq!(mine.body["items"][0]["item"]["name"], "Item 249");
    assert_eq!(app.get(&acct, &format!("/v1.0/merchants/{m}/items")).await.body["total_entries"], 250);

    let (ok, _, _) = import(&app, &["items", "--account", &acct.id.to_string()], "name,code\nNapkin,N1\n");
    assert!(ok);
    assert_eq!(app.get(&acct, "/v1.0/items").await.body["total_entries"], 251);
    let (ok, _, stderr) = import(&app, &["items", "--account", &acct.id.to_string()], "name,code\nNo code,\n");
    assert!(!ok && stderr.contains("line 2: code can't be blank"), "{stderr}");
    let (ok, _, stderr) = import(&app, &["items", "--account", &acct.id.to_string()], "name\nNo code column\n");
    assert!(!ok && stderr.contains("missing required column"), "{stderr}");
    let (ok, _, _) = import(&app, &["items", "--manufacturer", "99999999"], "name,code\nA,B\n");
    assert!(!ok);
    assert_eq!(app.get(&acct, "/v1.0/items").await.body["total_entries"], 251);
}

async fn total(app: &TestApp, acct: &TestAccount) -> serde_json::Value {
    app.get(acct, "/v1.0/members").await.body["total_entries"].clone()
}

async fn find(app: &TestApp, acct: &TestAccount, identifier: &str) -> TestResponse {
    app.get(acct, &format!("/v1.0/members/search?identifier={identifier}")).await
}

async fn import_members_in_batches(app: TestApp) {
    let acct = app.account().await;
    let other = app.account().await;
    let id = acct.id.to_string();
    let args = ["members", "--account", id.as_str()];

    // Any bad row, and nothing is written.
    let bad = "identifier,notification_mode\nok-1,app\n,sms\nok-2,\nok-3,sms\n";
    let (ok, _, stderr) = import(&app, &args, &format!("{bad}{},app\n", "x".repeat(256)));
    assert!(!ok);
    assert!(stderr.contains("line 3: identifier can't be blank"), "{stderr}");
    assert!(stderr.contains("line 6: identifier is too long"), "{stderr}");
    assert!(!stderr.contains("line 2") && !stderr.contains("line 4"), "good rows are not reported: {stderr}");
    assert_eq!(total(&app, &acct).await, 0, "nothing written");
    let (ok, _, stderr) = import(&app, &args, "identifier,email\nm,a@b\n");
    assert!(!ok && stderr.contains("unknown columns"), "{stderr}");

    // Enough rows for several statements and a partial last one.
    let rows: String = std::iter::once("identifier,notification_mode\n".to_owned())
        .chain((0..2500).map(|i| format!("m-{i:05},{}\n", if i % 2 == 0 { "sms" } else { "" })))
        .chain(["\"quoted, comma\",email\n".to_owned()])
        .collect();
    let (ok, stdout, stderr) = import(&app, &args, &rows);
    assert!(ok, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary, json!({"imported": 2501, "skipped": 0, "kind": "members"}));
    assert_eq!(total(&app, &acct).await, 2501);
    assert_eq!(total(&app, &other).await, 0, "only the named account");
    let found = find(&app, &acct, "m-02499").await;
    found.spec("get", "/v1.0/members/search");
    assert_eq!(found.body["member"]["notification_mode"], "app", "an empty cell is the default");
    assert_eq!(find(&app, &acct, "m-02498").await.body["member"]["notification_mode"], "sms");
    assert_eq!(find(&app, &acct, "quoted,%20comma").await.body["member"]["notification_mode"], "email");
    let shown = app.get(&acct, &format!("/v1.0/members/{}", found.body["member"]["id"])).await;
    assert_eq!(shown.body, found.body);

    // Run again: every identifier exists, so every row is skipped and nothing changes.
    let (ok, stdout, stderr) = import(&app, &args, &rows);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("\"imported\":0") && stdout.contains("\"skipped\":2501"), "{stdout}");

    // JSON Lines, by extension: existing and repeated identifiers are skipped.
    let jsonl = "{\"identifier\": \"m-00000\"}\n\n{\"identifier\": \"j-1\", \"notification_mode\": \"push\"}\n{\"identifier\": \"j-1\"}\n";
    let (ok, stdout, stderr) = import_file(&app, &args, "members.jsonl", jsonl);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("\"imported\":1") && stdout.contains("\"skipped\":2"), "{stdout}");
    assert_eq!(find(&app, &acct, "j-1").await.body["member"]["notification_mode"], "push");
    assert_eq!(total(&app, &acct).await, 2502);
    for (bad, expected) in [
        ("{\"identifier\": \"j-2\", \"mode\": \"x\"}\n", "line 1: unknown key \"mode\""),
        ("{\"identifier\": 5}\n", "line 1: identifier must be a string"),
        ("{\"identifier\": \"j-3\"}\nnot json\n", "line 2: malformed JSON"),
        ("{\"identifier\": \"nul\\u0000\"}\n", "line 1: values must not contain NUL"),
    ] {
        let (ok, _, stderr) = import_file(&app, &args, "members.jsonl", bad);
        assert!(!ok && stderr.contains(expected), "{expected:?} missing from: {stderr}");
    }
    // --format overrides the extension.
    let (ok, _, stderr) =
        import_file(&app, &[&args[..], &["--format", "jsonl"]].concat(), "m.txt", "{\"identifier\": \"j-4\"}\n");
    assert!(ok, "{stderr}");
    assert_eq!(total(&app, &acct).await, 2503);
    let (ok, _, stderr) = import(&app, &["members", "--account", "99999999"], "identifier\nx\n");
    assert!(!ok && stderr.contains("no account with id 99999999"), "{stderr}");
}
