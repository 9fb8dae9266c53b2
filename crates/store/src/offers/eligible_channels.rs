//! One offer on one channel. Created by linking a channel to an offer (which draws its
//! `xid`), shown inside the offer, edited through `/offers/{id}/channels/{channel_id}`, and
//! seen as a campaign.

use crate::crud::{self, Assign, Assignments};
use crate::{query, Db, FromRow, Result, Row, Tx, Value};
use kindling_domain::{AccountId, ChannelId, EligibleChannelId, OfferId, Timestamp};
use sea_query::{Alias, Expr, JoinType, Order, Query, SelectStatement};
use serde_json::{json, Value as Json};

#[derive(Debug, Clone, PartialEq)]
pub struct EligibleChannel {
    pub id: EligibleChannelId,
    pub offer_id: OfferId,
    pub channel_id: ChannelId,
    pub channel_name: String,
    pub xid: String,
    pub security: Option<String>,
    pub security_key: Option<String>,
    pub sms_keyword: Option<String>,
    pub allow_return_later: bool,
    pub max_redemptions: Option<i64>,
}

pub const COLUMNS: &str =
    "e.id, e.offer_id, e.channel_id, c.name AS channel_name, e.xid, e.security, e.security_key, e.sms_keyword, \
    e.allow_return_later, e.max_redemptions";

/// `SELECT <columns> FROM eligible_channels e JOIN channels c` in the account.
pub(crate) fn select_joined(columns: &'static str, account: AccountId) -> SelectStatement {
    Query::select()
        .expr(Expr::cust(columns))
        .from_as("eligible_channels", Alias::new("e"))
        .join_as(JoinType::InnerJoin, "channels", Alias::new("c"), Expr::col(("c", "id")).equals(("e", "channel_id")))
        .and_where(query::in_account(Some("e"), account))
        .to_owned()
}

impl FromRow for EligibleChannel {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: EligibleChannelId(row.int("id")?),
            offer_id: OfferId(row.int("offer_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            channel_name: row.text("channel_name")?,
            xid: row.text("xid")?,
            security: row.opt_text("security")?,
            security_key: row.opt_text("security_key")?,
            sms_keyword: row.opt_text("sms_keyword")?,
            allow_return_later: row.boolean("allow_return_later")?,
            max_redemptions: row.opt_int("max_redemptions")?,
        })
    }
}

impl EligibleChannel {
    /// As embedded in an offer: `{"channel": {"id": <channel id>, "xid", ...}}`.
    pub fn embedded(&self) -> Json {
        json!({"channel": {
            "id": self.channel_id, "xid": self.xid, "name": self.channel_name, "security": self.security,
            "security_key": self.security_key, "offer_id": self.offer_id, "sms_keyword": self.sms_keyword,
            "allow_return_later": self.allow_return_later,
        }})
    }

    /// The `eligible_channel` object.
    pub fn view(&self) -> Json {
        json!({
            "id": self.id, "channel_id": self.channel_id, "xid": self.xid, "name": self.channel_name,
            "security": self.security, "security_key": self.security_key, "offer_id": self.offer_id,
            "sms_keyword": self.sms_keyword, "allow_return_later": self.allow_return_later, "formatting": null,
            "max_redemptions": self.max_redemptions,
        })
    }
}

/// New link rows get a fresh `xid` and timestamps.
pub fn new_row_columns() -> Vec<(&'static str, Value)> {
    let now = Timestamp::now().unix();
    vec![("xid", kindling_domain::secret::new_xid().into()), ("created_at", now.into()), ("updated_at", now.into())]
}

pub async fn for_offers(db: &Db, account: AccountId, offers: &[OfferId]) -> Result<Vec<EligibleChannel>> {
    if offers.is_empty() {
        return Ok(Vec::new());
    }
    let statement = select_joined(COLUMNS, account)
        .and_where(db.dialect().in_list(("e", "offer_id"), offers))
        .order_by(("e", "offer_id"), Order::Asc)
        .order_by(("e", "channel_id"), Order::Asc)
        .to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    db.fetch_all(&sql, &params).await
}

pub async fn find(db: &Db, account: AccountId, offer: OfferId, channel: ChannelId) -> Result<Option<EligibleChannel>> {
    let statement = select_joined(COLUMNS, account)
        .and_where(Expr::col(("e", "offer_id")).eq(Value::from(offer)))
        .and_where(Expr::col(("e", "channel_id")).eq(Value::from(channel)))
        .to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    db.fetch_optional(&sql, &params).await
}

/// The offer×channel row's id and security key, as `update_settings` reads it.
struct KeyRow {
    id: EligibleChannelId,
    security_key: Option<String>,
    max_redemptions: Option<i64>,
}

impl FromRow for KeyRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: EligibleChannelId(row.int("id")?),
            security_key: row.opt_text("security_key")?,
            max_redemptions: row.opt_int("max_redemptions")?,
        })
    }
}

/// What `update_settings` changes; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `Some(None)` turns security off (and clears the key); `Some(Some(_))` turns it on,
    /// drawing a `security_key` if the row has none yet.
    pub security: Option<Option<String>>,
    pub sms_keyword: Option<String>,
    pub allow_return_later: Option<bool>,
    pub max_redemptions: Option<i64>,
}

/// Updates the offer's settings on a channel in one transaction; `false` when the channel
/// is not linked to the offer. The row is read locked, so whether a key is drawn depends
/// on the row as this write finds it, and each request sets only the columns it names, so
/// concurrent updates of different settings all land.
pub async fn update_settings(
    db: &Db,
    account: AccountId,
    offer: OfferId,
    channel: ChannelId,
    settings: Settings,
) -> Result<bool> {
    db.transaction_retrying(move |tx| Box::pin(update_settings_in(tx, account, offer, channel, settings.clone()))).await
}

async fn update_settings_in(
    tx: &mut Tx,
    account: AccountId,
    offer: OfferId,
    channel: ChannelId,
    settings: Settings,
) -> Result<bool> {
    let Some(KeyRow { id, security_key: key, max_redemptions: limit }) =
        lock_row(tx, "id, security_key, max_redemptions", account, offer, channel).await?
    else {
        return Ok(false);
    };
    let Settings { security, sms_keyword, allow_return_later, max_redemptions } = settings;
    let security_key = match &security {
        Some(Some(_)) if key.is_none() => Some(Some(kindling_domain::secret::new_api_key())),
        Some(None) => Some(None),
        _ => None,
    };
    // A limit set where there was none starts from a recount (see `recount_redemptions`).
    let limit_set = limit.is_none() && max_redemptions.is_some();
    let values = Assign::new()
        .set("security", security)
        .set("security_key", security_key)
        .set("sms_keyword", sms_keyword)
        .set("allow_return_later", allow_return_later)
        .set("max_redemptions", max_redemptions)
        .done();
    set(tx, account, id, values).await?;
    if limit_set {
        recount_redemptions(tx, account, offer, id).await?;
    }
    Ok(true)
}

/// Recounts the channel's live redemptions of the offer into its counter, for a
/// `max_redemptions` set where there was none (see `offers::offer::recount_redemptions`,
/// whose offer lock this takes too, for the same reason; should a redemption of the offer
/// meanwhile wait on this row for the offer's own limit, PostgreSQL breaks the deadlock by
/// refusing one of the two as busy; when that is this write, `Db::transaction_retrying`
/// runs it again).
async fn recount_redemptions(tx: &mut Tx, account: AccountId, offer: OfferId, id: EligibleChannelId) -> Result<()> {
    super::offer::lock_for_recount(tx, account, offer).await?;
    tx.execute(
        "UPDATE eligible_channels SET redemption_count = (SELECT COUNT(*) FROM redemptions r \
         WHERE r.offer_id = eligible_channels.offer_id AND r.channel_id = eligible_channels.channel_id \
         AND r.voided_at IS NULL) WHERE id = $1 AND account_id = $2",
        &[id.into(), account.into()],
    )
    .await
    .map(drop)
}

/// The offer×channel row's `columns`, locked until commit on PostgreSQL.
pub(crate) async fn lock_row<T: FromRow + Send>(
    tx: &mut Tx,
    columns: &'static str,
    account: AccountId,
    offer: OfferId,
    channel: ChannelId,
) -> Result<Option<T>> {
    let statement = crud::locked(
        Query::select()
            .expr(Expr::cust(columns))
            .from("eligible_channels")
            .and_where(query::in_account(None, account))
            .and_where(Expr::col("offer_id").eq(Value::from(offer)))
            .and_where(Expr::col("channel_id").eq(Value::from(channel))),
    )
    .to_owned();
    let (sql, params) = query::build(&statement, tx.dialect())?;
    tx.fetch_optional(&sql, &params).await
}

/// Sets the given columns of the offer×channel row; `false` when it is not in the account.
pub(crate) async fn set(tx: &mut Tx, account: AccountId, id: EligibleChannelId, values: Assignments) -> Result<bool> {
    let statement = query::update("eligible_channels", values)
        .and_where(Expr::col("id").eq(Value::from(id)))
        .and_where(query::in_account(None, account))
        .to_owned();
    let (sql, params) = query::build(&statement, tx.dialect())?;
    Ok(tx.execute(&sql, &params).await? > 0)
}
