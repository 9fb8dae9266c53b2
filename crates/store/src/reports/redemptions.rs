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
use std::collections::{BTreeMap, BTreeSet};

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
    /// The point-of-sale ticket it was made at, if any (Kindling's id of it).
    pub ticket: Option<i64>,
    /// The ticket's own id at the point of sale (`tran_id`).
    pub pos_transaction_id: Option<String>,
    pub operator_id: Option<String>,
    /// The ticket's lines as rung up, in cents.
    pub purchase_amount: Option<i64>,
    /// The discount this redemption gave at the ticket, in cents.
    pub value: Option<i64>,
    /// The ticket's lines (empty without a ticket).
    pub transaction_items: Vec<TicketLine>,
}

/// One line of a ticket, as the spec's `transaction_item`. Kindling keeps no transaction
/// type or item categories for a line: those are null.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketLine {
    pub ticket: i64,
    pub name: String,
    pub item_code: String,
    pub quantity: i64,
    /// The line's price as rung up, in cents.
    pub ext_price: i64,
}

impl FromRow for TicketLine {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            ticket: row.int("transaction_id")?,
            name: row.text("name")?,
            item_code: row.text("item_code")?,
            quantity: row.int("quantity")?,
            ext_price: row.int("ext_price")?,
        })
    }
}

impl Serialize for TicketLine {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(6))?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("item_code", &self.item_code)?;
        map.serialize_entry("quantity", &self.quantity)?;
        map.serialize_entry("ext_price", &self.ext_price)?;
        map.serialize_entry("transaction_type", &None::<()>)?;
        map.serialize_entry("extra_data", &None::<()>)?;
        map.end()
    }
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
            ticket: row.opt_int("ticket_id")?,
            // Filled from the ticket by `rows`.
            pos_transaction_id: None,
            operator_id: None,
            purchase_amount: None,
            value: row.opt_int("amount")?,
            transaction_items: Vec::new(),
        })
    }
}

/// The spec's `redemption`. A redemption made outside a point-of-sale ticket has no
/// transaction, operator, purchase amount or value (null) and no items (`[]`).
impl Serialize for RedemptionRow {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(21))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("pos_transaction_id", &self.pos_transaction_id)?;
        map.serialize_entry("pos_offer_code", &self.pos_offer_code)?;
        map.serialize_entry("operator_id", &self.operator_id)?;
        map.serialize_entry("member_id", &self.member_id)?;
        map.serialize_entry("credential_identifier", &self.credential_identifier)?;
        map.serialize_entry("store_name", &self.store_name)?;
        map.serialize_entry("store_number", &self.store_number)?;
        map.serialize_entry("store_id", &self.store_id)?;
        map.serialize_entry("offer_id", &self.offer_id)?;
        map.serialize_entry("offer_name", &self.offer_name)?;
        map.serialize_entry("channel_id", &self.channel_id)?;
        map.serialize_entry("channel_name", &self.channel_name)?;
        map.serialize_entry("purchase_amount", &self.purchase_amount)?;
        map.serialize_entry("value", &self.value)?;
        map.serialize_entry("transaction_items", &self.transaction_items)?;
        map.serialize_entry("business_date", &self.business_date)?;
        map.serialize_entry("redemption_datetime", &self.redeemed_at)?;
        map.serialize_entry("customer_identifier", &self.customer_identifier)?;
        map.serialize_entry("campaign_id", &self.campaign_xid)?;
        // A campaign is the offer on a channel and is named after the offer.
        map.serialize_entry("campaign_name", &self.campaign_xid.as_ref().map(|_| &self.offer_name))?;
        map.end()
    }
}

/// A point-of-sale ticket as a report row shows it.
struct TicketFacts {
    id: i64,
    tran_id: String,
    operator_id: Option<String>,
    subtotal: i64,
}

impl FromRow for TicketFacts {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            tran_id: row.text("tran_id")?,
            operator_id: row.opt_text("operator_id")?,
            subtotal: row.int("subtotal")?,
        })
    }
}

/// The scope's redemptions, oldest first, with their names, in one statement; when tickets
/// are among them, two more read those tickets and their lines. (Joining the tickets into
/// the first statement made its plan slower on PostgreSQL even with no ticket at all: 8.8
/// against 5.6 ms p50 for a 100-row window, docs/BENCHMARKS.md.)
pub async fn rows(exec: &mut impl Exec, account: AccountId, scope: &Scope) -> Result<Vec<RedemptionRow>> {
    let joins = "JOIN credentials c ON c.id = r.credential_id LEFT JOIN members m ON m.id = r.member_id \
        LEFT JOIN channels ch ON ch.id = r.channel_id \
        LEFT JOIN eligible_channels e ON e.offer_id = r.offer_id AND e.channel_id = r.channel_id";
    let (from_where, params) = scope.sql_tail(account, joins);
    let sql = format!(
        "SELECT r.id, r.credential_id, r.member_id, r.store_id, r.offer_id, r.channel_id, r.business_date, r.redeemed_at, \
         {MERCHANT} AS merchant_id, c.identifier AS credential_identifier, m.identifier AS customer_identifier, \
         s.name AS store_name, s.number AS store_number, s.site_id, o.name AS offer_name, \
         COALESCE(e.pos_offer_code, o.pos_offer_code) AS pos_offer_code, ch.name AS channel_name, e.xid AS campaign_xid, \
         r.transaction_id AS ticket_id, r.amount \
         {from_where} ORDER BY r.id"
    );
    let mut rows: Vec<RedemptionRow> = exec.fetch_all(&sql, &params).await?;
    let tickets: BTreeSet<i64> = rows.iter().filter_map(|r| r.ticket).collect();
    if tickets.is_empty() {
        return Ok(rows);
    }
    let tickets: Vec<i64> = tickets.into_iter().collect();
    let params = [account.into(), tickets.as_slice().into()];
    let sql = format!(
        "SELECT id, tran_id, operator_id, subtotal FROM pos_transactions WHERE account_id = $1 AND {}",
        exec.dialect().in_list_sql("id", 2)
    );
    let facts: BTreeMap<i64, TicketFacts> =
        exec.fetch_all::<TicketFacts>(&sql, &params).await?.into_iter().map(|t| (t.id, t)).collect();
    let sql = format!(
        "SELECT transaction_id, name, item_code, quantity, ext_price FROM pos_transaction_items \
         WHERE account_id = $1 AND {} ORDER BY transaction_id, id",
        exec.dialect().in_list_sql("transaction_id", 2)
    );
    let lines: Vec<TicketLine> = exec.fetch_all(&sql, &params).await?;
    let mut by_ticket: BTreeMap<i64, Vec<TicketLine>> = BTreeMap::new();
    for line in lines {
        by_ticket.entry(line.ticket).or_default().push(line);
    }
    for row in &mut rows {
        let Some(ticket) = row.ticket.and_then(|t| facts.get(&t)) else { continue };
        row.pos_transaction_id = Some(ticket.tran_id.clone());
        row.operator_id = ticket.operator_id.clone();
        row.purchase_amount = Some(ticket.subtotal);
        row.transaction_items = by_ticket.get(&ticket.id).cloned().unwrap_or_default();
    }
    Ok(rows)
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
