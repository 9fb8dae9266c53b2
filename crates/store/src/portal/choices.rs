//! What the offer forms offer to choose from: the account's merchants, channels, member
//! lists, store lists and item sets, the first `CHOICES` by name (a select or a list of checkboxes
//! longer than that is no use).

use crate::{Db, FromRow, Result, Row};
use kindling_domain::AccountId;

pub const CHOICES: i64 = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub id: i64,
    pub name: String,
}

impl FromRow for Choice {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: row.int("id")?, name: row.text("name")? })
    }
}

/// The account's rows of `table`, by name (bytewise on both stores; a name may be unset).
pub(super) async fn by_name(db: &Db, account: AccountId, table: &str) -> Result<Vec<Choice>> {
    let name = db.dialect().bytewise("COALESCE(name, '')");
    let sql = format!(
        "SELECT id, COALESCE(name, '') AS name FROM {table} WHERE account_id = $1 ORDER BY {name}, id LIMIT $2"
    );
    db.fetch_all(&sql, &[account.into(), CHOICES.into()]).await
}

/// The account's merchants, by name.
pub async fn merchants(db: &Db, account: AccountId) -> Result<Vec<Choice>> {
    by_name(db, account, "merchants").await
}

/// The account's channels, by name.
pub async fn channels(db: &Db, account: AccountId) -> Result<Vec<Choice>> {
    by_name(db, account, "channels").await
}

/// The account's offers, by name.
pub async fn offers(db: &Db, account: AccountId) -> Result<Vec<Choice>> {
    by_name(db, account, "offers").await
}

/// The account's member lists, by name (a list's name may be unset).
pub async fn member_lists(db: &Db, account: AccountId) -> Result<Vec<Choice>> {
    by_name(db, account, "member_lists").await
}

/// The account's store lists, by name.
pub async fn store_lists(db: &Db, account: AccountId) -> Result<Vec<Choice>> {
    by_name(db, account, "store_lists").await
}

/// The account's item sets, by name: an offer's required and redemption sets.
pub async fn item_sets(db: &Db, account: AccountId) -> Result<Vec<Choice>> {
    by_name(db, account, "item_sets").await
}
