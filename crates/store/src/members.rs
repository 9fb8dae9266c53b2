//! Members as a plain CRUD table.

use crate::crud::{Assignments, Table};
use crate::{FromRow, Result, Row, Tx};
use kindling_domain::member::{Member, MemberChanges, NewMember};
use kindling_domain::{AccountId, MemberId, Timestamp};

pub struct Members;

impl Table for Members {
    const TABLE: &'static str = "members";
    const COLUMNS: &'static str = "id, identifier, notification_mode, created_at, updated_at";
    type Record = Member;
    type Id = kindling_domain::MemberId;
    const CACHED: bool = true;

    fn id(member: &Member) -> Self::Id {
        member.id
    }
}

impl FromRow for Member {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Member {
            id: MemberId(row.int("id")?),
            identifier: row.text("identifier")?,
            notification_mode: row.text("notification_mode")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

pub fn new_values(new: NewMember) -> Assignments {
    vec![("identifier", new.identifier.as_str().into()), ("notification_mode", new.notification_mode.as_str().into())]
}

pub fn change_values(changes: MemberChanges) -> Assignments {
    let mut values = Assignments::new();
    if let Some(identifier) = changes.identifier {
        values.push(("identifier", identifier.as_str().into()));
    }
    if let Some(mode) = changes.notification_mode {
        values.push(("notification_mode", mode.as_str().into()));
    }
    values
}

/// Rows of one bulk insert statement (`insert_missing`), the import's batch. A fixed size
/// keeps a full batch's work per statement the same.
pub const INSERT_BATCH: usize = 1000;

/// Inserts `members` (at most `INSERT_BATCH`) in one multi-row statement, skipping any
/// identifier the account already has (so an interrupted import can be run again, and a
/// concurrent creation is not duplicated); answers the members it inserted, by identifier
/// (one skipped is not among them). The rows are read as one table (`Dialect::rows`). Used
/// by `kindling import members` and the issuance batches.
pub async fn insert_missing(
    tx: &mut Tx,
    account: AccountId,
    members: &[NewMember],
    now: Timestamp,
) -> Result<Vec<(String, MemberId)>> {
    assert!(members.len() <= INSERT_BATCH, "at most INSERT_BATCH members per statement");
    if members.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(serde::Serialize)]
    struct Row<'a> {
        identifier: &'a str,
        notification_mode: &'a str,
    }
    let rows: Vec<Row<'_>> = members
        .iter()
        .map(|m| Row { identifier: m.identifier.as_str(), notification_mode: m.notification_mode.as_str() })
        .collect();
    let columns = [("identifier", "text"), ("notification_mode", "text")];
    let (from, params) = tx.dialect().rows(vec![account.into(), now.unix().into()], &columns, &rows)?;
    let sql = format!(
        "INSERT INTO members (account_id, identifier, notification_mode, created_at, updated_at) \
         SELECT $1, r.identifier, r.notification_mode, $2, $2 FROM {from} WHERE TRUE \
         ON CONFLICT (account_id, identifier) DO NOTHING RETURNING identifier, id"
    );
    let inserted: Vec<Inserted> = tx.fetch_all(&sql, &params).await?;
    Ok(inserted.into_iter().map(|m| (m.identifier, m.id)).collect())
}

struct Inserted {
    identifier: String,
    id: MemberId,
}

impl FromRow for Inserted {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { identifier: row.text("identifier")?, id: MemberId(row.int("id")?) })
    }
}

/// The account's member with an identifier.
const FIND: &str = "SELECT id FROM members WHERE account_id = $1 AND identifier = $2";

/// The account's member with `identifier`, created (with the default notification mode) if
/// there is none. A concurrent creation of the same identifier is found, not duplicated:
/// the insert skips the existing row and the second select sees it.
pub async fn find_or_create(tx: &mut Tx, account: AccountId, identifier: &str, now: Timestamp) -> Result<MemberId> {
    if let Some(id) = tx.fetch_optional::<i64>(FIND, &[account.into(), identifier.into()]).await? {
        return Ok(MemberId(id));
    }
    create_or_find(tx, account, identifier, now).await
}

/// `find_or_create` for a caller that has just looked and found no member: inserts first.
pub async fn create_or_find(tx: &mut Tx, account: AccountId, identifier: &str, now: Timestamp) -> Result<MemberId> {
    let inserted = tx
        .fetch_optional::<i64>(
            "INSERT INTO members (account_id, identifier, notification_mode, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (account_id, identifier) DO NOTHING RETURNING id",
            &[
                account.into(),
                identifier.into(),
                kindling_domain::member::NotificationMode::default().as_str().into(),
                now.unix().into(),
            ],
        )
        .await?;
    match inserted {
        Some(id) => Ok(MemberId(id)),
        None => tx
            .fetch_optional::<i64>(FIND, &[account.into(), identifier.into()])
            .await?
            .map(MemberId)
            .ok_or_else(|| crate::StoreError::Decode("member neither inserted nor found".into())),
    }
}
