//! The codes page: the account's credentials with an identifier, with their offers, member
//! and history, and the stores a user may redeem at. Lookups only: redeeming and voiding
//! go through `credentials::write`, the API's path.

use crate::{Db, FromRow, Result, Row, Value};
use kindling_domain::credentials::{ActivityType, CredentialStatus};
use kindling_domain::{AccountId, CredentialId, OfferId, StoreId, Timestamp};

/// Credentials one lookup shows (an identifier is unique among open codes only, so older
/// redeemed or voided codes may share it).
pub const MATCHES: i64 = 10;

/// Stores the redeem form lists at most (an account with more names them through the API).
pub const STORES: i64 = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub id: CredentialId,
    pub identifier: String,
    pub status: CredentialStatus,
    pub member_identifier: String,
    pub channel_name: Option<String>,
    /// Where it was last redeemed (its latest redemption's store).
    pub store_name: Option<String>,
    pub created_at: Timestamp,
    pub redeemed_at: Option<Timestamp>,
    pub voided_at: Option<Timestamp>,
    pub offers: Vec<CodeOffer>,
    /// Issue, redeem and void, oldest first.
    pub history: Vec<Activity>,
}

impl FromRow for Code {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: CredentialId(row.int("id")?),
            identifier: row.text("identifier")?,
            status: crate::db::decode("credential status", row.text("status")?, CredentialStatus::parse)?,
            member_identifier: row.text("member_identifier")?,
            channel_name: row.opt_text("channel_name")?,
            store_name: row.opt_text("store_name")?,
            created_at: row.time("created_at")?,
            redeemed_at: row.opt_time("redeemed_at")?,
            voided_at: row.opt_time("voided_at")?,
            offers: Vec::new(),
            history: Vec::new(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CodeOffer {
    pub credential_id: CredentialId,
    pub id: OfferId,
    pub name: String,
    pub status: String,
}

impl FromRow for CodeOffer {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            credential_id: CredentialId(row.int("credential_id")?),
            id: OfferId(row.int("offer_id")?),
            name: row.text("name")?,
            status: row.text("status")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub credential_id: CredentialId,
    pub kind: Option<ActivityType>,
    pub offer_name: Option<String>,
    pub at: Timestamp,
}

impl FromRow for Activity {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            credential_id: CredentialId(row.int("credential_id")?),
            kind: ActivityType::from_code(row.int("activity_type")?),
            offer_name: row.opt_text("offer_name")?,
            at: row.time("reported_at")?,
        })
    }
}

/// The account's credentials whose identifier is `identifier`, open ones first, then
/// newest first: three statements (codes, their offers, their history), whatever the count.
pub async fn lookup(db: &Db, account: AccountId, identifier: &str) -> Result<Vec<Code>> {
    let mut tx = db.begin_read().await?;
    let sql = format!(
        "SELECT c.id, c.identifier, c.status, c.created_at, c.redeemed_at, c.voided_at, \
         m.identifier AS member_identifier, ch.name AS channel_name, s.name AS store_name \
         FROM credentials c JOIN members m ON m.id = c.member_id \
         LEFT JOIN channels ch ON ch.id = c.channel_id \
         LEFT JOIN stores s ON s.id = (SELECT r.store_id FROM redemptions r \
            WHERE r.credential_id = c.id ORDER BY r.id DESC LIMIT 1) \
         WHERE c.id IN {} \
         ORDER BY CASE WHEN c.status = 'open' THEN 0 ELSE 1 END, c.id DESC LIMIT $3",
        crate::credentials::codes::code_ids(4)
    );
    let mut codes: Vec<Code> = tx
        .fetch_all(&sql, &[account.into(), identifier.into(), MATCHES.into(), db.codes()?.key(identifier).into()])
        .await?;
    if !codes.is_empty() {
        let ids: Vec<CredentialId> = codes.iter().map(|c| c.id).collect();
        let dialect = tx.dialect();
        let offers: Vec<CodeOffer> = tx
            .fetch_all(
                &format!(
                    "SELECT co.credential_id, o.id AS offer_id, o.name, o.status FROM credential_offers co \
                     JOIN offers o ON o.id = co.offer_id WHERE co.account_id = $1 AND {} ORDER BY o.id",
                    dialect.in_list_sql("co.credential_id", 2)
                ),
                &[account.into(), Value::from(&ids[..])],
            )
            .await?;
        let history: Vec<Activity> = tx
            .fetch_all(
                &format!(
                    "SELECT a.credential_id, a.activity_type, a.reported_at, o.name AS offer_name \
                     FROM offer_activities a LEFT JOIN offers o ON o.id = a.offer_id \
                     WHERE a.account_id = $1 AND {} ORDER BY a.id",
                    dialect.in_list_sql("a.credential_id", 2)
                ),
                &[account.into(), Value::from(&ids[..])],
            )
            .await?;
        for code in &mut codes {
            code.offers = offers.iter().filter(|o| o.credential_id == code.id).cloned().collect();
            code.history = history.iter().filter(|a| a.credential_id == code.id).cloned().collect();
        }
    }
    tx.commit().await?;
    Ok(codes)
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoreOption {
    pub id: StoreId,
    pub name: String,
    pub merchant_name: Option<String>,
}

impl FromRow for StoreOption {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: StoreId(row.int("id")?), name: row.text("name")?, merchant_name: row.opt_text("merchant_name")? })
    }
}

/// The stores a redeem form offers: `only` these (a store operator's), or the account's
/// first `STORES` by name.
pub async fn stores(db: &Db, account: AccountId, only: Option<&[StoreId]>) -> Result<Vec<StoreOption>> {
    let select = "SELECT s.id, s.name, m.name AS merchant_name FROM stores s \
                  LEFT JOIN merchants m ON m.id = s.merchant_id WHERE s.account_id = $1";
    let name = db.dialect().bytewise("s.name");
    match only {
        Some(ids) => {
            let sql = format!("{select} AND {} ORDER BY {name}, s.id", db.dialect().in_list_sql("s.id", 2));
            db.fetch_all(&sql, &[account.into(), Value::from(ids)]).await
        }
        None => {
            let sql = format!("{select} ORDER BY {name}, s.id LIMIT $2");
            db.fetch_all(&sql, &[account.into(), STORES.into()]).await
        }
    }
}
