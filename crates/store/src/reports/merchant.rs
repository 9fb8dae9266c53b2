//! `GET /merchants/{id}/reports/full` and `GET /reports/account_level`: redemptions in a
//! window of redemption times, as rows and totals per merchant. Three statements in one read
//! snapshot (five when tickets are among the rows: the tickets and their lines): the rows,
//! counts grouped by (date, store, merchant, offer), and counts grouped by (merchant, member,
//! date); the report's maps are sums over those groups, its purchases sums over the rows'
//! tickets.

use super::midnight;
use super::redemptions::{rows, RedemptionRow, Scope, MERCHANT};
use crate::{Db, FromRow, Result, Row, Tx};
use kindling_domain::report::{RedemptionWindow, Span};
use kindling_domain::{AccountId, MerchantId};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::collections::BTreeMap;

/// One `merchant_report`: a merchant's redemptions (`merchant` `None`: those attributed to
/// no merchant, neither by store nor by offer).
#[derive(Debug, Clone, Default)]
pub struct MerchantReport {
    pub account: i64,
    pub merchant: Option<MerchantId>,
    pub rows: Vec<RedemptionRow>,
    pub total: i64,
    pub by_date: BTreeMap<String, i64>,
    pub by_location: BTreeMap<i64, i64>,
    pub by_merchant: BTreeMap<i64, i64>,
    pub by_offer: BTreeMap<i64, BTreeMap<String, i64>>,
    /// Distinct members per business date.
    pub customers_by_period: BTreeMap<String, i64>,
    /// How many members redeemed n times, by n.
    pub customer_frequency: BTreeMap<i64, i64>,
}

/// A count of redemptions per (date, store, merchant, offer).
struct Cell {
    business_date: String,
    store_id: Option<i64>,
    merchant_id: Option<i64>,
    offer_id: i64,
    count: i64,
}

impl FromRow for Cell {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            business_date: row.text("business_date")?,
            store_id: row.opt_int("store_id")?,
            merchant_id: row.opt_int("merchant_id")?,
            offer_id: row.int("offer_id")?,
            count: row.int("count")?,
        })
    }
}

/// A count of redemptions per (merchant, member, date).
struct Visit {
    merchant_id: Option<i64>,
    member_id: i64,
    business_date: String,
    count: i64,
}

impl FromRow for Visit {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            merchant_id: row.opt_int("merchant_id")?,
            member_id: row.int("member_id")?,
            business_date: row.text("business_date")?,
            count: row.int("count")?,
        })
    }
}

/// One report per merchant with redemptions in `span` (ascending ids, the unattributed last);
/// with `merchant`, exactly that merchant's report, empty when it has none.
pub async fn reports(
    db: &Db,
    account: AccountId,
    span: Span,
    merchant: Option<MerchantId>,
) -> Result<Vec<MerchantReport>> {
    let scope = Scope { window: RedemptionWindow::Redeemed(span), store_list: None, merchant };
    let mut tx = db.begin_read().await?;
    let (rows, cells, visits) = read(&mut tx, account, &scope).await?;
    drop(tx);
    let mut reports = Reports { account: account.0, by_merchant: BTreeMap::new() };
    if let Some(m) = merchant {
        reports.of(Some(m.0));
    }
    for cell in cells {
        let r = reports.of(cell.merchant_id);
        r.total += cell.count;
        *r.by_date.entry(cell.business_date.clone()).or_default() += cell.count;
        if let Some(store) = cell.store_id {
            *r.by_location.entry(store).or_default() += cell.count;
        }
        if let Some(m) = cell.merchant_id {
            *r.by_merchant.entry(m).or_default() += cell.count;
        }
        *r.by_offer.entry(cell.offer_id).or_default().entry(cell.business_date).or_default() += cell.count;
    }
    let mut per_member: BTreeMap<(Option<i64>, i64), i64> = BTreeMap::new();
    for visit in visits {
        *reports.of(visit.merchant_id).customers_by_period.entry(visit.business_date).or_default() += 1;
        *per_member.entry((visit.merchant_id, visit.member_id)).or_default() += visit.count;
    }
    for ((m, _), times) in per_member {
        *reports.of(m).customer_frequency.entry(times).or_default() += 1;
    }
    for row in rows {
        reports.of(row.merchant_id.map(|m| m.0)).rows.push(row);
    }
    Ok(reports.by_merchant.into_values().collect())
}

/// Reports by merchant, keyed so that merchants come by id and the unattributed last.
struct Reports {
    account: i64,
    by_merchant: BTreeMap<(bool, Option<i64>), MerchantReport>,
}

impl Reports {
    fn of(&mut self, m: Option<i64>) -> &mut MerchantReport {
        let account = self.account;
        let fresh = || MerchantReport { account, merchant: m.map(MerchantId), ..Default::default() };
        self.by_merchant.entry((m.is_none(), m)).or_insert_with(fresh)
    }
}

async fn read(tx: &mut Tx, account: AccountId, scope: &Scope) -> Result<(Vec<RedemptionRow>, Vec<Cell>, Vec<Visit>)> {
    let listed = rows(tx, account, scope).await?;
    let (from_where, params) = scope.sql_tail(account, "");
    let cells = format!(
        "SELECT r.business_date, r.store_id, {MERCHANT} AS merchant_id, r.offer_id, COUNT(*) AS count {from_where} \
         GROUP BY r.business_date, r.store_id, {MERCHANT}, r.offer_id"
    );
    let cells = tx.fetch_all(&cells, &params).await?;
    let visits = format!(
        "SELECT {MERCHANT} AS merchant_id, r.member_id, r.business_date, COUNT(*) AS count {from_where} \
         GROUP BY {MERCHANT}, r.member_id, r.business_date"
    );
    let visits = tx.fetch_all(&visits, &params).await?;
    Ok((listed, cells, visits))
}

/// The spec's `report_data` for one redemption: what Kindling does not record
/// (demographics, offer and channel groups, item groups, a check number) is null or `[]`, as
/// is the point-of-sale ticket's transaction, amounts and lines for a redemption made
/// without one.
struct ReportData<'a>(&'a RedemptionRow, i64);

impl Serialize for ReportData<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let (r, account) = (self.0, self.1);
        let none = None::<()>;
        let empty: [(); 0] = [];
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &r.id)?;
        map.serialize_entry("pos_transaction_id", &r.pos_transaction_id)?;
        map.serialize_entry("operator_id", &r.operator_id)?;
        map.serialize_entry("merchant_id", &r.merchant_id)?;
        map.serialize_entry("account_id", &account)?;
        map.serialize_entry("member_id", &r.member_id)?;
        map.serialize_entry("credential_identifier", &r.credential_identifier)?;
        map.serialize_entry("credential_id", &r.credential_id)?;
        map.serialize_entry("store_id", &r.store_id)?;
        map.serialize_entry("store_name", &r.store_name)?;
        map.serialize_entry("site_id", &r.site_id)?;
        map.serialize_entry("offer_id", &r.offer_id)?;
        for key in ["offer_group", "offer_group_id"] {
            map.serialize_entry(key, &none)?;
        }
        map.serialize_entry("offer_name", &r.offer_name)?;
        map.serialize_entry("channel_id", &r.channel_id)?;
        for key in ["channel_group_id", "channel_group_name"] {
            map.serialize_entry(key, &none)?;
        }
        map.serialize_entry("channel_name", &r.channel_name)?;
        map.serialize_entry("purchase_amount", &r.purchase_amount)?;
        map.serialize_entry("value", &r.value)?;
        map.serialize_entry("items", &empty)?;
        map.serialize_entry("transaction_items", &r.transaction_items)?;
        for key in ["item_groups", "redeemed_items", "impression_ids"] {
            map.serialize_entry(key, &empty)?;
        }
        map.serialize_entry("business_date", &midnight(&r.business_date))?;
        map.serialize_entry("redemption_datetime", &r.redeemed_at)?;
        for key in ["impression_datetime", "creative", "redemption_type"] {
            map.serialize_entry(key, &none)?;
        }
        map.serialize_entry("customer_identifier", &r.customer_identifier)?;
        for key in ["time_period", "day_period", "customer_age", "customer_frequency", "customer_gender"] {
            map.serialize_entry(key, &none)?;
        }
        map.serialize_entry("campaign_id", &r.campaign_xid)?;
        map.serialize_entry("campaign_name", &r.campaign_xid.as_ref().map(|_| &r.offer_name))?;
        map.serialize_entry("check_number", &none)?;
        map.serialize_entry("store_number", &r.store_number)?;
        for key in
            ["offer_activity_id", "qualifying_items", "external_offer_instance_id", "offer_state_id", "loyalty_id"]
        {
            map.serialize_entry(key, &none)?;
        }
        map.end()
    }
}

/// Tickets counted, their purchases (cents) and their items.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Sum {
    count: i64,
    amount: i64,
    items: i64,
}

impl Sum {
    fn add(&mut self, amount: i64, items: i64) {
        *self = Self { count: self.count + 1, amount: self.amount + amount, items: self.items + items };
    }

    /// The spec's `number`s; `count` is never 0 where these are read.
    fn average_purchase(&self) -> f64 {
        self.amount as f64 / self.count as f64
    }

    fn average_items(&self) -> f64 {
        self.items as f64 / self.count as f64
    }
}

/// Purchases and items of the point-of-sale tickets among a report's redemptions, each ticket
/// once however many of its redemptions the report has.
#[derive(Debug, Default, PartialEq)]
struct Tickets {
    all: Sum,
    /// By the ticket's store.
    by_location: BTreeMap<i64, Sum>,
    /// Amount by the merchant the ticket's redemptions are attributed to.
    amount_by_merchant: BTreeMap<i64, i64>,
}

impl Tickets {
    fn of(rows: &[RedemptionRow]) -> Self {
        let mut seen = std::collections::BTreeSet::new();
        let mut tickets = Self::default();
        for row in rows {
            let Some(ticket) = row.ticket else { continue };
            if !seen.insert(ticket) {
                continue;
            }
            let amount = row.purchase_amount.unwrap_or(0);
            let items: i64 = row.transaction_items.iter().map(|line| line.quantity).sum();
            tickets.all.add(amount, items);
            if let Some(store) = row.store_id {
                tickets.by_location.entry(store.0).or_default().add(amount, items);
            }
            if let Some(merchant) = row.merchant_id {
                *tickets.amount_by_merchant.entry(merchant.0).or_default() += amount;
            }
        }
        tickets
    }

    fn by_location<T: Serialize>(&self, f: fn(&Sum) -> T) -> BTreeMap<i64, T> {
        self.by_location.iter().map(|(store, sum)| (*store, f(sum))).collect()
    }
}

/// The spec's `merchant_report`. Purchase amounts and items are those of the point-of-sale
/// tickets among the redemptions (`Tickets`): with none, the scalars are null and their maps
/// empty. Demographics are not recorded (empty), nor is what `item_counts`' lists would
/// hold specified (empty). `redemptions_by_date` holds strings, as the spec types it; maps
/// by location, merchant and offer are keyed by id.
impl Serialize for MerchantReport {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let empty = BTreeMap::<(), ()>::new();
        let data: Vec<ReportData<'_>> = self.rows.iter().map(|r| ReportData(r, self.account)).collect();
        let by_date: BTreeMap<&String, String> = self.by_date.iter().map(|(d, n)| (d, n.to_string())).collect();
        let tickets = Tickets::of(&self.rows);
        let all = (tickets.all.count > 0).then_some(tickets.all);
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("data", &data)?;
        map.serialize_entry("total_redemptions", &self.total)?;
        map.serialize_entry("total_purchase_amount", &all.map(|t| t.amount))?;
        map.serialize_entry("average_purchase", &all.map(|t| t.average_purchase()))?;
        map.serialize_entry("average_items_per_transaction", &all.map(|t| t.average_items()))?;
        map.serialize_entry("redemptions_by_date", &by_date)?;
        map.serialize_entry("redemptions_by_location", &self.by_location)?;
        map.serialize_entry("total_purchase_amount_by_location", &tickets.by_location(|t| t.amount))?;
        map.serialize_entry("redemptions_by_merchant", &self.by_merchant)?;
        map.serialize_entry("total_purchase_amount_by_merchant", &tickets.amount_by_merchant)?;
        map.serialize_entry("redemptions_by_offer", &self.by_offer)?;
        map.serialize_entry("average_items_per_transaction_per_location", &tickets.by_location(Sum::average_items))?;
        map.serialize_entry("average_purchase_by_location", &tickets.by_location(Sum::average_purchase))?;
        map.serialize_entry("number_of_items", &all.map(|t| t.items))?;
        map.serialize_entry("item_counts", &empty)?;
        map.serialize_entry("customers_by_period", &self.customers_by_period)?;
        map.serialize_entry("customer_frequency", &self.customer_frequency)?;
        for key in ["customer_age_groups", "customer_genders"] {
            map.serialize_entry(key, &empty)?;
        }
        map.end()
    }
}
