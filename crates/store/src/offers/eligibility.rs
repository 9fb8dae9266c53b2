//! Data for "where does an offer apply" questions. The rules live in the domain
//! (`is_active`, `StoreRule::allows`); store searches apply `StoreRule::allows` in SQL
//! (`offer_applies_at_store`), so that they read only the stores they return.

use super::offer::{MERCHANTS, STORE_LISTS};
use crate::catalog::stores::Stores;
use crate::crud::Paged;
use crate::crud::Table;
use crate::link_set::untyped;
use crate::{query, Db, Dialect, FromRow, Result, Row, Value};
use kindling_domain::catalog::store::Store;
use kindling_domain::offers::eligibility::StoreRule;
use kindling_domain::offers::geo::distance_meters;
use kindling_domain::offers::offer::{is_active, Window};
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::paging::PageRequest;
use kindling_domain::{AccountId, OfferId, StoreId, Timestamp};
use sea_query::Expr;

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

/// The account's offers that are active at `now` (all of them, or the one named by
/// `only`), in id order.
pub async fn active_offers(db: &Db, account: AccountId, now: Timestamp, only: Option<OfferId>) -> Result<Vec<OfferId>> {
    Ok(active_windows(db, account, now, only).await?.into_iter().map(|o| OfferId(o.id)).collect())
}

async fn active_windows(
    db: &Db,
    account: AccountId,
    now: Timestamp,
    only: Option<OfferId>,
) -> Result<Vec<OfferWindow>> {
    let columns = "id, status, merchant_id, activates_at, expires_at, stop_offering_at";
    let statement = query::select_in_account(columns, "offers", account)
        .and_where(Expr::col("status").eq("approved"))
        .and_where_option(only.map(|id| Expr::col("id").eq(Value::from(id))))
        .order_by("id", sea_query::Order::Asc)
        .to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    let offers: Vec<OfferWindow> = db.fetch_all(&sql, &params).await?;
    Ok(offers.into_iter().filter(|o| is_active(o.status, &o.window, now)).collect())
}

/// The store rules of the account's offers that are active at `now` (all of them, or the
/// one named by `only`), in id order.
pub async fn active_store_rules(
    db: &Db,
    account: AccountId,
    now: Timestamp,
    only: Option<OfferId>,
) -> Result<Vec<(OfferId, StoreRule)>> {
    let active = active_windows(db, account, now, only).await?;
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

/// One store of the account with the store lists it belongs to; `None` if the account has
/// no such store.
pub async fn store_with_lists(db: &Db, account: AccountId, id: StoreId) -> Result<Option<(Store, Vec<i64>)>> {
    let sql = format!("SELECT {} FROM stores WHERE account_id = $1 AND id = $2", Stores::COLUMNS);
    let Some(store) = db.fetch_optional::<Store>(&sql, &[account.0.into(), id.into()]).await? else {
        return Ok(None);
    };
    let lists: Vec<i64> = db
        .fetch_all(
            "SELECT store_list_id FROM store_list_stores WHERE account_id = $1 AND store_id = $2 ORDER BY store_list_id",
            &[account.0.into(), id.into()],
        )
        .await?;
    Ok(Some((store, lists)))
}

/// How a store search is ordered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StoreOrder {
    /// By name (byte order, as Rust compares strings), then id.
    Name,
    /// Nearest to the (lat, lng) point first, then by id; stores without coordinates last.
    Nearest((f64, f64)),
}

/// `StoreRule::allows` for store `s` and any of the offers listed at `$2`, as SQL, so that a
/// search reads only the stores it returns: the store's merchant is the offer's own or one
/// of its eligible merchants (or the offer names none), and the store is in one of the
/// offer's store lists (or the offer names none). `$1` is the account.
fn offer_applies_at_store(dialect: Dialect) -> String {
    format!(
        "EXISTS (SELECT 1 FROM offers o WHERE o.account_id = $1 AND {listed} \
           AND (o.merchant_id = s.merchant_id \
                OR EXISTS (SELECT 1 FROM offer_merchants om WHERE om.offer_id = o.id AND om.merchant_id = s.merchant_id) \
                OR (o.merchant_id IS NULL AND NOT EXISTS (SELECT 1 FROM offer_merchants om WHERE om.offer_id = o.id))) \
           AND (NOT EXISTS (SELECT 1 FROM offer_store_lists ol WHERE ol.offer_id = o.id) \
                OR EXISTS (SELECT 1 FROM offer_store_lists ol \
                           JOIN store_list_stores ls ON ls.store_list_id = ol.store_list_id \
                           WHERE ol.offer_id = o.id AND ls.store_id = s.id)))",
        listed = dialect.in_list_sql("o.id", 2)
    )
}

/// A store's id and coordinates, all a distance order needs.
struct Located {
    id: StoreId,
    lat: Option<f64>,
    lng: Option<f64>,
}

impl FromRow for Located {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: StoreId(row.int("id")?), lat: row.opt_float("lat")?, lng: row.opt_float("lng")? })
    }
}

/// One page of the account's stores where at least one of `offers` applies, with the count
/// across pages. The filter runs in SQL, so only matching stores are read. By name, the
/// page is cut in SQL too; by distance, SQL returns the matching stores' coordinates (SQLite
/// has no trigonometry), the order is computed here, and only the page's rows are loaded.
pub async fn stores_for_offers(
    db: &Db,
    account: AccountId,
    offers: &[OfferId],
    order: StoreOrder,
    page: PageRequest,
) -> Result<Paged<Store>> {
    if offers.is_empty() {
        return Ok(Paged { items: Vec::new(), total_entries: 0, page });
    }
    let dialect = db.dialect();
    let from = format!("stores s WHERE s.account_id = $1 AND {}", offer_applies_at_store(dialect));
    let params: Vec<Value> = vec![account.0.into(), offers.into()];
    match order {
        StoreOrder::Name => {
            let total_entries =
                db.fetch_optional::<i64>(&format!("SELECT COUNT(*) FROM {from}"), &params).await?.unwrap_or(0);
            // PostgreSQL would otherwise sort by the database's locale.
            let name = dialect.bytewise("s.name");
            let columns = Stores::COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT {columns} FROM {from} ORDER BY {name}, s.id LIMIT $3 OFFSET $4");
            let mut params = params;
            params.extend([page.limit().into(), page.offset().into()]);
            Ok(Paged { items: db.fetch_all(&sql, &params).await?, total_entries, page })
        }
        StoreOrder::Nearest(origin) => {
            let mut located: Vec<Located> =
                db.fetch_all(&format!("SELECT s.id, s.lat, s.lng FROM {from}"), &params).await?;
            let distance = |l: &Located| match (l.lat, l.lng) {
                (Some(lat), Some(lng)) => distance_meters(origin, (lat, lng)),
                _ => i64::MAX,
            };
            located.sort_by_cached_key(|l| (distance(l), l.id.0));
            let total_entries = located.len() as i64;
            let ids: Vec<StoreId> =
                located.iter().skip(page.offset() as usize).take(page.per_page as usize).map(|l| l.id).collect();
            if ids.is_empty() {
                return Ok(Paged { items: Vec::new(), total_entries, page });
            }
            let sql = format!(
                "SELECT {} FROM stores WHERE account_id = $1 AND {}",
                Stores::COLUMNS,
                dialect.in_list_sql("id", 2)
            );
            let mut rows: Vec<Store> = db.fetch_all(&sql, &[account.0.into(), ids.as_slice().into()]).await?;
            rows.sort_by_key(|s| ids.iter().position(|id| *id == s.id));
            Ok(Paged { items: rows, total_entries, page })
        }
    }
}
