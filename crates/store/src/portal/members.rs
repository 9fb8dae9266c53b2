//! The portal's member pages: members found by identifier, one member's codes and
//! redemptions, and the account's member lists with their sizes. Reads only, each a fixed
//! number of statements in one read snapshot; member lists are written through
//! `crud` and `member_lists::MEMBERS`, as the API writes them.

use super::codes::CodeOffer;
use crate::{Db, FromRow, Result, Row, Value};
use kindling_domain::credentials::CredentialStatus;
use kindling_domain::member::Member;
use kindling_domain::{AccountId, CredentialId, MemberId, MemberListId, OfferId, Timestamp};

/// How a member search matches the identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The identifier starts with the text (case-sensitive, as identifiers are).
    Prefix,
    Exact,
}

/// One page of the account's members whose identifier matches `text`, by identifier, and
/// how many match: two statements.
pub async fn search(
    db: &Db,
    account: AccountId,
    text: &str,
    how: Match,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Member>, i64)> {
    // `substr` counts characters on both backends; the account's rows are read through the
    // `(account_id, identifier)` index, in its order (on PostgreSQL the database's collation:
    // a bytewise order would sort every matching member of the account for one page).
    let condition = match how {
        Match::Exact => "account_id = $1 AND identifier = $2",
        Match::Prefix => "account_id = $1 AND substr(identifier, 1, length(CAST($2 AS TEXT))) = $2",
    };
    let mut tx = db.begin_read().await?;
    let total: Option<i64> = tx
        .fetch_optional(&format!("SELECT COUNT(*) FROM members WHERE {condition}"), &[account.into(), text.into()])
        .await?;
    let members: Vec<Member> = tx
        .fetch_all(
            &format!(
                "SELECT id, identifier, notification_mode, created_at, updated_at FROM members WHERE {condition} \
                 ORDER BY identifier, id LIMIT $3 OFFSET $4"
            ),
            &[account.into(), text.into(), limit.into(), offset.into()],
        )
        .await?;
    tx.commit().await?;
    Ok((members, total.unwrap_or(0)))
}

/// A member's code, with its offers.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberCode {
    pub id: CredentialId,
    pub identifier: Option<String>,
    pub status: CredentialStatus,
    pub channel_name: Option<String>,
    pub created_at: Timestamp,
    pub redeemed_at: Option<Timestamp>,
    pub voided_at: Option<Timestamp>,
    pub offers: Vec<CodeOffer>,
}

impl FromRow for MemberCode {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: CredentialId(row.int("id")?),
            identifier: row.opt_text("identifier")?,
            status: crate::db::decode("credential status", row.text("status")?, CredentialStatus::parse)?,
            channel_name: row.opt_text("channel_name")?,
            created_at: row.time("created_at")?,
            redeemed_at: row.opt_time("redeemed_at")?,
            voided_at: row.opt_time("voided_at")?,
            offers: Vec::new(),
        })
    }
}

/// A member's redemption.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRedemption {
    pub id: i64,
    pub offer_id: OfferId,
    pub offer_name: String,
    pub code: Option<String>,
    pub store_name: Option<String>,
    pub redeemed_at: Timestamp,
    pub business_date: String,
    pub voided_at: Option<Timestamp>,
}

impl FromRow for MemberRedemption {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            offer_id: OfferId(row.int("offer_id")?),
            offer_name: row.text("offer_name")?,
            code: row.opt_text("code")?,
            store_name: row.opt_text("store_name")?,
            redeemed_at: row.time("redeemed_at")?,
            business_date: row.text("business_date")?,
            voided_at: row.opt_time("voided_at")?,
        })
    }
}

/// A member's page: the member, their newest codes and redemptions (at most `cap` each)
/// and how many there are in all.
#[derive(Debug, Clone)]
pub struct MemberPage {
    pub member: Member,
    pub codes: Vec<MemberCode>,
    pub codes_total: i64,
    pub redemptions: Vec<MemberRedemption>,
    pub redemptions_total: i64,
}

/// The account's member `id` and their newest codes and redemptions: at most six
/// statements in one read snapshot, however many codes the member has.
pub async fn member_page(db: &Db, account: AccountId, id: MemberId, cap: i64) -> Result<Option<MemberPage>> {
    let mut tx = db.begin_read().await?;
    let member: Option<Member> = tx
        .fetch_optional(
            "SELECT id, identifier, notification_mode, created_at, updated_at FROM members \
             WHERE id = $1 AND account_id = $2",
            &[id.into(), account.into()],
        )
        .await?;
    let Some(member) = member else {
        tx.commit().await?;
        return Ok(None);
    };
    let params = [id.into(), account.into()];
    let codes_total: Option<i64> =
        tx.fetch_optional("SELECT COUNT(*) FROM credentials WHERE member_id = $1 AND account_id = $2", &params).await?;
    let mut codes: Vec<MemberCode> = tx
        .fetch_all(
            "SELECT c.id, c.identifier, c.status, c.created_at, c.redeemed_at, c.voided_at, ch.name AS channel_name \
             FROM credentials c LEFT JOIN channels ch ON ch.id = c.channel_id \
             WHERE c.member_id = $1 AND c.account_id = $2 ORDER BY c.id DESC LIMIT $3",
            &[id.into(), account.into(), cap.into()],
        )
        .await?;
    if !codes.is_empty() {
        let ids: Vec<CredentialId> = codes.iter().map(|c| c.id).collect();
        let offers: Vec<CodeOffer> = tx
            .fetch_all(
                &format!(
                    "SELECT co.credential_id, o.id AS offer_id, o.name, o.status FROM credential_offers co \
                     JOIN offers o ON o.id = co.offer_id WHERE co.account_id = $1 AND {} ORDER BY o.id",
                    tx.dialect().in_list_sql("co.credential_id", 2)
                ),
                &[account.into(), Value::from(&ids[..])],
            )
            .await?;
        for code in &mut codes {
            code.offers = offers.iter().filter(|o| o.credential_id == code.id).cloned().collect();
        }
    }
    let redemptions_total: Option<i64> =
        tx.fetch_optional("SELECT COUNT(*) FROM redemptions WHERE member_id = $1 AND account_id = $2", &params).await?;
    let redemptions: Vec<MemberRedemption> = tx
        .fetch_all(
            "SELECT r.id, r.offer_id, o.name AS offer_name, c.identifier AS code, s.name AS store_name, \
             r.redeemed_at, r.business_date, r.voided_at \
             FROM redemptions r JOIN offers o ON o.id = r.offer_id JOIN credentials c ON c.id = r.credential_id \
             LEFT JOIN stores s ON s.id = r.store_id \
             WHERE r.member_id = $1 AND r.account_id = $2 ORDER BY r.id DESC LIMIT $3",
            &[id.into(), account.into(), cap.into()],
        )
        .await?;
    tx.commit().await?;
    Ok(Some(MemberPage {
        member,
        codes,
        codes_total: codes_total.unwrap_or(0),
        redemptions,
        redemptions_total: redemptions_total.unwrap_or(0),
    }))
}

/// A member list with how many members it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSize {
    pub id: MemberListId,
    pub name: String,
    pub members: i64,
}

impl FromRow for ListSize {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: MemberListId(row.int("id")?), name: row.text("name")?, members: row.int("members")? })
    }
}

/// One page of the account's member lists by name (any part of the name, any case, when
/// `q` is given), with their sizes, and how many lists match: two statements.
pub async fn member_lists(
    db: &Db,
    account: AccountId,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ListSize>, i64)> {
    // Both sides lowered by the database, so they fold alike (see `query::contains`).
    let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let condition = "l.account_id = $1 AND LOWER(l.name) LIKE LOWER($2) ESCAPE '\\'";
    let mut tx = db.begin_read().await?;
    let total: Option<i64> = tx
        .fetch_optional(
            &format!("SELECT COUNT(*) FROM member_lists l WHERE {condition}"),
            &[account.into(), pattern.as_str().into()],
        )
        .await?;
    let lists: Vec<ListSize> = tx
        .fetch_all(
            &format!(
                "SELECT l.id, l.name, (SELECT COUNT(*) FROM member_list_members m WHERE m.member_list_id = l.id) \
                 AS members FROM member_lists l WHERE {condition} ORDER BY {}, l.id LIMIT $3 OFFSET $4",
                db.dialect().bytewise("l.name")
            ),
            &[account.into(), pattern.as_str().into(), limit.into(), offset.into()],
        )
        .await?;
    tx.commit().await?;
    Ok((lists, total.unwrap_or(0)))
}

struct Found {
    id: MemberId,
    identifier: String,
}

impl FromRow for Found {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: MemberId(row.int("id")?), identifier: row.text("identifier")? })
    }
}

/// The account's members with these identifiers (one statement), as `(identifier, id)`;
/// identifiers no member has are left out.
pub async fn ids_by_identifier(db: &Db, account: AccountId, identifiers: &[String]) -> Result<Vec<(String, MemberId)>> {
    if identifiers.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, identifier FROM members WHERE account_id = $1 AND {}",
        db.dialect().in_list_sql("identifier", 2)
    );
    let found: Vec<Found> = db.fetch_all(&sql, &[account.into(), Value::from(identifiers)]).await?;
    Ok(found.into_iter().map(|f| (f.identifier, f.id)).collect())
}

/// The account's member list's name.
pub async fn member_list_name(db: &Db, account: AccountId, id: MemberListId) -> Result<Option<String>> {
    db.fetch_optional("SELECT name FROM member_lists WHERE id = $1 AND account_id = $2", &[id.into(), account.into()])
        .await
}
