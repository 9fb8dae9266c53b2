//! Rows are read by column name on both stores: a select list in another order decodes the
//! same record, and a column that is missing, ambiguous or extra is an error, never another
//! column's value.

use crate::backend_tests;
use crate::helpers::TestApp;
use kindling_domain::member::Member;
use kindling_store::StoreError;
use serde_json::json;

backend_tests!(
    swapped_select_list_decodes_the_same_record,
    missing_column_is_a_decode_error,
    shared_column_name_is_a_decode_error,
    scalar_read_needs_exactly_one_column,
    a_read_transaction_reads_one_snapshot,
);

/// A member whose same-typed columns all differ (identifier vs notification mode, created
/// vs updated), so a read that took one for the other would show.
async fn member(app: &TestApp) -> i64 {
    let acct = app.account().await;
    let body = json!({"member": {"identifier": "swap-me", "notification_mode": "email"}});
    let id = app.post(&acct, "/v1.0/members", body).await.body["member"]["id"].as_i64().unwrap();
    app.db
        .execute("UPDATE members SET created_at = 1000, updated_at = 2000 WHERE id = $1", &[id.into()])
        .await
        .unwrap();
    id
}

async fn member_by(app: &TestApp, select: &str, id: i64) -> Result<Option<Member>, StoreError> {
    app.db.fetch_optional::<Member>(&format!("SELECT {select} FROM members WHERE id = $1"), &[id.into()]).await
}

/// Two text and two integer columns listed in swapped order: read by position this gave
/// the member identifier "email" and swapped timestamps, silently.
async fn swapped_select_list_decodes_the_same_record(app: TestApp) {
    let id = member(&app).await;
    let listed = member_by(&app, "id, identifier, notification_mode, created_at, updated_at", id).await.unwrap();
    let swapped = member_by(&app, "id, notification_mode, identifier, updated_at, created_at", id).await.unwrap();
    let listed = listed.expect("member");
    assert_eq!(listed.identifier, "swap-me");
    assert_eq!(listed.notification_mode, "email");
    assert_eq!((listed.created_at.unix(), listed.updated_at.unix()), (1000, 2000));
    assert_eq!(swapped, Some(listed));
}

async fn missing_column_is_a_decode_error(app: TestApp) {
    let id = member(&app).await;
    match member_by(&app, "id, identifier, created_at, updated_at", id).await {
        Err(StoreError::Decode(message)) => assert!(message.contains("notification_mode"), "{message}"),
        other => panic!("expected a decode error naming the column, got {other:?}"),
    }
}

/// A name two columns share (a join's two `id`s) is refused: SQLite would resolve it to the
/// first, PostgreSQL to the last.
async fn shared_column_name_is_a_decode_error(app: TestApp) {
    let id = member(&app).await;
    let sql = "SELECT a.id, m.id, m.identifier, m.notification_mode, m.created_at, m.updated_at \
               FROM members m JOIN accounts a ON a.id = m.account_id WHERE m.id = $1";
    match app.db.fetch_optional::<Member>(sql, &[id.into()]).await {
        Err(StoreError::Decode(message)) => assert!(message.contains("\"id\""), "{message}"),
        other => panic!("expected a decode error naming the column, got {other:?}"),
    }
}

async fn scalar_read_needs_exactly_one_column(app: TestApp) {
    let id = member(&app).await;
    let count = app.db.fetch_optional::<i64>("SELECT COUNT(*) FROM members WHERE id = $1", &[id.into()]).await;
    assert_eq!(count.unwrap(), Some(1));
    let two =
        app.db.fetch_optional::<i64>("SELECT created_at, updated_at FROM members WHERE id = $1", &[id.into()]).await;
    assert!(matches!(two, Err(StoreError::Decode(_))), "{two:?}");
}

/// `begin_read` is one snapshot for all its reads (a privacy export, a report): a write
/// committed between two of its reads is seen by neither.
async fn a_read_transaction_reads_one_snapshot(app: TestApp) {
    let acct = app.account().await;
    let count = "SELECT COUNT(*) FROM members WHERE account_id = $1";
    let mut read = app.db.begin_read().await.unwrap();
    assert_eq!(read.fetch_optional::<i64>(count, &[acct.id.into()]).await.unwrap(), Some(0));
    app.post(&acct, "/v1.0/members", json!({"member": {"identifier": "meanwhile"}})).await.error_free();
    assert_eq!(app.db.fetch_optional::<i64>(count, &[acct.id.into()]).await.unwrap(), Some(1), "committed");
    assert_eq!(read.fetch_optional::<i64>(count, &[acct.id.into()]).await.unwrap(), Some(0), "the same snapshot");
    read.commit().await.unwrap();
}
