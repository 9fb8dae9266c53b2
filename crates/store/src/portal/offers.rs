//! The offers page: one page of an account's offers, newest first, filtered by a name
//! search and a status, with each offer's live redemptions. Three statements per page
//! whatever its length (the page, its count, the page's redemption counts).

use crate::{query, Db, FromRow, Result, Row, Value};
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::{AccountId, OfferId, Timestamp};
use sea_query::{Alias, Condition, Expr, Order, Query, SelectStatement};

/// Offers a page shows.
pub const PER_PAGE: i64 = 50;

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Part of the name, any case.
    pub name: Option<String>,
    pub status: Option<OfferStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfferRow {
    pub id: OfferId,
    pub name: String,
    pub status: OfferStatus,
    pub activates_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    /// Redemptions not voided (the offer's counter is kept only when it has a limit).
    pub redemptions: i64,
}

impl FromRow for OfferRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: OfferId(row.int("id")?),
            name: row.text("name")?,
            status: crate::db::decode("offer status", row.text("status")?, OfferStatus::parse)?,
            activates_at: row.opt_time("activates_at")?,
            expires_at: row.opt_time("expires_at")?,
            redemptions: 0,
        })
    }
}

struct Counted {
    offer_id: OfferId,
    count: i64,
}

impl FromRow for Counted {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { offer_id: OfferId(row.int("offer_id")?), count: row.int("count")? })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfferPage {
    pub offers: Vec<OfferRow>,
    pub total: i64,
    /// 1-based.
    pub page: i64,
}

impl OfferPage {
    pub fn pages(&self) -> i64 {
        ((self.total + PER_PAGE - 1) / PER_PAGE).max(1)
    }
}

fn select(account: AccountId, filter: &Filter) -> SelectStatement {
    let mut condition = Condition::all().add(query::in_account(None, account));
    if let Some(name) = filter.name.as_deref().filter(|n| !n.trim().is_empty()) {
        condition = condition.add(query::contains(Alias::new("name"), name.trim()));
    }
    if let Some(status) = filter.status {
        condition = condition.add(Expr::col(Alias::new("status")).eq(status.as_str()));
    }
    Query::select().from(Alias::new("offers")).cond_where(condition).to_owned()
}

/// Page `page` (1-based; past the last it is empty) of the account's offers.
pub async fn page(db: &Db, account: AccountId, filter: &Filter, page: i64) -> Result<OfferPage> {
    let page = page.clamp(1, i64::MAX / PER_PAGE);
    let mut tx = db.begin_read().await?;
    let count = select(account, filter).expr_as(Expr::cust("COUNT(*)"), Alias::new("count")).to_owned();
    let (sql, params) = query::build(&count, tx.dialect())?;
    let total = tx.fetch_optional::<i64>(&sql, &params).await?.unwrap_or(0);
    let listed = select(account, filter)
        .expr(Expr::cust("id, name, status, activates_at, expires_at"))
        .order_by(Alias::new("id"), Order::Desc)
        .limit(PER_PAGE as u64)
        .offset(((page - 1) * PER_PAGE) as u64)
        .to_owned();
    let (sql, params) = query::build(&listed, tx.dialect())?;
    let mut offers: Vec<OfferRow> = tx.fetch_all(&sql, &params).await?;
    if !offers.is_empty() {
        let ids: Vec<OfferId> = offers.iter().map(|o| o.id).collect();
        let sql = format!(
            "SELECT offer_id, COUNT(*) AS count FROM redemptions WHERE account_id = $1 AND voided_at IS NULL \
             AND {} GROUP BY offer_id",
            tx.dialect().in_list_sql("offer_id", 2)
        );
        let counted: Vec<Counted> = tx.fetch_all(&sql, &[account.into(), Value::from(&ids[..])]).await?;
        for offer in &mut offers {
            offer.redemptions = counted.iter().find(|c| c.offer_id == offer.id).map_or(0, |c| c.count);
        }
    }
    tx.commit().await?;
    Ok(OfferPage { offers, total, page })
}
