//! What the catalog pages (stores, store lists, manufacturers, items, item sets) show besides
//! the records `crud` lists: owners' names for a page of records (one statement per kind of
//! owner, whatever the page's length), and the choices of their forms (the first
//! `choices::CHOICES` by name).

use super::choices::{Choice, CHOICES};
use crate::{query, Db, Result};
use kindling_domain::{AccountId, ManufacturerId, MerchantId};
use std::collections::HashMap;

/// Names by id of the listed rows of `table` (merchants, manufacturers, item sets) in the account:
/// one statement, even for no ids, so a page's count of statements never depends on its rows.
async fn names(db: &Db, account: AccountId, table: &'static str, ids: Vec<i64>) -> Result<HashMap<i64, String>> {
    let statement = query::select_listed("id, name", table, account, db.dialect(), "id", ids.as_slice());
    let (sql, params) = query::build(&statement, db.dialect())?;
    let rows: Vec<Choice> = db.fetch_all(&sql, &params).await?;
    Ok(rows.into_iter().map(|c| (c.id, c.name)).collect())
}

fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The names of these merchants of the account.
pub async fn merchant_names(
    db: &Db,
    account: AccountId,
    ids: impl Iterator<Item = MerchantId>,
) -> Result<HashMap<i64, String>> {
    names(db, account, "merchants", distinct(ids.map(|id| id.0))).await
}

/// The names of these manufacturers of the account.
pub async fn manufacturer_names(
    db: &Db,
    account: AccountId,
    ids: impl Iterator<Item = ManufacturerId>,
) -> Result<HashMap<i64, String>> {
    names(db, account, "manufacturers", distinct(ids.map(|id| id.0))).await
}

/// The names of these item sets of the account (an offer's required and redemption sets).
pub async fn item_set_names(
    db: &Db,
    account: AccountId,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    names(db, account, "item_sets", distinct(ids)).await
}

/// The account's manufacturers, by name.
pub async fn manufacturers(db: &Db, account: AccountId) -> Result<Vec<Choice>> {
    super::choices::by_name(db, account, "manufacturers").await
}

/// A merchant's stores, by name: what a store list of that merchant may hold.
pub async fn stores_of(db: &Db, account: AccountId, merchant: MerchantId) -> Result<Vec<Choice>> {
    let sql = format!(
        "SELECT id, name FROM stores WHERE account_id = $1 AND merchant_id = $2 ORDER BY {}, id LIMIT $3",
        db.dialect().bytewise("name")
    );
    db.fetch_all(&sql, &[account.into(), merchant.into(), CHOICES.into()]).await
}

/// The items an item set of this owner may hold (the link set's `same_owner` rule: a
/// merchant's set takes that merchant's items, a manufacturer's that manufacturer's, a set of
/// neither any item of the account), by name, each named with its code.
pub async fn items_for(
    db: &Db,
    account: AccountId,
    merchant: Option<MerchantId>,
    manufacturer: Option<ManufacturerId>,
) -> Result<Vec<Choice>> {
    // The owner's column, if any, as a second condition (no NULL parameters to type).
    let (owner, id) = match (merchant, manufacturer) {
        (Some(m), _) => (" AND merchant_id = $3", Some(m.0)),
        (None, Some(m)) => (" AND manufacturer_id = $3", Some(m.0)),
        (None, None) => ("", None),
    };
    let sql = format!(
        "SELECT id, name || ' (' || code || ')' AS name FROM items WHERE account_id = $1{owner} \
         ORDER BY {}, {}, id LIMIT $2",
        db.dialect().bytewise("items.name"),
        db.dialect().bytewise("items.code")
    );
    let mut params = vec![account.into(), CHOICES.into()];
    params.extend(id.map(Into::into));
    db.fetch_all(&sql, &params).await
}
