//! `GET /merchants/{id}/reports/impressions`: unique visitors (distinct `cookie_id`) of the
//! merchant's offers, per offer and day and over the whole window.

use super::{day_label, time_zone};
use crate::{Db, FromRow, Result, Row};
use kindling_domain::report::{utc_offset, Span};
use kindling_domain::{AccountId, MerchantId};
use serde::Serialize;

/// The impressions of the merchant's offers (owned by it or eligible at it) in the window,
/// through the offer×channel each impression's xid names.
const FROM_WHERE: &str = "FROM impressions i \
    JOIN eligible_channels e ON e.xid = i.offer_xid AND e.account_id = i.account_id \
    JOIN offers o ON o.id = e.offer_id \
    WHERE i.account_id = $1 AND i.created_at >= $2 AND i.created_at <= $3 \
    AND (o.merchant_id = $4 OR o.id IN (SELECT offer_id FROM offer_merchants WHERE merchant_id = $4))";

struct Uniques {
    offer_id: i64,
    offer_name: String,
    day: Option<i64>,
    uniques: i64,
}

impl FromRow for Uniques {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            offer_id: row.int("offer_id")?,
            offer_name: row.text("offer_name")?,
            day: row.opt_int("day")?,
            uniques: row.int("uniques")?,
        })
    }
}

/// The spec's `impressions_report`: one series per offer (ascending ids), `name` the offer's
/// name and `value` its unique visitors in the window; `data_items[i]` holds series i's days
/// as `[date, unique visitors]` pairs (days with none are left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImpressionsReport {
    pub data_items: Vec<Vec<[String; 2]>>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub name: String,
    pub value: String,
}

/// Two statements: distinct visitors per offer and local day, and per offer. Days are the
/// account's, at its UTC offset at the window's start.
pub async fn report(db: &Db, account: AccountId, merchant: MerchantId, span: Span) -> Result<ImpressionsReport> {
    let zone = time_zone(&mut crate::Reader(db), account).await?;
    let offset = utc_offset(span.from, zone.as_deref());
    let params = [account.into(), span.from.unix().into(), span.to.unix().into(), merchant.into(), offset.into()];
    let daily = format!(
        "SELECT offer_id, offer_name, day, COUNT(DISTINCT cookie_id) AS uniques FROM \
         (SELECT e.offer_id, o.name AS offer_name, (i.created_at + $5) / 86400 AS day, i.cookie_id {FROM_WHERE}) t \
         GROUP BY offer_id, offer_name, day ORDER BY offer_id, day"
    );
    let daily: Vec<Uniques> = db.fetch_all(&daily, &params).await?;
    let totals = format!(
        "SELECT e.offer_id, o.name AS offer_name, CAST(NULL AS BIGINT) AS day, COUNT(DISTINCT i.cookie_id) AS uniques {FROM_WHERE} \
         GROUP BY e.offer_id, o.name ORDER BY e.offer_id"
    );
    let totals: Vec<Uniques> = db.fetch_all(&totals, &params[..4]).await?;
    let mut report = ImpressionsReport::default();
    for total in totals {
        let days = daily.iter().filter(|d| d.offer_id == total.offer_id);
        report.data_items.push(days.map(|d| [day_label(d.day.unwrap_or(0)), d.uniques.to_string()]).collect());
        report.series.push(Series { name: total.offer_name, value: total.uniques.to_string() });
    }
    Ok(report)
}
