//! Zidentifiers: one random number per member × offer × channel, made on first request.

use crate::crud;
use crate::members::Members;
use crate::offers::channels::Channels;
use crate::{Db, Exec, FromRow, Reader, Result, Row, Tx};
use kindling_domain::engine::zid;
use kindling_domain::{AccountId, ChannelId, MemberId, OfferId, Timestamp, ZidentifierId};
use serde::Serialize;

/// The spec's `z_identifier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Zidentifier {
    pub id: ZidentifierId,
    pub zid: String,
    pub offer_id: OfferId,
    pub member_id: MemberId,
    pub member_identifier: String,
    /// The offer×channel xid; null once the offer has left the channel.
    pub offer_xid: Option<String>,
}

impl FromRow for Zidentifier {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: ZidentifierId(row.int("id")?),
            zid: row.text("zid")?,
            offer_id: OfferId(row.int("offer_id")?),
            member_id: MemberId(row.int("member_id")?),
            member_identifier: row.text("member_identifier")?,
            offer_xid: row.opt_text("offer_xid")?,
        })
    }
}

const SELECT: &str = "SELECT z.id, z.zid, z.offer_id, z.member_id, m.identifier AS member_identifier, \
    e.xid AS offer_xid FROM zidentifiers z JOIN members m ON m.id = z.member_id \
    LEFT JOIN eligible_channels e ON e.offer_id = z.offer_id AND e.channel_id = z.channel_id";

/// What a get-or-create names that the account lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Member,
    Offer,
    Channel,
    /// The offer is not on the channel (no eligible channel links them).
    OfferNotOnChannel,
}

/// The member's zid for the offer on the channel, made on the first request. Concurrent
/// first requests make one row: each insert skips on the unique (member, offer, channel)
/// index and all read the row that won. A drawn zid that another row holds also skips the
/// insert, and is drawn again.
pub async fn get_or_create(
    db: &Db,
    account: AccountId,
    member: MemberId,
    offer: OfferId,
    channel: ChannelId,
) -> Result<std::result::Result<Zidentifier, Missing>> {
    // The usual case, a zid that exists for an offer still on the channel, is one read.
    if let Some(found) = find_linked(&mut Reader(db), account, member, offer, channel).await? {
        return Ok(Ok(found));
    }
    db.transaction(move |tx| {
        Box::pin(async move {
            if !crud::contains::<Members>(tx, account, member).await? {
                return Ok(Err(Missing::Member));
            }
            if !crud::contains::<crate::offers::offer::Offers>(tx, account, offer).await? {
                return Ok(Err(Missing::Offer));
            }
            if !crud::contains::<Channels>(tx, account, channel).await? {
                return Ok(Err(Missing::Channel));
            }
            // Share-locked until commit: an unlinking waits for this zid (and then drops it
            // with the link's other zids from view), or this waits for it and finds no link.
            let linked: Option<i64> = tx
                .fetch_optional(
                    &format!(
                        "SELECT id FROM eligible_channels WHERE account_id = $1 AND offer_id = $2 AND channel_id = $3{}",
                        tx.dialect().key_share()
                    ),
                    &[account.into(), offer.into(), channel.into()],
                )
                .await?;
            if linked.is_none() {
                return Ok(Err(Missing::OfferNotOnChannel));
            }
            create(tx, account, member, offer, channel).await.map(Ok)
        })
    })
    .await
}

/// Inserts a row unless one exists, redrawing a zid that is taken (a 15-digit draw
/// collides about once in 10^15 / rows; eight tries never all collide in practice).
async fn create(
    tx: &mut Tx,
    account: AccountId,
    member: MemberId,
    offer: OfferId,
    channel: ChannelId,
) -> Result<Zidentifier> {
    for _ in 0..8 {
        tx.execute(
            "INSERT INTO zidentifiers (account_id, member_id, offer_id, channel_id, zid, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                account.into(),
                member.into(),
                offer.into(),
                channel.into(),
                zid::new_zid().into(),
                Timestamp::now().unix().into(),
            ],
        )
        .await?;
        if let Some(found) = find_linked(tx, account, member, offer, channel).await? {
            return Ok(found);
        }
    }
    Err(crate::StoreError::Decode("no free zid after eight draws".into()))
}

/// The zid of member × offer × channel while the offer is on the channel.
async fn find_linked(
    exec: &mut impl Exec,
    account: AccountId,
    member: MemberId,
    offer: OfferId,
    channel: ChannelId,
) -> Result<Option<Zidentifier>> {
    let sql = format!(
        "{SELECT} WHERE z.account_id = $1 AND z.member_id = $2 AND z.offer_id = $3 AND z.channel_id = $4 \
         AND e.xid IS NOT NULL"
    );
    exec.fetch_optional(&sql, &[account.into(), member.into(), offer.into(), channel.into()]).await
}

/// The account's zidentifier named by its zid or, failing that, by its id (the spec types
/// the path's `zid` as an integer, so a client may hold either).
pub async fn find(db: &Db, account: AccountId, raw: &str) -> Result<Option<Zidentifier>> {
    let mut reader = Reader(db);
    let by_zid = format!("{SELECT} WHERE z.account_id = $1 AND z.zid = $2");
    if let Some(found) = reader.fetch_optional(&by_zid, &[account.into(), raw.into()]).await? {
        return Ok(Some(found));
    }
    let Ok(id) = raw.parse::<i64>() else { return Ok(None) };
    let by_id = format!("{SELECT} WHERE z.account_id = $1 AND z.id = $2");
    reader.fetch_optional(&by_id, &[account.into(), id.into()]).await
}
