//! `GET /reports/offer_activity`: the account's offer activities on one channel in a window
//! of reported or processed time (business dates become the account's local days). The
//! portal's reports page reads the same report over every channel.

use super::{midnight, time_zone};
use crate::query::build;
use crate::{Db, FromRow, Reader, Result, Row, Value};
use kindling_domain::credentials::ActivityType;
use kindling_domain::report::{ActivityWindow, Span};
use kindling_domain::time::business_date;
use kindling_domain::{AccountId, ChannelId, OfferActivityId, OfferId, Timestamp};
use sea_query::{Alias, Expr, JoinType, Order, Query, SelectStatement};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// What the report is filtered on. The API always names a channel (the spec answers 400
/// without one); `None` (every channel) is the portal's reports page.
#[derive(Debug, Clone)]
pub struct ActivityQuery {
    pub window: ActivityWindow,
    pub channel: Option<ChannelId>,
    pub offer: Option<OfferId>,
    /// `Some(None)`: a type the spec lists that Kindling never records, so nothing matches.
    pub kind: Option<Option<ActivityType>>,
    pub campaign_xid: Option<String>,
    pub credential_identifier: Option<String>,
}

/// One `offer_activity_report`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRow {
    pub id: OfferActivityId,
    pub credential_identifier: Option<String>,
    pub reported_at: Timestamp,
    pub processed_at: Option<Timestamp>,
    /// The account's local date of `reported_at`.
    pub business_date: String,
    pub kind: Option<ActivityType>,
    pub offer_id: OfferId,
    pub channel_id: ChannelId,
    pub member: Option<(i64, String)>,
}

impl FromRow for ActivityRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        let member = match (row.opt_int("member_id")?, row.opt_text("member_identifier")?) {
            (Some(id), Some(identifier)) => Some((id, identifier)),
            _ => None,
        };
        Ok(Self {
            id: OfferActivityId(row.int("id")?),
            credential_identifier: row.opt_text("credential_identifier")?,
            reported_at: row.time("reported_at")?,
            processed_at: row.opt_time("processed_at")?,
            business_date: String::new(),
            kind: ActivityType::from_code(row.int("activity_type")?),
            offer_id: OfferId(row.int("offer_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            member,
        })
    }
}

impl Serialize for ActivityRow {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(10))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("credential_identifier", &self.credential_identifier)?;
        map.serialize_entry("reported_at", &self.reported_at)?;
        map.serialize_entry("processed_at", &self.processed_at)?;
        map.serialize_entry("business_date", &midnight(&self.business_date))?;
        map.serialize_entry("type", &self.kind.map(ActivityType::name))?;
        map.serialize_entry("offer_id", &self.offer_id)?;
        map.serialize_entry("channel_id", &self.channel_id)?;
        // `member_info.id` is a string in the spec.
        let member = self
            .member
            .as_ref()
            .map(|(id, identifier)| serde_json::json!({"id": id.to_string(), "identifier": identifier}));
        map.serialize_entry("member", &member)?;
        // Credential activities belong to no saved offer state.
        map.serialize_entry("offer_state", &None::<()>)?;
        map.end()
    }
}

/// The channel named `name` in the account (the lowest id when names repeat).
pub async fn channel_named(db: &Db, account: AccountId, name: &str) -> Result<Option<ChannelId>> {
    let found = db
        .fetch_optional::<i64>(
            "SELECT id FROM channels WHERE account_id = $1 AND name = $2 ORDER BY id LIMIT 1",
            &[account.into(), name.into()],
        )
        .await?;
    Ok(found.map(ChannelId))
}

/// What a statement over the report's activities reads besides them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// The rows: the credential's identifier and channel, and the member's identifier.
    Rows,
    /// Counts: the activities alone, unless a filter is on their credential.
    Counts,
}

/// The report's activities as a statement without columns (the callers add theirs), and the
/// account's time zone (business dates are its local days). Only the filters asked for are
/// in it: the counts of a window on every channel then read nothing but the index on
/// (account, reported_at, type). Every activity has its credential (written with it,
/// deleted with it), so leaving that join out changes no count.
async fn filtered(
    db: &Db,
    account: AccountId,
    query: &ActivityQuery,
    kind: Option<i64>,
    reads: Reads,
) -> Result<(SelectStatement, Option<String>)> {
    let zone = time_zone(&mut Reader(db), account).await?;
    let (column, Span { from, to }) = match &query.window {
        ActivityWindow::Reported(span) => ("reported_at", *span),
        ActivityWindow::Processed(span) => ("processed_at", *span),
        ActivityWindow::Business(dates) => ("reported_at", dates.span(zone.as_deref())),
    };
    let mut statement = Query::select();
    statement
        .from_as("offer_activities", Alias::new("a"))
        .and_where(Expr::col(("a", "account_id")).eq(Value::from(account)))
        .and_where(Expr::col(("a", column)).gte(from.unix()))
        .and_where(Expr::col(("a", column)).lte(to.unix()));
    let on_credential =
        query.channel.is_some() || query.credential_identifier.is_some() || query.campaign_xid.is_some();
    if reads == Reads::Rows || on_credential {
        statement.join_as(
            JoinType::InnerJoin,
            "credentials",
            Alias::new("c"),
            Expr::col(("c", "id"))
                .equals(("a", "credential_id"))
                .and(Expr::col(("c", "account_id")).equals(("a", "account_id"))),
        );
    }
    if reads == Reads::Rows {
        statement.join_as(
            JoinType::LeftJoin,
            "members",
            Alias::new("m"),
            Expr::col(("m", "id"))
                .equals(("a", "member_id"))
                .and(Expr::col(("m", "account_id")).equals(("a", "account_id"))),
        );
    }
    if let Some(channel) = query.channel {
        statement.and_where(Expr::col(("c", "channel_id")).eq(Value::from(channel)));
    }
    if let Some(offer) = query.offer {
        statement.and_where(Expr::col(("a", "offer_id")).eq(Value::from(offer)));
    }
    if let Some(kind) = kind {
        statement.and_where(Expr::col(("a", "activity_type")).eq(kind));
    }
    if let Some(identifier) = &query.credential_identifier {
        statement.and_where(Expr::col(("c", "identifier")).eq(identifier.as_str()));
    }
    if let Some(xid) = &query.campaign_xid {
        // The campaign is the offer on the credential's channel.
        let campaign = Query::select()
            .expr(Expr::val(1))
            .from_as("eligible_channels", Alias::new("e"))
            .and_where(Expr::col(("e", "account_id")).equals(("a", "account_id")))
            .and_where(Expr::col(("e", "xid")).eq(xid.as_str()))
            .and_where(Expr::col(("e", "offer_id")).equals(("a", "offer_id")))
            .and_where(Expr::col(("e", "channel_id")).equals(("c", "channel_id")))
            .to_owned();
        statement.and_where(Expr::exists(campaign));
    }
    Ok((statement, zone))
}

/// The code of the type asked for; `Err(())` when nothing can match.
fn kind_code(query: &ActivityQuery) -> std::result::Result<Option<i64>, ()> {
    match query.kind {
        Some(None) => Err(()),
        Some(Some(kind)) => Ok(Some(kind.code())),
        None => Ok(None),
    }
}

/// The matching activities, oldest first. The channel is the credential's (activities are
/// written by credential issue, redeem and void); the campaign is the offer on that channel.
pub async fn report(db: &Db, account: AccountId, query: &ActivityQuery) -> Result<Vec<ActivityRow>> {
    let Ok(kind) = kind_code(query) else { return Ok(Vec::new()) };
    let (mut statement, zone) = filtered(db, account, query, kind, Reads::Rows).await?;
    statement
        .expr(Expr::cust(
            "a.id, a.offer_id, a.activity_type, a.reported_at, a.processed_at, c.identifier AS credential_identifier, \
             c.channel_id, m.id AS member_id, m.identifier AS member_identifier",
        ))
        .order_by(("a", "id"), Order::Asc);
    let (sql, params) = build(&statement, db.dialect())?;
    let mut rows: Vec<ActivityRow> = db.fetch_all(&sql, &params).await?;
    for row in &mut rows {
        row.business_date = business_date(row.reported_at, zone.as_deref());
    }
    Ok(rows)
}

/// How many of the report's activities there are of each type on each business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    pub business_date: String,
    pub kind: Option<ActivityType>,
    pub count: i64,
}

struct QuarterCount {
    quarter: i64,
    code: i64,
    count: i64,
}

impl FromRow for QuarterCount {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { quarter: row.int("quarter")?, code: row.int("activity_type")?, count: row.int("n")? })
    }
}

/// The report's rows counted by business date and type, in SQL (the portal's reports page:
/// a window can hold hundreds of thousands of activities). Counted per quarter hour of UTC
/// and added up by local date: every time zone's offset is a whole number of quarter hours,
/// so all of a quarter hour falls on one local date.
pub async fn counts(db: &Db, account: AccountId, query: &ActivityQuery) -> Result<Vec<DayCount>> {
    let Ok(kind) = kind_code(query) else { return Ok(Vec::new()) };
    let (mut statement, zone) = filtered(db, account, query, kind, Reads::Counts).await?;
    statement
        .expr(Expr::cust("a.reported_at / 900 AS quarter, a.activity_type, COUNT(*) AS n"))
        .add_group_by([Expr::cust("a.reported_at / 900"), Expr::col(("a", "activity_type")).into()]);
    let (sql, params) = build(&statement, db.dialect())?;
    let mut days: std::collections::BTreeMap<(String, i64), i64> = std::collections::BTreeMap::new();
    for q in db.fetch_all::<QuarterCount>(&sql, &params).await? {
        let date = business_date(Timestamp::from_unix(q.quarter * 900), zone.as_deref());
        *days.entry((date, q.code)).or_default() += q.count;
    }
    Ok(days
        .into_iter()
        .map(|((business_date, code), count)| DayCount { business_date, kind: ActivityType::from_code(code), count })
        .collect())
}
