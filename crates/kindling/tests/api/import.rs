//! `kindling import stores|items`: every row validated first, all rows or none written.

use crate::backend_tests;
use crate::helpers::TestApp;
use crate::merchants::merchant;
use serde_json::json;
use std::process::Command;

backend_tests!(import_stores_all_or_nothing, import_items_for_each_owner);

fn import(app: &TestApp, args: &[&str], csv: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rows.csv");
    std::fs::write(&file, csv).unwrap();
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
