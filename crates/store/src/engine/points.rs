//! Loyalty points: a balance per member per channel, changed only by transfers, each named
//! by the caller's `txid` (unique in the account) so that a replay never credits twice.

use crate::{Db, FromRow, Reader, Result, Row, StoreError, Tx};
use kindling_domain::engine::points::Transfer;
use kindling_domain::{AccountId, ChannelId, MemberId, Timestamp};

/// Why a points request names nothing or is refused.
#[derive(Debug)]
pub enum PointsError {
    MemberNotFound,
    ChannelNotFound,
    /// The transfer would leave the balance below zero; nothing was written.
    Overdrawn {
        balance: i64,
    },
    /// The txid names an earlier transfer of other points, member or channel.
    TxidReused,
    Store(StoreError),
}

impl From<StoreError> for PointsError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The member named by `identifier` and the channel, both in the account.
async fn card(
    exec: &mut impl crate::Exec,
    account: AccountId,
    identifier: &str,
    channel: ChannelId,
) -> std::result::Result<MemberId, PointsError> {
    let member: Option<i64> = exec
        .fetch_optional(
            "SELECT id FROM members WHERE account_id = $1 AND identifier = $2",
            &[account.into(), identifier.into()],
        )
        .await?;
    let member = member.map(MemberId).ok_or(PointsError::MemberNotFound)?;
    let channel: Option<i64> = exec
        .fetch_optional("SELECT id FROM channels WHERE account_id = $1 AND id = $2", &[account.into(), channel.into()])
        .await?;
    channel.ok_or(PointsError::ChannelNotFound)?;
    Ok(member)
}

async fn balance(exec: &mut impl crate::Exec, member: MemberId, channel: ChannelId) -> Result<i64> {
    let balance: Option<i64> = exec
        .fetch_optional(
            "SELECT balance FROM points_balances WHERE member_id = $1 AND channel_id = $2",
            &[member.into(), channel.into()],
        )
        .await?;
    Ok(balance.unwrap_or(0))
}

/// The balance of the member named by `identifier` on the channel (0 before any transfer).
pub async fn card_status(
    db: &Db,
    account: AccountId,
    identifier: &str,
    channel: ChannelId,
) -> std::result::Result<i64, PointsError> {
    let mut reader = Reader(db);
    let member = card(&mut reader, account, identifier, channel).await?;
    Ok(balance(&mut reader, member, channel).await?)
}

/// A transfer as recorded: the points moved and the balance right after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transferred {
    pub points: i64,
    pub balance: i64,
}

struct Recorded {
    member_id: MemberId,
    channel_id: ChannelId,
    points: i64,
    balance: i64,
}

impl FromRow for Recorded {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            member_id: MemberId(row.int("member_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            points: row.int("points")?,
            balance: row.int("balance")?,
        })
    }
}

/// Adds `transfer.points` to the card, once per txid. The transfer row is inserted first,
/// skipping on the account's unique txid: a concurrent replay waits there for the first
/// transfer's commit (PostgreSQL) or runs after it (SQLite's writer), finds its row and
/// answers with its result, so only one of them changes the balance. The balance changes in
/// one upsert whose result is checked: below zero, the whole transfer is rolled back.
pub async fn transfer(
    db: &Db,
    account: AccountId,
    identifier: String,
    channel: ChannelId,
    transfer: Transfer,
) -> std::result::Result<Transferred, PointsError> {
    db.transaction(move |tx| {
        Box::pin(async move {
            let member = card(tx, account, &identifier, channel).await?;
            credit_in(tx, account, member, channel, &transfer).await
        })
    })
    .await
}

/// `transfer` inside the caller's transaction (a settled point-of-sale ticket credits the
/// points its offers earn this way, with a txid of its own).
pub(crate) async fn credit_in(
    tx: &mut Tx,
    account: AccountId,
    member: MemberId,
    channel: ChannelId,
    transfer: &Transfer,
) -> std::result::Result<Transferred, PointsError> {
    let now = Timestamp::now().unix();
    let inserted: Option<i64> = tx
        .fetch_optional(
            "INSERT INTO points_transfers (account_id, txid, member_id, channel_id, points, balance, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (account_id, txid) DO NOTHING RETURNING id",
            &[
                account.into(),
                transfer.txid.as_str().into(),
                member.into(),
                channel.into(),
                transfer.points.into(),
                now.into(),
            ],
        )
        .await?;
    let Some(id) = inserted else { return replay(tx, account, transfer, member, channel).await };
    let balance: Option<i64> = tx
        .fetch_optional(
            "INSERT INTO points_balances (account_id, member_id, channel_id, balance, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (member_id, channel_id) \
             DO UPDATE SET balance = points_balances.balance + excluded.balance, updated_at = excluded.updated_at \
             RETURNING balance",
            &[account.into(), member.into(), channel.into(), transfer.points.into(), now.into()],
        )
        .await?;
    let balance = balance.ok_or_else(|| StoreError::Decode("balance upsert returned no row".into()))?;
    if balance < 0 {
        return Err(PointsError::Overdrawn { balance: balance - transfer.points });
    }
    tx.execute("UPDATE points_transfers SET balance = $2 WHERE id = $1", &[id.into(), balance.into()]).await?;
    Ok(Transferred { points: transfer.points, balance })
}

/// The first transfer of the txid, if it moved the same points for the same card.
async fn replay(
    tx: &mut Tx,
    account: AccountId,
    transfer: &Transfer,
    member: MemberId,
    channel: ChannelId,
) -> std::result::Result<Transferred, PointsError> {
    let first: Option<Recorded> = tx
        .fetch_optional(
            "SELECT member_id, channel_id, points, balance FROM points_transfers WHERE account_id = $1 AND txid = $2",
            &[account.into(), transfer.txid.as_str().into()],
        )
        .await?;
    let first = first.ok_or_else(|| StoreError::Decode("txid conflict without a row".into()))?;
    if (first.member_id, first.channel_id, first.points) != (member, channel, transfer.points) {
        return Err(PointsError::TxidReused);
    }
    Ok(Transferred { points: first.points, balance: first.balance })
}
