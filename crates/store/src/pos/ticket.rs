//! Tickets: the POS transaction a show, allocate or update belongs to, found by the
//! store's `site_id`, the terminal and the POS's transaction id.

use super::PosError;
use crate::{Dialect, Exec, FromRow, Result, Row, Tx};
use kindling_domain::{AccountId, CredentialId, MerchantId, StoreId, Timestamp};

/// The key a POS names its ticket by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketKey {
    pub site_id: String,
    pub term_id: String,
    pub tran_id: String,
}

/// The store a `site_id` names, with the account's POS settings.
#[derive(Debug, Clone)]
pub struct Site {
    pub store_id: StoreId,
    pub number: Option<String>,
    pub merchant_id: Option<MerchantId>,
    pub time_zone: Option<String>,
    pub rounding: Option<String>,
    pub hold_seconds: Option<i64>,
    /// The ticket the request's key names, if the POS has used it before.
    pub ticket: Option<i64>,
}

impl FromRow for Site {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            store_id: StoreId(row.int("id")?),
            number: row.opt_text("number")?,
            merchant_id: row.opt_int("merchant_id")?.map(MerchantId),
            time_zone: row.opt_text("time_zone")?,
            rounding: row.opt_text("pos_rounding")?,
            hold_seconds: row.opt_int("pos_hold_seconds")?,
            ticket: row.opt_int("ticket_id")?,
        })
    }
}

/// The store with this `site_id` in the account, with the account's POS settings and the
/// ticket `key` names (one statement); an unknown site is refused.
pub(crate) async fn site(
    tx: &mut impl Exec,
    account: AccountId,
    key: &TicketKey,
) -> std::result::Result<Site, PosError> {
    let found: Option<Site> = tx
        .fetch_optional(
            "SELECT s.id, s.number, s.merchant_id, a.time_zone, a.pos_rounding, a.pos_hold_seconds, t.id AS ticket_id \
             FROM stores s JOIN accounts a ON a.id = s.account_id \
             LEFT JOIN pos_transactions t ON t.account_id = s.account_id AND t.site_id = s.site_id \
             AND t.term_id = $3 AND t.tran_id = $4 \
             WHERE s.account_id = $1 AND s.site_id = $2",
            &[account.into(), key.site_id.as_str().into(), key.term_id.as_str().into(), key.tran_id.as_str().into()],
        )
        .await?;
    found.ok_or_else(|| PosError::UnknownSite(key.site_id.clone()))
}

/// A ticket row: its id, status, and what settling it answered.
#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    pub id: i64,
    pub status: String,
    pub request_hash: Option<String>,
    pub response: Option<String>,
}

impl FromRow for Ticket {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            status: row.text("status")?,
            request_hash: row.opt_text("request_hash")?,
            response: row.opt_text("response")?,
        })
    }
}

/// The open or closed ticket, if the POS has used this key before, locked on PostgreSQL
/// until commit.
pub(crate) async fn find(tx: &mut Tx, account: AccountId, key: &TicketKey) -> Result<Option<Ticket>> {
    let lock = if tx.dialect() == Dialect::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT id, status, request_hash, response FROM pos_transactions \
         WHERE account_id = $1 AND site_id = $2 AND term_id = $3 AND tran_id = $4{lock}"
    );
    let params =
        [account.into(), key.site_id.as_str().into(), key.term_id.as_str().into(), key.tran_id.as_str().into()];
    tx.fetch_optional(&sql, &params).await
}

/// The ticket for `key`, created open on first use and locked (PostgreSQL) until commit so
/// that two requests of one ticket take turns.
pub(crate) async fn open(
    tx: &mut Tx,
    account: AccountId,
    site: &Site,
    key: &TicketKey,
    now: Timestamp,
) -> std::result::Result<Ticket, PosError> {
    tx.execute(
        "INSERT INTO pos_transactions (account_id, store_id, site_id, term_id, tran_id, status, transaction_identifier, \
         occurred_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $7, $7) \
         ON CONFLICT (account_id, site_id, term_id, tran_id) DO NOTHING",
        &[
            account.into(),
            site.store_id.into(),
            key.site_id.as_str().into(),
            key.term_id.as_str().into(),
            key.tran_id.as_str().into(),
            uuid::Uuid::new_v4().to_string().into(),
            now.unix().into(),
        ],
    )
    .await?;
    let ticket = find(tx, account, key).await?.ok_or_else(|| crate::StoreError::Decode("ticket vanished".into()))?;
    Ok(ticket)
}

/// The account's open credential with this code (else its latest one).
pub(crate) async fn credential_id(tx: &mut Tx, account: AccountId, code: &str) -> Result<Option<CredentialId>> {
    let id: Option<i64> = tx
        .fetch_optional(
            &format!("SELECT id FROM credentials WHERE id = {}", crate::credentials::codes::code_id(3)),
            &[account.into(), code.into(), tx.codes()?.key(code).into()],
        )
        .await?;
    Ok(id.map(CredentialId))
}

/// Keeps a CTM qitems report with the ticket (opened if new); returns the ticket's id.
pub async fn record_qitems(
    db: &crate::Db,
    account: AccountId,
    key: TicketKey,
    credential: String,
    body: String,
) -> std::result::Result<i64, PosError> {
    db.transaction(move |tx| {
        Box::pin(async move {
            let now = Timestamp::now();
            let site = site(tx, account, &key).await?;
            let ticket = open(tx, account, &site, &key, now).await?;
            tx.execute(
                "INSERT INTO pos_qitems (account_id, transaction_id, credential, body, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[account.into(), ticket.id.into(), credential.into(), body.into(), now.unix().into()],
            )
            .await?;
            Ok(ticket.id)
        })
    })
    .await
}

/// A store a POS can name by its `site_id`.
#[derive(Debug, Clone)]
pub struct SiteRow {
    pub store_id: StoreId,
    pub site_id: String,
    pub number: Option<String>,
    pub name: Option<String>,
}

impl FromRow for SiteRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            store_id: StoreId(row.int("id")?),
            site_id: row.text("site_id")?,
            number: row.opt_text("number")?,
            name: row.opt_text("name")?,
        })
    }
}

/// The account's stores with a `site_id`, in id order.
pub async fn sites(db: &crate::Db, account: AccountId) -> Result<Vec<SiteRow>> {
    db.fetch_all(
        "SELECT id, site_id, number, name FROM stores WHERE account_id = $1 AND site_id IS NOT NULL ORDER BY id",
        &[account.into()],
    )
    .await
}
