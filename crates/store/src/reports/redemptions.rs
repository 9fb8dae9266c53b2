//! `GET /reports/redemptions`, and the redemption rows and filters the merchant reports
//! share: live (not voided) redemptions in a window of business dates or redemption times,
//! optionally at a store list's stores or attributed to one merchant.

use crate::{Exec, FromRow, Result, Row, Value};
use kindling_domain::report::{RedemptionWindow, Span};
use kindling_domain::{
    AccountId, ChannelId, CredentialId, MemberId, MerchantId, OfferId, StoreId, StoreListId, Timestamp,
};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// Which redemptions a report reads.
#[derive(Debug, Clone)]
pub struct Scope {
    pub window: RedemptionWindow,
    pub store_list: Option<StoreListId>,
    /// A redemption belongs to its store's merchant, or (without a store) to its offer's.
    pub merchant: Option<MerchantId>,
}

impl Scope {
    /// The window's column (one of two fixed names) and its bounds.
    fn window(&self) -> (&'static str, Value, Value) {
        match &self.window {
            RedemptionWindow::Business(dates) => ("r.business_date", dates.from_text().into(), dates.to_text().into()),
            RedemptionWindow::Redeemed(Span { from, to }) => ("r.redeemed_at", from.unix().into(), to.unix().into()),
        }
    }

    /// `FROM` (with `joins` for the names a statement shows) and `WHERE` of every
    /// statement over the scope, with its parameters ($1–$5).
    pub(super) fn sql_tail(&self, account: AccountId, joins: &str) -> (String, Vec<Value>) {
        let (column, from, to) = self.window();
        let sql = format!(
            "FROM redemptions r JOIN offers o ON o.id = r.offer_id LEFT JOIN stores s ON s.id = r.store_id {joins} \
             WHERE r.account_id = $1 AND r.voided_at IS NULL AND {column} >= $2 AND {column} <= $3 \
             AND ($4 IS NULL OR r.store_id IN (SELECT store_id FROM store_list_stores WHERE store_list_id = $4)) \
             AND ($5 IS NULL OR {MERCHANT} = $5)"
        );
        (sql, vec![account.into(), from, to, self.store_list.into(), self.merchant.into()])
    }
}

/// The merchant a redemption is attributed to.
pub(super) const MERCHANT: &str = "COALESCE(s.merchant_id, o.merchant_id)";

/// One redemption with the names reports show.
#[derive(Debug, Clone, PartialEq)]
pub struct RedemptionRow {
    pub id: i64,
    pub credential_id: CredentialId,
    pub credential_identifier: Option<String>,
    pub member_id: MemberId,
    pub customer_identifier: Option<String>,
    pub store_id: Option<StoreId>,
    pub store_name: Option<String>,
    pub store_number: Option<String>,
    pub site_id: Option<String>,
    pub merchant_id: Option<MerchantId>,
    pub offer_id: OfferId,
    pub offer_name: String,
    pub pos_offer_code: Option<String>,
    pub channel_id: ChannelId,
    pub channel_name: Option<String>,
    pub campaign_xid: Option<String>,
    pub business_date: String,
    pub redeemed_at: Timestamp,
}

impl FromRow for RedemptionRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            credential_id: CredentialId(row.int("credential_id")?),
            credential_identifier: row.opt_text("credential_identifier")?,
            member_id: MemberId(row.int("member_id")?),
            customer_identifier: row.opt_text("customer_identifier")?,
            store_id: row.opt_int("store_id")?.map(StoreId),
            store_name: row.opt_text("store_name")?,
            store_number: row.opt_text("store_number")?,
            site_id: row.opt_text("site_id")?,
            merchant_id: row.opt_int("merchant_id")?.map(MerchantId),
            offer_id: OfferId(row.int("offer_id")?),
            offer_name: row.text("offer_name")?,
            pos_offer_code: row.opt_text("pos_offer_code")?,
            channel_id: ChannelId(row.int("channel_id")?),
            channel_name: row.opt_text("channel_name")?,
            campaign_xid: row.opt_text("campaign_xid")?,
            business_date: row.text("business_date")?,
            redeemed_at: row.time("redeemed_at")?,
        })
    }
}

/// The spec's `redemption`. The point-of-sale ticket a redemption was made at is not read
/// yet: its transaction, operator, purchase amount, value and items are null (items `[]`).
impl Serialize for RedemptionRow {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(21))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("pos_transaction_id", &None::<()>)?;
        map.serialize_entry("pos_offer_code", &self.pos_offer_code)?;
        map.serialize_entry("operator_id", &None::<()>)?;
        map.serialize_entry("member_id", &self.member_id)?;
        map.serialize_entry("credential_identifier", &self.credential_identifier)?;
        map.serialize_entry("store_name", &self.store_name)?;
        map.serialize_entry("store_number", &self.store_number)?;
        map.serialize_entry("store_id", &self.store_id)?;
        map.serialize_entry("offer_id", &self.offer_id)?;
        map.serialize_entry("offer_name", &self.offer_name)?;
        map.serialize_entry("channel_id", &self.channel_id)?;
        map.serialize_entry("channel_name", &self.channel_name)?;
        map.serialize_entry("purchase_amount", &None::<()>)?;
        map.serialize_entry("value", &None::<()>)?;
        map.serialize_entry("transaction_items", &[(); 0])?;
        map.serialize_entry("business_date", &self.business_date)?;
        map.serialize_entry("redemption_datetime", &self.redeemed_at)?;
        map.serialize_entry("customer_identifier", &self.customer_identifier)?;
        map.serialize_entry("campaign_id", &self.campaign_xid)?;
        // A campaign is the offer on a channel and is named after the offer.
        map.serialize_entry("campaign_name", &self.campaign_xid.as_ref().map(|_| &self.offer_name))?;
        map.end()
    }
}

/// The scope's redemptions, oldest first, with their names, in one statement.
pub async fn rows(exec: &mut impl Exec, account: AccountId, scope: &Scope) -> Result<Vec<RedemptionRow>> {
    let joins = "JOIN credentials c ON c.id = r.credential_id LEFT JOIN members m ON m.id = r.member_id \
        LEFT JOIN channels ch ON ch.id = r.channel_id \
        LEFT JOIN eligible_channels e ON e.offer_id = r.offer_id AND e.channel_id = r.channel_id";
    let (from_where, params) = scope.sql_tail(account, joins);
    let sql = format!(
        "SELECT r.id, r.credential_id, r.member_id, r.store_id, r.offer_id, r.channel_id, r.business_date, r.redeemed_at, \
         {MERCHANT} AS merchant_id, c.identifier AS credential_identifier, m.identifier AS customer_identifier, \
         s.name AS store_name, s.number AS store_number, s.site_id, o.name AS offer_name, \
         COALESCE(e.pos_offer_code, o.pos_offer_code) AS pos_offer_code, ch.name AS channel_name, e.xid AS campaign_xid \
         {from_where} ORDER BY r.id"
    );
    exec.fetch_all(&sql, &params).await
}

/// How many of the scope's redemptions each offer has on each business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferDayCount {
    pub business_date: String,
    pub offer_id: OfferId,
    pub offer_name: String,
    pub count: i64,
}

impl FromRow for OfferDayCount {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            business_date: row.text("business_date")?,
            offer_id: OfferId(row.int("offer_id")?),
            offer_name: row.text("offer_name")?,
            count: row.int("n")?,
        })
    }
}

/// The scope's redemptions (those `rows` reads) counted by business date and offer, in SQL.
pub async fn counts(exec: &mut impl Exec, account: AccountId, scope: &Scope) -> Result<Vec<OfferDayCount>> {
    let (from_where, params) = scope.sql_tail(account, "");
    let sql = format!(
        "SELECT r.business_date, r.offer_id, o.name AS offer_name, COUNT(*) AS n {from_where} \
         GROUP BY r.business_date, r.offer_id, o.name ORDER BY r.business_date, r.offer_id"
    );
    exec.fetch_all(&sql, &params).await
}
