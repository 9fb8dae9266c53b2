//! The dashboard's figures, each one aggregate statement over an index, in one read
//! snapshot: a fixed number of statements whatever the account's size.

use crate::{Db, FromRow, Result, Row};
use kindling_domain::time::recent_days;
use kindling_domain::{AccountId, Timestamp};

/// Days the chart and the "last 30 days" figures cover, today included.
pub const DAYS: u32 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    /// The account's time zone the days are counted in (`None`: UTC).
    pub time_zone: Option<String>,
    /// Approved offers inside their dates (`offers::offer::is_active`).
    pub active_offers: i64,
    pub issued_today: i64,
    pub issued_30_days: i64,
    pub redeemed_today: i64,
    pub redeemed_30_days: i64,
    /// Codes redeemed on each of the last 30 days (business dates), oldest first.
    pub per_day: Vec<(String, i64)>,
    /// The account's callbacks waiting to be delivered.
    pub pending_callbacks: i64,
}

struct DayCount {
    day: String,
    count: i64,
}

impl FromRow for DayCount {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { day: row.text("day")?, count: row.int("count")? })
    }
}

struct Zone(Option<String>);

impl FromRow for Zone {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self(row.opt_text("time_zone")?))
    }
}

struct Issued {
    today: i64,
    total: i64,
}

impl FromRow for Issued {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { today: row.opt_int("today")?.unwrap_or(0), total: row.int("total")? })
    }
}

/// The dashboard of `account` at `now`. Days are the account's (`time_zone`), as the
/// redemptions' business dates are; a redemption that was voided is not counted.
pub async fn dashboard(db: &Db, account: AccountId, now: Timestamp) -> Result<Option<Dashboard>> {
    let mut tx = db.begin_read().await?;
    let zone: Option<Zone> =
        tx.fetch_optional("SELECT time_zone FROM accounts WHERE id = $1", &[account.into()]).await?;
    let Some(Zone(time_zone)) = zone else { return Ok(None) };
    let days = recent_days(now, time_zone.as_deref(), DAYS);
    let (first_day, first_start) = days.first().cloned().unwrap_or_else(|| (String::new(), now));
    let (today, today_start) = days.last().cloned().unwrap_or_else(|| (String::new(), now));
    let active_offers: i64 = tx
        .fetch_optional(
            "SELECT COUNT(*) AS count FROM offers WHERE account_id = $1 AND status = 'approved' \
             AND (activates_at IS NULL OR activates_at <= $2) AND (expires_at IS NULL OR expires_at > $2)",
            &[account.into(), now.unix().into()],
        )
        .await?
        .unwrap_or(0);
    let issued: Option<Issued> = tx
        .fetch_optional(
            "SELECT COUNT(*) AS total, SUM(CASE WHEN created_at >= $3 THEN 1 ELSE 0 END) AS today \
             FROM credentials WHERE account_id = $1 AND created_at >= $2",
            &[account.into(), first_start.unix().into(), today_start.unix().into()],
        )
        .await?;
    // A code redeemed for two offers is two redemption rows: count codes, not rows.
    let per_day: Vec<DayCount> = tx
        .fetch_all(
            "SELECT business_date AS day, COUNT(DISTINCT credential_id) AS count FROM redemptions \
             WHERE account_id = $1 AND business_date >= $2 AND business_date <= $3 AND voided_at IS NULL \
             GROUP BY business_date",
            &[account.into(), first_day.clone().into(), today.clone().into()],
        )
        .await?;
    let redeemed_30_days: i64 = tx
        .fetch_optional(
            "SELECT COUNT(DISTINCT credential_id) AS count FROM redemptions \
             WHERE account_id = $1 AND business_date >= $2 AND business_date <= $3 AND voided_at IS NULL",
            &[account.into(), first_day.clone().into(), today.clone().into()],
        )
        .await?
        .unwrap_or(0);
    let pending_callbacks: i64 = tx
        .fetch_optional(
            "SELECT COUNT(*) AS count FROM callback_outbox \
             WHERE account_id = $1 AND delivered_at IS NULL AND failed_at IS NULL",
            &[account.into()],
        )
        .await?
        .unwrap_or(0);
    tx.commit().await?;
    let count_on = |day: &str| per_day.iter().find(|c| c.day == day).map_or(0, |c| c.count);
    let issued = issued.unwrap_or(Issued { today: 0, total: 0 });
    Ok(Some(Dashboard {
        time_zone,
        active_offers,
        issued_today: issued.today,
        issued_30_days: issued.total,
        redeemed_today: count_on(&today),
        redeemed_30_days,
        per_day: days.iter().map(|(day, _)| (day.clone(), count_on(day))).collect(),
        pending_callbacks,
    }))
}
