//! Settled tickets: `GET /transactions/{id}` and voiding one, which gives every redemption
//! it made back to the limits and reopens its codes.

use super::PosError;
use crate::credentials::codes::code_free;
use crate::credentials::write::{activities, give_back, share_offers};
use crate::engine::points::{credit_in, PointsError};
use crate::{Db, FromRow, Result, Row, Tx};
use kindling_domain::credentials::ActivityType;
use kindling_domain::engine::points::Transfer;
use kindling_domain::{AccountId, ChannelId, CredentialId, MemberId, OfferId, StoreId, Timestamp};

#[derive(Debug, Clone)]
pub struct TransactionView {
    pub id: i64,
    pub status: String,
    pub transaction_identifier: String,
    pub receipt_id: Option<String>,
    pub store_id: StoreId,
    pub store_number: Option<String>,
    pub occurred_at: Timestamp,
    pub subtotal: i64,
    pub discount: i64,
    pub service_charge: i64,
    pub tax: i64,
    pub total: i64,
    pub paid: i64,
    pub items: Vec<ItemRow>,
    pub redemptions: Vec<RedemptionRow>,
    pub credentials: Vec<CredentialRow>,
}

impl FromRow for TransactionView {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            status: row.text("status")?,
            transaction_identifier: row.text("transaction_identifier")?,
            receipt_id: row.opt_text("receipt_id")?,
            store_id: StoreId(row.int("store_id")?),
            store_number: row.opt_text("store_number")?,
            occurred_at: row.time("occurred_at")?,
            subtotal: row.int("subtotal")?,
            discount: row.int("discount")?,
            service_charge: row.int("service_charge")?,
            tax: row.int("tax")?,
            total: row.int("total")?,
            paid: row.int("paid")?,
            items: Vec::new(),
            redemptions: Vec::new(),
            credentials: Vec::new(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct ItemRow {
    pub id: i64,
    pub name: String,
    pub item_code: String,
    pub quantity: i64,
    pub ext_price: i64,
    pub amount: i64,
}

impl FromRow for ItemRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            name: row.text("name")?,
            item_code: row.text("item_code")?,
            quantity: row.int("quantity")?,
            ext_price: row.int("ext_price")?,
            amount: row.int("amount")?,
        })
    }
}

/// A redemption of the ticket with its campaign (the offer on the code's channel).
#[derive(Debug, Clone)]
pub struct RedemptionRow {
    pub id: i64,
    pub offer_state_id: Option<i64>,
    pub amount: Option<i64>,
    pub voided: bool,
    pub campaign_id: Option<i64>,
    pub campaign_external_id: Option<String>,
    pub campaign_xid: Option<String>,
    pub campaign_name: Option<String>,
    pub offer_id: OfferId,
    pub offer_name: String,
    pub offer_description: Option<String>,
}

impl FromRow for RedemptionRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            offer_state_id: row.opt_int("offer_state_id")?,
            amount: row.opt_int("amount")?,
            voided: row.opt_int("voided_at")?.is_some(),
            campaign_id: row.opt_int("campaign_id")?,
            campaign_external_id: row.opt_text("campaign_external_id")?,
            campaign_xid: row.opt_text("campaign_xid")?,
            campaign_name: row.opt_text("campaign_name")?,
            offer_id: OfferId(row.int("offer_id")?),
            offer_name: row.text("offer_name")?,
            offer_description: row.opt_text("offer_description")?,
        })
    }
}

/// A code the ticket redeemed: `offer_state` when it is a wallet state's.
#[derive(Debug, Clone)]
pub struct CredentialRow {
    pub id: CredentialId,
    pub identifier: Option<String>,
    pub member_id: MemberId,
    pub offer_state: bool,
}

impl FromRow for CredentialRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: CredentialId(row.int("id")?),
            identifier: row.opt_text("identifier")?,
            member_id: MemberId(row.int("member_id")?),
            offer_state: row.boolean("offer_state")?,
        })
    }
}

/// A settled (or voided) ticket of the account, with its lines, redemptions and codes.
pub async fn transaction(db: &Db, account: AccountId, id: i64) -> Result<Option<TransactionView>> {
    let mut tx = db.begin_read().await?;
    let view = load(&mut tx, account, id).await?;
    drop(tx);
    Ok(view)
}

async fn load(tx: &mut Tx, account: AccountId, id: i64) -> Result<Option<TransactionView>> {
    let found: Option<TransactionView> = tx
        .fetch_optional(
            "SELECT t.id, t.status, t.transaction_identifier, t.receipt_id, t.store_id, s.number AS store_number, \
             t.occurred_at, t.subtotal, t.discount, t.service_charge, t.tax, t.total, t.paid \
             FROM pos_transactions t JOIN stores s ON s.id = t.store_id \
             WHERE t.id = $1 AND t.account_id = $2 AND t.status <> 'open'",
            &[id.into(), account.into()],
        )
        .await?;
    let Some(mut view) = found else { return Ok(None) };
    view.items = tx
        .fetch_all(
            "SELECT id, name, item_code, quantity, ext_price, amount FROM pos_transaction_items \
             WHERE transaction_id = $1 ORDER BY id",
            &[id.into()],
        )
        .await?;
    view.redemptions = tx
        .fetch_all(
            "SELECT r.id, r.amount, r.voided_at, r.offer_id, \
             (SELECT MIN(s.id) FROM offer_states s WHERE s.credential_id = r.credential_id) AS offer_state_id, \
             e.id AS campaign_id, e.external_id AS campaign_external_id, e.xid AS campaign_xid, c.name AS campaign_name, \
             o.name AS offer_name, o.description AS offer_description \
             FROM redemptions r JOIN offers o ON o.id = r.offer_id \
             LEFT JOIN eligible_channels e ON e.offer_id = r.offer_id AND e.channel_id = r.channel_id \
             LEFT JOIN channels c ON c.id = r.channel_id \
             WHERE r.transaction_id = $1 AND r.account_id = $2 ORDER BY r.id",
            &[id.into(), account.into()],
        )
        .await?;
    view.credentials = tx
        .fetch_all(
            "SELECT c.id, c.identifier, c.member_id, \
             EXISTS (SELECT 1 FROM offer_states s WHERE s.credential_id = c.id) AS offer_state \
             FROM credentials c WHERE c.account_id = $2 AND c.id IN \
             (SELECT credential_id FROM redemptions WHERE transaction_id = $1) ORDER BY c.id",
            &[id.into(), account.into()],
        )
        .await?;
    Ok(Some(view))
}

struct Live {
    credential_id: CredentialId,
    offer_id: OfferId,
    channel_id: ChannelId,
    member_id: MemberId,
    amount: Option<i64>,
}

impl FromRow for Live {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            credential_id: CredentialId(row.int("credential_id")?),
            offer_id: OfferId(row.int("offer_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            member_id: MemberId(row.int("member_id")?),
            amount: row.opt_int("amount")?,
        })
    }
}

/// A voided redemption made at a ticket, whose points (if it earned any) go back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TicketRedemption {
    pub ticket: i64,
    pub credential_id: CredentialId,
    pub offer_id: OfferId,
    pub member_id: MemberId,
    pub channel_id: ChannelId,
}

/// Takes back the points the ticket's redemption earned, down to the member's balance (points
/// already spent stay spent), once (a txid of its own). Both voids call it: the ticket's, and
/// a code's own void of a redemption made at a ticket.
pub(crate) async fn take_back_points(
    tx: &mut Tx,
    account: AccountId,
    r: TicketRedemption,
) -> std::result::Result<(), PointsError> {
    let txid = super::settle::points_txid(r.ticket, r.credential_id, r.offer_id.0);
    let earned: Option<i64> = tx
        .fetch_optional(
            "SELECT points FROM points_transfers WHERE account_id = $1 AND txid = $2",
            &[account.into(), txid.as_str().into()],
        )
        .await?;
    let Some(earned) = earned else { return Ok(()) };
    // On PostgreSQL the card's row stays locked from this read to commit: a transfer that
    // spends points meanwhile waits (and is then judged on what is left), and one that
    // committed first is seen here, so the take-back never overdraws the card.
    let lock = tx.dialect().row_lock("");
    let balance: Option<i64> = tx
        .fetch_optional(
            &format!("SELECT balance FROM points_balances WHERE member_id = $1 AND channel_id = $2{lock}"),
            &[r.member_id.into(), r.channel_id.into()],
        )
        .await?;
    let back = earned.min(balance.unwrap_or(0));
    if back > 0 {
        let transfer = Transfer { points: -back, txid: format!("void:{txid}") };
        credit_in(tx, account, r.member_id, r.channel_id, &transfer).await?;
    }
    Ok(())
}

/// Voids a settled ticket: its redemptions are voided and given back to every limit, its
/// codes reopen (a stored-value code gets its amounts back) and each offer gets a void
/// activity. Voiding a voided ticket is refused; an open ticket is not found.
pub async fn void(db: &Db, account: AccountId, id: i64) -> std::result::Result<TransactionView, PosError> {
    db.transaction(move |tx| {
        Box::pin(async move {
            let now = Timestamp::now();
            let status: Option<String> = tx
                .fetch_optional(
                    "SELECT status FROM pos_transactions WHERE id = $1 AND account_id = $2",
                    &[id.into(), account.into()],
                )
                .await?;
            match status.as_deref() {
                None | Some("open") => return Err(PosError::NotFound),
                Some("voided") => return Err(PosError::Invalid("Transaction has already been voided".into())),
                Some(_) => {}
            }
            // The conditional write decides between two concurrent voids.
            let changed = tx
                .execute(
                    "UPDATE pos_transactions SET status = 'voided', voided_at = $3, updated_at = $3 \
                     WHERE id = $1 AND account_id = $2 AND status = 'closed'",
                    &[id.into(), account.into(), now.unix().into()],
                )
                .await?;
            if changed == 0 {
                return Err(PosError::Invalid("Transaction has already been voided".into()));
            }
            // The ticket's codes are locked first, in id order, as a code's own void locks
            // its credential before its redemptions: the two voids wait for each other
            // instead of deadlocking.
            let mut held: Vec<i64> = tx
                .fetch_all(
                    "SELECT DISTINCT credential_id FROM redemptions WHERE transaction_id = $1 AND account_id = $2",
                    &[id.into(), account.into()],
                )
                .await?;
            held.sort_unstable();
            for credential in held {
                crate::crud::lock::<crate::credentials::Credentials>(tx, account, &[], CredentialId(credential))
                    .await?;
            }
            // The redemptions are claimed by the write that voids them, so a concurrent void
            // of one of the codes (which claims its own the same way) gives each back once:
            // on PostgreSQL the later write waits, then finds the row voided and skips it.
            let mut live: Vec<Live> = tx
                .fetch_all(
                    "UPDATE redemptions SET voided_at = $3 WHERE transaction_id = $1 AND account_id = $2 \
                     AND voided_at IS NULL RETURNING credential_id, offer_id, channel_id, member_id, amount",
                    &[id.into(), account.into(), now.unix().into()],
                )
                .await?;
            // Counters are taken in offer order, as redemptions take them.
            live.sort_by_key(|r| (r.offer_id, r.credential_id));
            let given_back: Vec<OfferId> = live.iter().map(|r| r.offer_id).collect();
            share_offers(tx, &given_back).await?;
            for r in &live {
                give_back(tx, r.offer_id, r.channel_id).await?;
                activities(tx, account, &[r.offer_id], r.credential_id, r.member_id, ActivityType::Void, now).await?;
                if let Some(amount) = r.amount {
                    tx.execute(
                        "UPDATE credentials SET remaining_value = remaining_value + $2 WHERE id = $1 \
                         AND remaining_value IS NOT NULL",
                        &[r.credential_id.into(), amount.into()],
                    )
                    .await?;
                }
            }
            // Then the cards, in the order a settle credits them (member, channel, txid).
            live.sort_by_key(|r| (r.member_id, r.channel_id, r.credential_id, r.offer_id));
            for r in &live {
                let r = TicketRedemption {
                    ticket: id,
                    credential_id: r.credential_id,
                    offer_id: r.offer_id,
                    member_id: r.member_id,
                    channel_id: r.channel_id,
                };
                take_back_points(tx, account, r).await.map_err(super::settle::points_error)?;
            }
            let mut codes: Vec<CredentialId> = live.iter().map(|r| r.credential_id).collect();
            codes.sort_unstable();
            codes.dedup();
            // Reopened unless the code has been given to another open credential since: by
            // key or by text, checked here, as each unique index only sees its own kind
            // (`credentials::codes`); the index refuses a concurrent one.
            let reopen = format!(
                "UPDATE credentials SET status = 'open', redeemed_at = NULL, updated_at = $2 \
                 WHERE id = $1 AND status = 'redeemed' AND {}",
                code_free("$3", "$4", "$5")
            );
            for code in codes {
                let held: Option<HeldCode> = tx
                    .fetch_optional(
                        "SELECT identifier, code_key FROM credentials WHERE id = $1 AND status = 'redeemed'",
                        &[code.into()],
                    )
                    .await?;
                let Some(held) = held else { continue };
                let key = match (held.code_key, held.identifier.as_deref()) {
                    (Some(key), _) => Some(key),
                    (None, Some(code)) => tx.codes()?.key(code),
                    (None, None) => None,
                };
                let params = [code.into(), now.unix().into(), account.into(), held.identifier.into(), key.into()];
                let _ = tx.execute_recoverable(&reopen, &params).await;
            }
            load(tx, account, id).await?.ok_or(PosError::NotFound)
        })
    })
    .await
}

/// A redeemed code about to be opened again.
struct HeldCode {
    identifier: Option<String>,
    code_key: Option<i64>,
}

impl FromRow for HeldCode {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { identifier: row.opt_text("identifier")?, code_key: row.opt_int("code_key")? })
    }
}
