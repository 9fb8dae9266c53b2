//! `GET /merchants/{id}/reports/full` and `GET /reports/account_level`: redemptions in a
//! window of redemption times, as rows and totals per merchant. Three statements in one read
//! snapshot: the rows, counts grouped by (date, store, merchant, offer), and counts grouped by
//! (merchant, member, date); the report's maps are sums over those groups.

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
/// (demographics, offer and channel groups) or does not read here yet (the point-of-sale
/// ticket's transaction, amounts and items) is null or `[]`.
struct ReportData<'a>(&'a RedemptionRow, i64);

impl Serialize for ReportData<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let (r, account) = (self.0, self.1);
        let none = None::<()>;
        let empty: [(); 0] = [];
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &r.id)?;
        map.serialize_entry("pos_transaction_id", &none)?;
        map.serialize_entry("operator_id", &none)?;
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
        for key in ["purchase_amount", "value"] {
            map.serialize_entry(key, &none)?;
        }
        for key in ["items", "transaction_items", "item_groups", "redeemed_items", "impression_ids"] {
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

/// The spec's `merchant_report`. Amounts, items and demographics are not recorded: the
/// scalars are null and their maps empty. `redemptions_by_date` holds strings, as the spec
/// types it; maps by location, merchant and offer are keyed by id.
impl Serialize for MerchantReport {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let none = None::<()>;
        let empty = BTreeMap::<(), ()>::new();
        let data: Vec<ReportData<'_>> = self.rows.iter().map(|r| ReportData(r, self.account)).collect();
        let by_date: BTreeMap<&String, String> = self.by_date.iter().map(|(d, n)| (d, n.to_string())).collect();
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("data", &data)?;
        map.serialize_entry("total_redemptions", &self.total)?;
        for key in ["total_purchase_amount", "average_purchase", "average_items_per_transaction"] {
            map.serialize_entry(key, &none)?;
        }
        map.serialize_entry("redemptions_by_date", &by_date)?;
        map.serialize_entry("redemptions_by_location", &self.by_location)?;
        map.serialize_entry("total_purchase_amount_by_location", &empty)?;
        map.serialize_entry("redemptions_by_merchant", &self.by_merchant)?;
        map.serialize_entry("total_purchase_amount_by_merchant", &empty)?;
        map.serialize_entry("redemptions_by_offer", &self.by_offer)?;
        for key in ["average_items_per_transaction_per_location", "average_purchase_by_location"] {
            map.serialize_entry(key, &empty)?;
        }
        map.serialize_entry("number_of_items", &none)?;
        map.serialize_entry("item_counts", &empty)?;
        map.serialize_entry("customers_by_period", &self.customers_by_period)?;
        map.serialize_entry("customer_frequency", &self.customer_frequency)?;
        for key in ["customer_age_groups", "customer_genders"] {
            map.serialize_entry(key, &empty)?;
        }
        map.end()
    }
}
