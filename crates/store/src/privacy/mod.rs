//! Member privacy: finding a member by their identifier or a credential's code, exporting
//! everything held about them (`export`), and deletion (`deletion`): open credentials voided
//! at once, the member anonymized after the account's retention by a background job.

pub mod deletion;

use crate::credentials::write::WriteError;
use crate::crud::Table;
use crate::engine::activities::{OfferActivities, OfferActivity};
use crate::impressions::Impressions;
use crate::{Db, Exec, FromRow, Result, Row, StoreError};
use kindling_domain::impression::Impression;
use kindling_domain::{AccountId, MemberId, Timestamp};
use serde::Serialize;

/// Who a privacy request names; at least one is given. When both are, they must name the
/// same member.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    pub member_identifier: Option<String>,
    pub credential_identifier: Option<String>,
}

/// Why a privacy request did not happen.
#[derive(Debug)]
pub enum PrivacyError {
    /// No member (422 with this message).
    NotFound(&'static str),
    Store(StoreError),
}

impl From<StoreError> for PrivacyError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<WriteError> for PrivacyError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Store(e) => Self::Store(e),
            // Voiding an open credential has no rule to refuse it; anything else is a fault.
            other => Self::Store(StoreError::Decode(format!("voiding a credential: {other:?}"))),
        }
    }
}

pub const NOT_FOUND: &str = "Member could not be located from the member or credential identifiers";
pub const MISMATCH: &str = "member_identifier and credential_identifier name different members";

/// An anonymized member is never found again: not by the old identifier (it is gone), nor by
/// an old credential code, nor by the token that replaced the identifier.
const NOT_ANONYMIZED: &str = "NOT EXISTS (SELECT 1 FROM member_deletion_requests d \
    WHERE d.member_id = m.id AND d.anonymized_at IS NOT NULL)";

/// The member a subject names in the account, if any. A credential code is unique only among
/// open credentials, so an open one wins, then the newest.
pub async fn find(exec: &mut impl Exec, account: AccountId, subject: &Subject) -> Result<MemberId, PrivacyError> {
    let by_identifier = match &subject.member_identifier {
        Some(identifier) => {
            let sql = format!(
                "SELECT m.id FROM members m WHERE m.account_id = $1 AND m.identifier = $2 AND {NOT_ANONYMIZED}"
            );
            let found: Option<i64> = exec.fetch_optional(&sql, &[account.into(), identifier.as_str().into()]).await?;
            Some(found.ok_or(PrivacyError::NotFound(NOT_FOUND))?)
        }
        None => None,
    };
    let by_code = match &subject.credential_identifier {
        Some(code) => {
            let sql = format!(
                "SELECT m.id FROM credentials c JOIN members m ON m.id = c.member_id \
                 WHERE c.id IN {} AND {NOT_ANONYMIZED} \
                 ORDER BY CASE WHEN c.status = 'open' THEN 0 ELSE 1 END, c.id DESC LIMIT 1",
                crate::credentials::codes::code_ids(3)
            );
            let key = exec.codes()?.key(code);
            let found: Option<i64> =
                exec.fetch_optional(&sql, &[account.into(), code.as_str().into(), key.into()]).await?;
            Some(found.ok_or(PrivacyError::NotFound(NOT_FOUND))?)
        }
        None => None,
    };
    match (by_identifier, by_code) {
        (Some(a), Some(b)) if a != b => Err(PrivacyError::NotFound(MISMATCH)),
        (Some(id), _) | (None, Some(id)) => Ok(MemberId(id)),
        (None, None) => Err(PrivacyError::NotFound(NOT_FOUND)),
    }
}

/// The spec's `export_member`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportMember {
    pub created_at: Timestamp,
    pub identifier: String,
}

impl FromRow for ExportMember {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { created_at: row.time("created_at")?, identifier: row.text("identifier")? })
    }
}

/// The spec's `export_credential`: its code (null for a credential never given offers).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportCredential {
    pub identifier: Option<String>,
}

impl FromRow for ExportCredential {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { identifier: row.opt_text("identifier")? })
    }
}

/// The spec's `transaction`: a point-of-sale ticket that redeemed one of the member's codes
/// (amounts in cents). What a ticket does not record (a serviced device, a check number,
/// guests, a translator, a source) is null; so is `terminal_id` when the register's id is
/// not a number, and `reported_at` until the ticket settles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportTransaction {
    pub id: i64,
    pub member_id: MemberId,
    pub store_id: i64,
    pub terminal_id: Option<i64>,
    pub serviced_device_id: Option<String>,
    pub operator_id: Option<String>,
    pub purchased_amount: i64,
    pub nr_items: i64,
    pub transaction_identifier: String,
    pub source_id: Option<i64>,
    /// The member's first code the ticket redeemed.
    pub credential_id: Option<i64>,
    pub occurred_at: Timestamp,
    pub reported_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub receipt_id: Option<String>,
    pub check_number: Option<String>,
    /// The ticket's business date, at midnight UTC (the spec's layout is a date-time).
    pub business_date: Option<String>,
    pub num_guests: Option<i64>,
    pub till_id: Option<String>,
    pub total_due: i64,
    pub total_discount: i64,
    pub total_service: i64,
    pub total_tax: i64,
    pub total_paid: i64,
    pub translator_id: Option<String>,
}

impl FromRow for ExportTransaction {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            member_id: MemberId(row.int("member_id")?),
            store_id: row.int("store_id")?,
            terminal_id: row.text("term_id")?.trim().parse().ok(),
            serviced_device_id: None,
            operator_id: row.opt_text("operator_id")?,
            purchased_amount: row.int("subtotal")?,
            nr_items: row.int("nr_items")?,
            transaction_identifier: row.text("transaction_identifier")?,
            source_id: None,
            credential_id: row.opt_int("credential_id")?,
            occurred_at: row.time("occurred_at")?,
            reported_at: row.opt_time("closed_at")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            receipt_id: row.opt_text("receipt_id")?,
            check_number: None,
            business_date: row.opt_text("business_date")?.map(|date| crate::reports::midnight(&date)),
            num_guests: None,
            till_id: row.opt_text("till_id")?,
            total_due: row.int("total")?,
            total_discount: row.int("discount")?,
            total_service: row.int("service_charge")?,
            total_tax: row.int("tax")?,
            total_paid: row.int("paid")?,
            translator_id: None,
        })
    }
}

/// The tickets that redeemed one of the member's codes, oldest first.
const TRANSACTIONS: &str = "SELECT t.id, r.member_id, t.store_id, t.term_id, t.operator_id, t.subtotal, \
     t.transaction_identifier, t.occurred_at, t.closed_at, t.created_at, t.updated_at, t.receipt_id, \
     t.business_date, t.till_id, t.total, t.discount, t.service_charge, t.tax, t.paid, r.credential_id, \
     (SELECT CAST(COALESCE(SUM(i.quantity), 0) AS BIGINT) FROM pos_transaction_items i \
       WHERE i.transaction_id = t.id) AS nr_items \
     FROM pos_transactions t JOIN (SELECT transaction_id, member_id, MIN(credential_id) AS credential_id \
       FROM redemptions WHERE account_id = $1 AND member_id = $2 AND transaction_id IS NOT NULL \
       GROUP BY transaction_id, member_id) r ON r.transaction_id = t.id \
     WHERE t.account_id = $1 ORDER BY t.id";

/// The spec's `member_export_data`: everything held about a member that it has room for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Export {
    pub member: ExportMember,
    pub credentials: Vec<ExportCredential>,
    pub offer_activities: Vec<OfferActivity>,
    pub transactions: Vec<ExportTransaction>,
    pub impressions: Vec<Impression>,
}

/// Everything about the member a subject names, read in one snapshot, each list oldest first.
pub async fn export(db: &Db, account: AccountId, subject: &Subject) -> Result<Export, PrivacyError> {
    let mut tx = db.begin_read().await?;
    let member = find(&mut tx, account, subject).await?;
    let params = [account.into(), member.into()];
    let found: Option<ExportMember> = tx
        .fetch_optional("SELECT created_at, identifier FROM members WHERE account_id = $1 AND id = $2", &params)
        .await?;
    let member_row = found.ok_or(PrivacyError::NotFound(NOT_FOUND))?;
    let credentials = tx
        .fetch_all("SELECT identifier FROM credentials WHERE account_id = $1 AND member_id = $2 ORDER BY id", &params)
        .await?;
    let activities = format!(
        "SELECT {} FROM offer_activities WHERE account_id = $1 AND member_id = $2 ORDER BY id",
        OfferActivities::COLUMNS
    );
    let offer_activities = tx.fetch_all(&activities, &params).await?;
    let impressions = format!(
        "SELECT {} FROM impressions WHERE account_id = $1 AND member_id = $2 ORDER BY id",
        Impressions::COLUMNS
    );
    let impressions = tx.fetch_all(&impressions, &params).await?;
    let transactions = tx.fetch_all(TRANSACTIONS, &params).await?;
    drop(tx);
    Ok(Export { member: member_row, credentials, offer_activities, transactions, impressions })
}
