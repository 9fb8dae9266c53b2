//! Data for "where does an offer apply" questions; the rules themselves live in the domain
//! (`is_active`, `StoreRule::allows`).

use super::offer::{MERCHANTS, STORE_LISTS};
use crate::catalog::stores::Stores;
use crate::crud::Table;
use crate::link_set::untyped;
use crate::{query, Db, FromRow, Result, Row, Value};
use kindling_domain::catalog::store::Store;
use kindling_domain::offers::eligibility::StoreRule;
use kindling_domain::offers::offer::{is_active, Window};
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::{AccountId, OfferId, StoreId, Timestamp};
use sea_query::Expr;
use std::collections::HashMap;

struct OfferWindow {
    id: i64,
    status: OfferStatus,
    merchant_id: Option<i64>,
    window: Window,
}

impl FromRow for OfferWindow {
    fn from_row(row: &impl Row) -> Result<Self> {
        let id = row.int("id")?;
        let status = crate::db::decode("offer status", row.text("status")?, OfferStatus::parse)?;
        let merchant_id = row.opt_int("merchant_id")?;
        let window = Window {
            activates_at: row.opt_time("activates_at")?,
            expires_at: row.opt_time("expires_at")?,
            stop_offering_at: row.opt_time("stop_offering_at")?,
        };
        Ok(Self { id, status, merchant_id, window })
    }
}

/// A store's membership of a store list.
struct ListMember {
    store_id: i64,
    store_list_id: i64,
}

impl FromRow for ListMember {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { store_id: row.int("store_id")?, store_list_id: row.int("store_list_id")? })
    }
}

/// The store rules of the account's offers that are active at `now` (all of them, or the
/// one named by `only`), in id order.
pub async fn active_store_rules(
    db: &Db,
    account: AccountId,
    now: Timestamp,
    only: Option<OfferId>,
) -> Result<Vec<(OfferId, StoreRule)>> {
    let columns = "id, status, merchant_id, activates_at, expires_at, stop_offering_at";
    let statement = query::select_in_account(columns, "offers", account)
        .and_where(Expr::col("status").eq("approved"))
        .and_where_option(only.map(|id| Expr::col("id").eq(Value::from(id))))
        .to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    let offers: Vec<OfferWindow> = db.fetch_all(&sql, &params).await?;
    let active: Vec<OfferWindow> = offers.into_iter().filter(|o| is_active(o.status, &o.window, now)).collect();
    let ids: Vec<OfferId> = active.iter().map(|o| OfferId(o.id)).collect();
    let mut merchants = MERCHANTS.ids_for(db, account, &ids).await?;
    let mut lists = STORE_LISTS.ids_for(db, account, &ids).await?;
    Ok(active
        .into_iter()
        .map(|o| {
            let id = OfferId(o.id);
            let mut merchant_ids = untyped(merchants.remove(&id));
            merchant_ids.extend(o.merchant_id);
            (id, StoreRule { merchant_ids, store_list_ids: untyped(lists.remove(&id)) })
        })
        .collect())
}

/// The account's stores (optionally one), each with the store lists it belongs to.
pub async fn stores_with_lists(db: &Db, account: AccountId, only: Option<StoreId>) -> Result<Vec<(Store, Vec<i64>)>> {
    let statement = query::select_in_account(Stores::COLUMNS, "stores", account)
        .and_where_option(only.map(|id| Expr::col("id").eq(Value::from(id))))
        .to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    let stores: Vec<Store> = db.fetch_all(&sql, &params).await?;
    let pairs: Vec<ListMember> = db
        .fetch_all("SELECT store_id, store_list_id FROM store_list_stores WHERE account_id = $1", &[account.0.into()])
        .await?;
    let mut lists: HashMap<i64, Vec<i64>> = HashMap::new();
    for pair in pairs {
        lists.entry(pair.store_id).or_default().push(pair.store_list_id);
    }
    Ok(stores
        .into_iter()
        .map(|s| {
            let l = lists.remove(&s.id.0).unwrap_or_default();
            (s, l)
        })
        .collect())
}
