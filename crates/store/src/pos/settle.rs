//! Show (evaluate, no side effects) and settle (the CTM update: redeem what applies, record
//! the ticket, release its holds), each in one transaction.

use super::candidates::{code_facts, code_reason, consider, refusal_reason, Considered};
use super::ticket::{self, Site, TicketKey};
use super::PosError;
use crate::credentials::write::{redeem_in, AtTicket, WriteError};
use crate::engine::points::{credit_in, PointsError};
use crate::{Dialect, Exec, Reader, Tx};
use kindling_domain::engine::points::Transfer;
use kindling_domain::pos::{evaluate, Candidate, Evaluation, Line, Policy, Reason, Rejected, Reward, Rounding};
use kindling_domain::CredentialId;
use kindling_domain::{AccountId, OfferId, Timestamp};
use std::collections::BTreeMap;

/// A shown (or settled) ticket: the codes and offers considered and the engine's answer,
/// with the offers refused before the engine first among `evaluation.rejected`.
#[derive(Debug, Clone)]
pub struct Shown {
    pub site: Site,
    pub considered: Considered,
    pub evaluation: Evaluation,
    pub transaction_id: Option<i64>,
}

fn policy(site: &Site) -> Policy {
    let rounding = match site.rounding.as_deref() {
        Some("half_even") => Rounding::HalfEven,
        _ => Rounding::HalfUp,
    };
    Policy { rounding, ..Policy::default() }
}

/// The engine's answer on the candidates, after the refusals found before it.
fn answer(lines: &[Line], site: &Site, considered: &Considered, extra: &[Rejected]) -> Evaluation {
    let mut evaluation = evaluate(lines, &considered.candidates, &policy(site));
    let mut rejected = considered.rejected.clone();
    rejected.extend_from_slice(extra);
    rejected.append(&mut evaluation.rejected);
    evaluation.rejected = rejected;
    evaluation
}

/// CTM show: what the codes would give this basket now. Reads only.
pub async fn show(
    db: &crate::Db,
    account: AccountId,
    key: &TicketKey,
    codes: &[String],
    only: Option<&[OfferId]>,
    lines: &[Line],
) -> Result<Shown, PosError> {
    // On SQLite one read transaction holds one reader connection for all five statements
    // (per-statement readers measured 14% slower); on PostgreSQL plain reads on the read
    // connections save the BEGIN, SET TRANSACTION and ROLLBACK round trips (25% faster). A
    // preview needs no snapshot either way (docs/BENCHMARKS.md, "Point of sale").
    match db.dialect() {
        Dialect::Sqlite => show_on(&mut db.begin_read().await?, account, key, codes, only, lines).await,
        Dialect::Postgres => show_on(&mut Reader(db), account, key, codes, only, lines).await,
    }
}

async fn show_on(
    exec: &mut impl Exec,
    account: AccountId,
    key: &TicketKey,
    codes: &[String],
    only: Option<&[OfferId]>,
    lines: &[Line],
) -> Result<Shown, PosError> {
    let now = Timestamp::now();
    let site = ticket::site(exec, account, key).await?;
    let ticket = site.ticket;
    let considered = consider(exec, account, &site, ticket, codes, only, false, now).await?;
    let evaluation = answer(lines, &site, &considered, &[]);
    Ok(Shown { site, considered, evaluation, transaction_id: ticket })
}

/// A line of the settled ticket as recorded (`ext_price` before discounts).
#[derive(Debug, Clone)]
pub struct TicketItem {
    pub line: String,
    pub name: String,
    pub item_code: String,
    pub quantity: i64,
    pub ext_price: i64,
}

/// What a CTM update says of the ticket itself, beyond its lines.
#[derive(Debug, Clone, Default)]
pub struct TicketFacts {
    pub receipt_id: Option<String>,
    pub business_date: Option<String>,
    pub operator_id: Option<String>,
    pub till_id: Option<String>,
    pub service_charge: i64,
    pub tax: i64,
    pub paid: i64,
}

/// Everything a CTM update carries.
#[derive(Debug, Clone, Default)]
pub struct Settlement {
    pub codes: Vec<String>,
    pub only: Option<Vec<OfferId>>,
    pub lines: Vec<Line>,
    pub items: Vec<TicketItem>,
    pub facts: TicketFacts,
    /// A digest of the request: a retry with the same one answers the stored response.
    pub hash: String,
}

/// A settled ticket and the response the caller rendered for it (the stored one on a retry).
#[derive(Debug, Clone)]
pub struct Settled {
    pub transaction_id: i64,
    pub response: String,
}

/// The reason a redemption the engine chose was refused at settle time (a ticket that
/// raced another to a limit, say): a rule's refusal maps as in `consider`; a code that is
/// no longer open is read again and judged as `consider` judges it.
async fn refused_reason(
    tx: &mut Tx,
    account: AccountId,
    code: &str,
    ticket: i64,
    error: WriteError,
) -> Result<(Reason, String), PosError> {
    Ok(match error {
        WriteError::Refused(refusal) => (refusal_reason(&refusal, false), refusal.message()),
        WriteError::Invalid(words) | WriteError::Conflict(words) => {
            let now = Timestamp::now();
            let current = code_facts(tx, account, code, Some(ticket), now).await?;
            let reason = current.as_ref().and_then(|c| code_reason(c, now)).map_or(Reason::NotFound, |(r, _)| r);
            (reason, words)
        }
        WriteError::NotFound => (Reason::NotFound, format!("Code not found: {code}")),
        WriteError::Store(e) => return Err(PosError::Store(e)),
    })
}

/// Redeems what the evaluation applied, code by code, at `ticket`. The first code refused
/// (a race lost since the evaluation) is returned with its reason after rolling back every
/// redemption of this attempt, so the caller can evaluate again without it.
async fn redeem_applied(
    tx: &mut Tx,
    account: AccountId,
    site: &Site,
    ticket: i64,
    considered: &Considered,
    evaluation: &Evaluation,
) -> Result<Option<(String, Reason, String)>, PosError> {
    let mut by_code: BTreeMap<&str, Vec<(OfferId, i64)>> = BTreeMap::new();
    for applied in &evaluation.applied {
        if let Some(code) = applied.credential.as_deref() {
            by_code.entry(code).or_default().push((OfferId(applied.offer_id), applied.amount));
        }
    }
    tx.execute("SAVEPOINT pos_settle", &[]).await?;
    for (code, applied) in by_code {
        let Some(credential) = considered.credential(code) else { continue };
        let at = AtTicket { ticket, applied: &applied };
        match redeem_in(tx, account, credential.id, Some(site.store_id), Some(at)).await {
            Ok(_) => {}
            Err(WriteError::Store(e)) => return Err(PosError::Store(e)),
            Err(refused) => {
                undo_attempt(tx).await?;
                let (reason, words) = refused_reason(tx, account, code, ticket, refused).await?;
                return Ok(Some((code.to_owned(), reason, words)));
            }
        }
        if !stored_value(tx, considered, code, &applied, credential.id).await? {
            // Another ticket spent from the balance since this evaluation read it.
            undo_attempt(tx).await?;
            let words = "The code's balance changed while the ticket settled; present it again".to_owned();
            return Ok(Some((code.to_owned(), Reason::BalanceDepleted, words)));
        }
    }
    tx.execute("RELEASE SAVEPOINT pos_settle", &[]).await?;
    Ok(None)
}

/// Rolls back every redemption of this attempt (to the savepoint `redeem_applied` took).
async fn undo_attempt(tx: &mut Tx) -> Result<(), PosError> {
    tx.execute("ROLLBACK TO SAVEPOINT pos_settle", &[]).await?;
    tx.execute("RELEASE SAVEPOINT pos_settle", &[]).await?;
    Ok(())
}

/// A stored-value code keeps what is left of its balance, and stays open while any is. The
/// amount is taken off the balance as it is now, only if it still covers it: `false` when
/// another ticket spent from it since the evaluation read it (two tickets settling the same
/// code must not both spend the balance they read).
async fn stored_value(
    tx: &mut Tx,
    considered: &Considered,
    code: &str,
    applied: &[(OfferId, i64)],
    credential: kindling_domain::CredentialId,
) -> Result<bool, PosError> {
    for (offer, amount) in applied {
        let candidate = considered
            .candidates
            .iter()
            .find(|c: &&Candidate| c.offer_id == offer.0 && c.credential.as_deref() == Some(code));
        if let Some(Reward::StoredValue { balance }) = candidate.map(|c| &c.rule.reward) {
            // A code's balance is NULL until its first spend: the offer's initial value,
            // which is what the evaluation read then.
            let spent = tx
                .execute(
                    "UPDATE credentials SET remaining_value = COALESCE(remaining_value, $3) - $2, \
                     status = CASE WHEN COALESCE(remaining_value, $3) - $2 > 0 THEN 'open' ELSE status END \
                     WHERE id = $1 AND COALESCE(remaining_value, $3) >= $2",
                    &[credential.into(), (*amount).into(), (*balance).into()],
                )
                .await?;
            if spent == 0 {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// CTM update: settles the ticket once. Evaluates the final basket, redeems every code
/// whose offers apply (with their discounts, against the limits, other tickets' holds
/// counted), writes the ticket with its lines and totals, releases its holds, and stores
/// the response `render` makes, all in one transaction. A retry with the same request
/// answers the stored response; a different request after that is `PosError::Closed`.
pub async fn settle<F>(
    db: &crate::Db,
    account: AccountId,
    key: TicketKey,
    settlement: Settlement,
    render: F,
) -> Result<Settled, PosError>
where
    F: FnOnce(&Shown) -> String + Send + 'static,
{
    db.transaction(move |tx| {
        Box::pin(async move {
            let now = Timestamp::now();
            let site = ticket::site(tx, account, &key).await?;
            let ticket = ticket::open(tx, account, &site, &key, now).await?;
            if ticket.status != "open" {
                return match (&ticket.request_hash, &ticket.response) {
                    (Some(hash), Some(response)) if *hash == settlement.hash => {
                        Ok(Settled { transaction_id: ticket.id, response: response.clone() })
                    }
                    _ => Err(PosError::Closed),
                };
            }
            let only = settlement.only.as_deref();
            let mut considered =
                consider(tx, account, &site, Some(ticket.id), &settlement.codes, only, true, now).await?;
            let mut lost: Vec<Rejected> = Vec::new();
            let evaluation = loop {
                let evaluation = answer(&settlement.lines, &site, &considered, &lost);
                match redeem_applied(tx, account, &site, ticket.id, &considered, &evaluation).await? {
                    None => break evaluation,
                    Some((code, reason, detail)) => {
                        considered.candidates.retain(|c| {
                            let refused = c.credential.as_deref() == Some(code.as_str());
                            if refused {
                                lost.push(Rejected {
                                    offer_id: c.offer_id,
                                    credential: c.credential.clone(),
                                    reason,
                                    detail: detail.clone(),
                                });
                            }
                            !refused
                        });
                    }
                }
            };
            super::holds::release(tx, ticket.id, None).await?;
            earn_points(tx, account, ticket.id, &considered, &evaluation).await?;
            record(tx, account, ticket.id, &settlement, &evaluation).await?;
            let shown = Shown { site, considered, evaluation, transaction_id: Some(ticket.id) };
            let response = render(&shown);
            let subtotal: i64 = settlement.items.iter().map(|i| i.ext_price).sum();
            let discount = shown.evaluation.discount;
            let facts = &settlement.facts;
            let total = (subtotal - discount).max(0) + facts.service_charge + facts.tax;
            tx.execute(
                "UPDATE pos_transactions SET status = 'closed', receipt_id = $2, business_date = $3, operator_id = $4, \
                 till_id = $5, subtotal = $6, discount = $7, service_charge = $8, tax = $9, total = $10, paid = $11, \
                 request_hash = $12, response = $13, closed_at = $14, updated_at = $14 WHERE id = $1",
                &[
                    ticket.id.into(),
                    facts.receipt_id.clone().into(),
                    facts.business_date.clone().into(),
                    facts.operator_id.clone().into(),
                    facts.till_id.clone().into(),
                    subtotal.into(),
                    discount.into(),
                    facts.service_charge.into(),
                    facts.tax.into(),
                    total.into(),
                    facts.paid.into(),
                    settlement.hash.as_str().into(),
                    response.as_str().into(),
                    now.unix().into(),
                ],
            )
            .await?;
            Ok(Settled { transaction_id: ticket.id, response })
        })
    })
    .await
}

/// The points transfer a settled ticket made for one code's offer (its txid, unique in the
/// account, so a ticket credits once); a void of the ticket takes them back under `void:`.
pub(crate) fn points_txid(ticket: i64, credential: CredentialId, offer: i64) -> String {
    format!("pos:{ticket}:{credential}:{offer}")
}

/// Credits the member of each applied code the offer's `points_earning_value` on the code's
/// channel, once per redemption, through the loyalty-points ledger.
async fn earn_points(
    tx: &mut Tx,
    account: AccountId,
    ticket: i64,
    considered: &Considered,
    evaluation: &Evaluation,
) -> Result<(), PosError> {
    let mut credits = Vec::new();
    for applied in &evaluation.applied {
        let earned = considered.offers.get(&applied.offer_id).and_then(|o| o.points_earning_value);
        let Some(points) = earned.filter(|p| *p > 0) else { continue };
        let Some(code) = applied.credential.as_deref().and_then(|c| considered.credential(c)) else { continue };
        let transfer = Transfer { points, txid: points_txid(ticket, code.id, applied.offer_id) };
        credits.push((code.member_id, code.channel_id, transfer));
    }
    // Cards in one order (as a void takes points back), so two tickets crediting the same
    // members' cards wait for each other instead of deadlocking.
    credits.sort_by(|a, b| (a.0, a.1, &a.2.txid).cmp(&(b.0, b.1, &b.2.txid)));
    for (member, channel, transfer) in credits {
        credit_in(tx, account, member, channel, &transfer).await.map_err(points_error)?;
    }
    Ok(())
}

pub(crate) fn points_error(e: PointsError) -> PosError {
    match e {
        PointsError::Store(e) => PosError::Store(e),
        other => PosError::Invalid(format!("points: {other:?}")),
    }
}

/// The ticket's lines with what Kindling's discounts left of each.
async fn record(
    tx: &mut Tx,
    account: AccountId,
    ticket: i64,
    settlement: &Settlement,
    evaluation: &Evaluation,
) -> Result<(), PosError> {
    let discounts: BTreeMap<&str, i64> = evaluation.lines.iter().map(|l| (l.key.as_str(), l.discount)).collect();
    for item in &settlement.items {
        let discount = discounts.get(item.line.as_str()).copied().unwrap_or(0);
        tx.execute(
            "INSERT INTO pos_transaction_items (account_id, transaction_id, line, name, item_code, quantity, ext_price, amount) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                account.into(),
                ticket.into(),
                item.line.as_str().into(),
                item.name.as_str().into(),
                item.item_code.as_str().into(),
                item.quantity.into(),
                item.ext_price.into(),
                (item.ext_price - discount).max(0).into(),
            ],
        )
        .await?;
    }
    Ok(())
}
