//! Holds: a code kept for one open ticket (CTM allocate) until it is settled, released or
//! expires. A live hold refuses the code to every other ticket and counts against the
//! offer's limits, so a limit can never be promised to more tickets than it has left.

use super::candidates::CodeFacts;
use super::ticket::{self, TicketKey};
use super::PosError;
use crate::credentials::facts::Gathered;
use crate::{Dialect, Exec, FromRow, Result, Row, Tx};
use kindling_domain::{AccountId, ChannelId, CredentialId, MemberId, OfferId, Timestamp};
use std::collections::HashMap;

/// Holds last this long unless the account says otherwise (`pos_hold_seconds`).
pub const DEFAULT_HOLD_SECONDS: i64 = 15 * 60;

/// Live holds of other tickets on the offers: all, the member's, and those of codes on the
/// channel.
struct HeldCount {
    offer_id: i64,
    total: i64,
    member: i64,
    channel: i64,
}

impl FromRow for HeldCount {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            offer_id: row.int("offer_id")?,
            total: row.int("total")?,
            member: row.int("member")?,
            channel: row.int("channel")?,
        })
    }
}

/// Adds other tickets' live holds to the gathered redemption counts of the offers that have
/// a limit (offers without one never pay for the query): to the total and the member's, and
/// for a limit on `channel` (the code's), the holds of codes on that channel. `ticket` is the
/// caller's own, whose holds are not counted against it.
pub(crate) async fn count_others(
    tx: &mut impl Exec,
    account: AccountId,
    gathered: &mut Gathered,
    (member, channel): (MemberId, ChannelId),
    ticket: Option<i64>,
    now: Timestamp,
) -> Result<()> {
    let limited: Vec<i64> = gathered
        .offers
        .iter()
        .filter(|o| o.limits.total.is_some() || o.limits.per_member_set() || o.limits.per_channel.is_some())
        .map(|o| o.id)
        .collect();
    if limited.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT h.offer_id, COUNT(*) AS total, SUM(CASE WHEN h.member_id = $3 THEN 1 ELSE 0 END) AS member, \
         SUM(CASE WHEN c.channel_id = $6 THEN 1 ELSE 0 END) AS channel \
         FROM pos_holds h JOIN credentials c ON c.id = h.credential_id \
         WHERE h.account_id = $1 AND h.expires_at > $4 AND ($5 IS NULL OR h.transaction_id <> $5) AND {} \
         GROUP BY h.offer_id",
        tx.dialect().in_list_sql("h.offer_id", 2)
    );
    let params =
        [account.into(), limited.as_slice().into(), member.into(), now.unix().into(), ticket.into(), channel.into()];
    let held: HashMap<i64, HeldCount> =
        tx.fetch_all::<HeldCount>(&sql, &params).await?.into_iter().map(|h| (h.offer_id, h)).collect();
    for offer in &mut gathered.offers {
        if let Some(h) = held.get(&offer.id) {
            offer.counts.total += h.total;
            offer.counts.member += h.member;
            offer.counts.member_today += h.member;
            offer.counts.channel += h.channel;
        }
    }
    Ok(())
}

/// On PostgreSQL, locks the account's credentials with these codes (each code's open one and
/// its closed ones, through the partial indexes `credentials::codes::code_ids` reads; in id
/// order, as voids lock them), so that a ticket reads a code's holds and status only once no
/// other ticket can be writing them. SQLite's single writer already runs tickets one at a time.
pub(crate) async fn lock_codes(tx: &mut impl Exec, account: AccountId, codes: &[&String]) -> Result<()> {
    if tx.dialect() != Dialect::Postgres || codes.is_empty() {
        return Ok(());
    }
    let sql = "SELECT id FROM credentials WHERE id IN \
               (SELECT id FROM credentials WHERE account_id = $1 AND code_key = ANY($3) AND identifier = ANY($2) \
               AND status = 'open' \
               UNION ALL SELECT id FROM credentials WHERE account_id = $1 AND identifier = ANY($2) \
               AND status = 'open' AND code_key IS NULL \
               UNION ALL SELECT id FROM credentials WHERE account_id = $1 AND identifier = ANY($2) \
               AND status <> 'open') ORDER BY id FOR NO KEY UPDATE";
    let cipher = tx.codes()?;
    let keys: Vec<i64> = codes.iter().filter_map(|c| cipher.key(c)).collect();
    let codes: Vec<String> = codes.iter().map(|c| (*c).clone()).collect();
    tx.fetch_all::<i64>(sql, &[account.into(), codes.as_slice().into(), keys.as_slice().into()]).await.map(drop)
}

/// On PostgreSQL, tickets take turns on an offer with a limit (its row, in id order; a limit
/// on any of its channels counts) from
/// reading its holds to commit, so two tickets never both see the last redemption free.
/// The offers of all the ticket's codes are locked in one statement, so in one ascending
/// order (as redemptions lock them): code by code, two tickets naming the same offers in
/// different codes' order would each hold one and wait for the other. SQLite's single
/// writer already runs them one at a time.
pub(crate) async fn serialize_limited(
    tx: &mut impl Exec,
    account: AccountId,
    credentials: &[CredentialId],
) -> Result<()> {
    if tx.dialect() != Dialect::Postgres || credentials.is_empty() {
        return Ok(());
    }
    let sql = "SELECT id FROM offers WHERE account_id = $1 \
               AND id IN (SELECT offer_id FROM credential_offers WHERE credential_id = ANY($2)) \
               AND (max_redemptions IS NOT NULL OR max_redemptions_per_member IS NOT NULL \
               OR max_redemptions_per_member_per_day IS NOT NULL OR EXISTS (SELECT 1 FROM eligible_channels e \
               WHERE e.offer_id = offers.id AND e.max_redemptions IS NOT NULL)) ORDER BY id FOR NO KEY UPDATE";
    tx.fetch_all::<i64>(sql, &[account.into(), credentials.into()]).await.map(drop)
}

/// Writes the ticket's holds on `credential` for `offers`, replacing expired holds of anyone
/// and refreshing its own; locks the code (`locked_until`) so that a redemption outside the
/// point of sale is refused too.
pub(crate) async fn hold(
    tx: &mut Tx,
    account: AccountId,
    ticket: i64,
    code: &CodeFacts,
    offers: &[OfferId],
    until: Timestamp,
    now: Timestamp,
) -> Result<()> {
    let (credential, member) = (code.id, code.member_id);
    tx.execute(
        "DELETE FROM pos_holds WHERE credential_id = $1 AND (expires_at <= $2 OR transaction_id = $3)",
        &[credential.into(), now.unix().into(), ticket.into()],
    )
    .await?;
    let sql = format!(
        "INSERT INTO pos_holds (account_id, transaction_id, credential_id, offer_id, member_id, expires_at, created_at) \
         SELECT $1, $2, $3, value, $5, $6, $7 FROM {}",
        tx.dialect().list_rows_sql(4)
    );
    let params = [
        account.into(),
        ticket.into(),
        credential.into(),
        offers.into(),
        member.into(),
        until.unix().into(),
        now.unix().into(),
    ];
    tx.execute(&sql, &params).await?;
    tx.execute(
        "UPDATE credentials SET locked_until = $3 WHERE id = $1 AND account_id = $2",
        &[credential.into(), account.into(), until.unix().into()],
    )
    .await
    .map(drop)
}

/// Releases the ticket's holds (on one code, or all), unlocking the codes they locked.
pub(crate) async fn release(tx: &mut Tx, ticket: i64, credential: Option<CredentialId>) -> Result<u64> {
    tx.execute(
        "UPDATE credentials SET locked_until = NULL WHERE id IN \
         (SELECT credential_id FROM pos_holds WHERE transaction_id = $1 AND ($2 IS NULL OR credential_id = $2))",
        &[ticket.into(), credential.into()],
    )
    .await?;
    tx.execute(
        "DELETE FROM pos_holds WHERE transaction_id = $1 AND ($2 IS NULL OR credential_id = $2)",
        &[ticket.into(), credential.into()],
    )
    .await
}

/// What `allocate` held.
#[derive(Debug, Clone)]
pub struct Held {
    pub transaction_id: i64,
    pub credential_id: CredentialId,
    pub offer_ids: Vec<OfferId>,
    pub expires_at: Timestamp,
}

/// CTM allocate: holds the code (and its offer, or all its offers) for the ticket, after
/// the redemption rules with every other ticket's holds counted.
pub async fn allocate(
    db: &crate::Db,
    account: AccountId,
    key: TicketKey,
    code: String,
    offer: Option<OfferId>,
) -> std::result::Result<Held, PosError> {
    db.transaction(move |tx| {
        Box::pin(async move {
            let now = Timestamp::now();
            let site = ticket::site(tx, account, &key).await?;
            let ticket = ticket::open(tx, account, &site, &key, now).await?;
            let considered = super::candidates::consider(
                tx,
                account,
                &site,
                Some(ticket.id),
                std::slice::from_ref(&code),
                offer.map(|o| vec![o]).as_deref(),
                true,
                now,
            )
            .await?;
            let found = considered.codes.first().and_then(|c| c.credential.clone());
            let Some(credential) = found else {
                return Err(PosError::Refused(
                    kindling_domain::pos::Reason::NotFound,
                    format!("Code not found: {code}"),
                ));
            };
            if let Some(r) = considered.rejected.iter().find(|r| r.credential.as_deref() == Some(code.as_str())) {
                if considered.candidates.is_empty() {
                    return Err(PosError::Refused(r.reason, r.detail.clone()));
                }
            }
            let offers: Vec<OfferId> = considered.candidates.iter().map(|c| OfferId(c.offer_id)).collect();
            let until = now.plus_seconds(site.hold_seconds.unwrap_or(DEFAULT_HOLD_SECONDS));
            hold(tx, account, ticket.id, &credential, &offers, until, now).await?;
            Ok(Held { transaction_id: ticket.id, credential_id: credential.id, offer_ids: offers, expires_at: until })
        })
    })
    .await
}

/// CTM deallocate: releases the ticket's hold on the code (`None`: every hold of the
/// ticket). Releasing what is not held is not an error; returns how many holds went.
pub async fn deallocate(
    db: &crate::Db,
    account: AccountId,
    key: TicketKey,
    code: Option<String>,
) -> std::result::Result<u64, PosError> {
    db.transaction(move |tx| {
        Box::pin(async move {
            ticket::site(tx, account, &key).await?;
            let Some(ticket) = ticket::find(tx, account, &key).await? else { return Ok(0) };
            let credential = match &code {
                Some(code) => match ticket::credential_id(tx, account, code).await? {
                    Some(id) => Some(id),
                    None => return Ok(0),
                },
                None => None,
            };
            Ok(release(tx, ticket.id, credential).await?)
        })
    })
    .await
}
