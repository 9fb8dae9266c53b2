//! Landing pages: what the page of an `xid` shows (one read), and a visit (the visitor's
//! member, their code, the impression) written in one transaction.

use crate::credentials::write::{self, CredentialInput, WriteError};
use crate::credentials::{self, Credential};
use crate::impressions::{self, NewImpression};
use crate::{members, Db, Dialect, FromRow, Result, Row, Tx};
use kindling_domain::credentials::rules::Refusal;
use kindling_domain::offers::offer::Window;
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::{AccountId, ChannelId, CredentialId, OfferId, Timestamp};
use serde_json::{json, Map, Value as Json};

/// One offer on one channel as its landing page needs it. `xid` is unique across accounts,
/// so the page is found without one; everything after is scoped by `account_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Page {
    pub account_id: AccountId,
    pub offer_id: OfferId,
    pub channel_id: ChannelId,
    pub channel_name: String,
    pub xid: String,
    pub security: Option<String>,
    pub security_key: Option<String>,
    pub allow_hmac: bool,
    pub allow_return_later: bool,
    pub name: String,
    pub description: Option<String>,
    pub terms_and_conditions: Option<String>,
    pub merchant_name: Option<String>,
    pub status: OfferStatus,
    pub window: (Option<Timestamp>, Option<Timestamp>, Option<Timestamp>),
    /// The offer's formatting as stored (a JSON object's text).
    pub formatting: String,
    /// The offer's merchant or the account supports barcodes.
    pub supports_barcode: bool,
}

impl Page {
    pub fn window(&self) -> Window {
        Window { activates_at: self.window.0, expires_at: self.window.1, stop_offering_at: self.window.2 }
    }

    pub fn formatting(&self) -> Map<String, Json> {
        serde_json::from_str(&self.formatting).unwrap_or_default()
    }
}

impl FromRow for Page {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            account_id: AccountId(row.int("account_id")?),
            offer_id: OfferId(row.int("offer_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            channel_name: row.text("channel_name")?,
            xid: row.text("xid")?,
            security: row.opt_text("security")?,
            security_key: row.opt_text("security_key")?,
            allow_hmac: row.boolean("allow_hmac")?,
            allow_return_later: row.boolean("allow_return_later")?,
            name: row.text("name")?,
            description: row.opt_text("description")?,
            terms_and_conditions: row.opt_text("terms_and_conditions")?,
            merchant_name: row.opt_text("merchant_name")?,
            status: crate::db::decode("offer status", row.text("status")?, OfferStatus::parse)?,
            window: (row.opt_time("activates_at")?, row.opt_time("expires_at")?, row.opt_time("stop_offering_at")?),
            formatting: row.text("formatting")?,
            supports_barcode: row.boolean("merchant_barcode")? || row.boolean("account_barcode")?,
        })
    }
}

/// The page of `xid`, whatever the offer's status (the caller decides what to show).
pub async fn page(db: &Db, xid: &str) -> Result<Option<Page>> {
    db.fetch_optional(
        "SELECT e.account_id, e.offer_id, e.channel_id, c.name AS channel_name, e.xid, e.security, e.security_key, \
         c.allow_hmac, e.allow_return_later, o.name, o.description, o.terms_and_conditions, \
         COALESCE(m.name, o.merchant_name) AS merchant_name, o.status, o.activates_at, o.expires_at, \
         o.stop_offering_at, o.formatting, COALESCE(m.supports_barcode, FALSE) AS merchant_barcode, \
         a.supports_barcode AS account_barcode \
         FROM eligible_channels e JOIN channels c ON c.id = e.channel_id JOIN offers o ON o.id = e.offer_id \
         JOIN accounts a ON a.id = e.account_id LEFT JOIN merchants m ON m.id = o.merchant_id \
         WHERE e.xid = $1",
        &[xid.into()],
    )
    .await
}

/// Who is looking at the page.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The member's identifier: the link's `sf_uid`, or the visitor cookie's member.
    pub member_identifier: String,
    pub cookie_id: String,
    /// The identity is the visitor's own: a signed link's `sf_uid`, or the cookie's member. An
    /// unsigned `sf_uid` is anyone's to type, so the member's earlier code is shown again only
    /// to a browser (cookie) that viewed the page as that member before.
    pub vouched: bool,
    /// `sf_ac`: the creative the visitor came from.
    pub creative_name: Option<String>,
    /// What the impression notes about the view (`{"view": "printable"}`).
    pub annotations: Map<String, Json>,
}

/// What the visit handed out.
#[derive(Debug, Clone)]
pub enum Handed {
    /// A code: newly issued, or the one this member already holds (`allow_return_later`).
    Code { credential: Box<Credential>, returning: bool },
    /// The member already took this offer on this channel, and the channel does not let a
    /// visitor return to see the code again.
    AlreadyClaimed,
    /// The credential rules refused a code (limits, member lists, dates...).
    Refused(Refusal),
    /// Issuing failed for another reason the visitor can retry (e.g. no free code drawn).
    Unavailable(String),
}

/// Records one view of `page` by `visitor`: finds or creates the member, hands them their
/// code (the existing open one when the channel allows returning, else a new one through the
/// same rules as `POST /v1.0/credentials`), and records the impression, all in one
/// transaction. A refusal still records the impression.
pub async fn visit(db: &Db, page: &Page, visitor: Visitor) -> Result<Handed> {
    let page = page.clone();
    db.transaction(move |tx| Box::pin(async move { visit_in(tx, &page, &visitor).await })).await
}

async fn visit_in(tx: &mut Tx, page: &Page, visitor: &Visitor) -> Result<Handed> {
    let now = Timestamp::now();
    let account = page.account_id;
    let member = members::find_or_create(tx, account, &visitor.member_identifier, now).await?;
    if tx.dialect() == Dialect::Postgres {
        // One visit of a member at a time, so two tabs opened at once find one code, not two
        // (SQLite's single writer already runs them one after the other).
        tx.execute("SELECT id FROM members WHERE id = $1 FOR NO KEY UPDATE", &[member.into()]).await?;
    }
    let held = held_credential(tx, page, member).await?;
    let shown_again = match &held {
        Some(Held { open: true, .. }) if page.allow_return_later => {
            visitor.vouched || seen_before(tx, account, member, &visitor.cookie_id).await?
        }
        _ => false,
    };
    let handed = match held {
        Some(_) if !page.allow_return_later => Handed::AlreadyClaimed,
        Some(Held { open: true, .. }) if !shown_again => Handed::AlreadyClaimed,
        Some(Held { id, open: true }) => match credentials::load_in(tx, account, id).await? {
            Some(credential) => Handed::Code { credential: Box::new(credential), returning: true },
            None => Handed::Unavailable("the code could not be read".into()),
        },
        _ => {
            let mut annotations = Map::new();
            if let Some(ac) = &visitor.creative_name {
                annotations.insert("sf_ac".into(), json!(ac));
            }
            let input = CredentialInput {
                member_id: Some(member),
                channel_id: Some(page.channel_id),
                offer_ids: Some(vec![page.offer_id]),
                annotations: Some(annotations),
                ..Default::default()
            };
            match write::create_in(tx, account, input).await {
                Ok(credential) => Handed::Code { credential: Box::new(credential), returning: false },
                // Refusals are decided before anything is written, so the visit goes on.
                Err(WriteError::Refused(refusal)) => Handed::Refused(refusal),
                Err(WriteError::Invalid(message) | WriteError::Conflict(message)) => Handed::Unavailable(message),
                Err(WriteError::NotFound) => Handed::Unavailable("the offer was not found".into()),
                Err(WriteError::Store(e)) => return Err(e),
            }
        }
    };
    let annotations = Json::Object(visitor.annotations.clone()).to_string();
    let impression = NewImpression {
        cookie_id: &visitor.cookie_id,
        offer_xid: &page.xid,
        channel_id: Some(page.channel_id),
        channel_name: Some(&page.channel_name),
        member_id: Some(member),
        creative_name: visitor.creative_name.as_deref(),
        annotations: &annotations,
    };
    impressions::record(tx, account, &impression, now).await?;
    Ok(handed)
}

struct Held {
    id: CredentialId,
    open: bool,
}

impl FromRow for Held {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: CredentialId(row.int("id")?), open: row.text("status")? == "open" })
    }
}

/// Whether this browser (its visitor cookie) has viewed a page as this member before.
async fn seen_before(tx: &mut Tx, account: AccountId, member: kindling_domain::MemberId, cookie: &str) -> Result<bool> {
    let seen: Option<i64> = tx
        .fetch_optional(
            "SELECT id FROM impressions WHERE member_id = $1 AND account_id = $2 AND cookie_id = $3 LIMIT 1",
            &[member.into(), account.into(), cookie.into()],
        )
        .await?;
    Ok(seen.is_some())
}

/// The member's latest credential for this offer on this channel, if any.
async fn held_credential(tx: &mut Tx, page: &Page, member: kindling_domain::MemberId) -> Result<Option<Held>> {
    tx.fetch_optional(
        "SELECT c.id, c.status FROM credentials c \
         JOIN credential_offers co ON co.credential_id = c.id AND co.offer_id = $4 \
         WHERE c.account_id = $1 AND c.member_id = $2 AND c.channel_id = $3 ORDER BY c.id DESC LIMIT 1",
        &[page.account_id.into(), member.into(), page.channel_id.into(), page.offer_id.into()],
    )
    .await
}
