//! Impressions: written by the landing pages (in the same transaction as the code they hand
//! out) and by the Impressions API; listed and deleted as a plain table.

use crate::crud::Table;
use crate::offers::eligible_channels::select_joined;
use crate::{query, FromRow, Result, Row, StoreError, Tx, Value};
use kindling_domain::impression::Impression;
use kindling_domain::{AccountId, ChannelId, ImpressionId, MemberId, Timestamp};
use sea_query::Expr;

pub struct Impressions;

impl Table for Impressions {
    const TABLE: &'static str = "impressions";
    const COLUMNS: &'static str = "id, account_id, annotations, cookie_id, offer_xid, created_at, updated_at, \
        member_id, channel_id, channel_name, creative_name";
    type Record = Impression;
    type Id = ImpressionId;

    fn id(impression: &Impression) -> Self::Id {
        impression.id
    }
}

impl FromRow for Impression {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Impression {
            id: ImpressionId(row.int("id")?),
            account_id: AccountId(row.int("account_id")?),
            annotations: row.text("annotations")?,
            cookie_id: row.text("cookie_id")?,
            offer_xid: row.text("offer_xid")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            member_id: row.opt_int("member_id")?.map(MemberId),
            channel_id: row.opt_int("channel_id")?.map(ChannelId),
            channel_name: row.opt_text("channel_name")?,
            creative_name: row.opt_text("creative_name")?,
        })
    }
}

/// What one impression records; `annotations` is JSON text.
#[derive(Debug, Clone, Default)]
pub struct NewImpression<'a> {
    pub cookie_id: &'a str,
    pub offer_xid: &'a str,
    pub channel_id: Option<ChannelId>,
    pub channel_name: Option<&'a str>,
    pub member_id: Option<MemberId>,
    pub creative_name: Option<&'a str>,
    pub annotations: &'a str,
}

/// Inserts one impression inside `tx`.
pub async fn record(tx: &mut Tx, account: AccountId, new: &NewImpression<'_>, now: Timestamp) -> Result<ImpressionId> {
    tx.fetch_optional::<i64>(
        "INSERT INTO impressions (account_id, cookie_id, offer_xid, channel_id, channel_name, member_id, creative_name, \
         annotations, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        &[
            account.into(),
            new.cookie_id.into(),
            new.offer_xid.into(),
            new.channel_id.into(),
            new.channel_name.into(),
            new.member_id.into(),
            new.creative_name.into(),
            new.annotations.into(),
            now.unix().into(),
        ],
    )
    .await?
    .map(ImpressionId)
    .ok_or_else(|| StoreError::Decode("insert returned no row".into()))
}

/// The channel an offer×channel `xid` names, as an impression records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XidChannel {
    pub channel_id: ChannelId,
    pub channel_name: String,
}

impl FromRow for XidChannel {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { channel_id: ChannelId(row.int("channel_id")?), channel_name: row.text("channel_name")? })
    }
}

/// The channel of the account's eligible channel (offer×channel) whose `xid` is `xid`;
/// `None` for an unknown xid or another account's.
pub async fn channel_for_xid(tx: &mut Tx, account: AccountId, xid: &str) -> Result<Option<XidChannel>> {
    let statement = select_joined("e.channel_id, c.name AS channel_name", account)
        .and_where(Expr::col(("e", "xid")).eq(Value::from(xid)))
        .to_owned();
    let (sql, params) = query::build(&statement, tx.dialect())?;
    tx.fetch_optional(&sql, &params).await
}
