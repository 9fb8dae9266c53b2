//! The offer wallet: offers saved to members. Each state holds its own credential, issued
//! through the credential rules (`credentials::write::create_in`) in the state's transaction,
//! whose code is the state's POS-redeemable `credential_identifier` and whose window
//! (`activates_at`, `code_expires_at`) is the state's custom one. A state is read with its
//! offer and credential in one statement, so a page costs two (the page and its count).

use crate::credentials::write::{self, CredentialInput, WriteError};
use crate::crud::{self, Paged};
use crate::members::Members;
use crate::{query, Db, FromRow, Result, Row, StoreError, Tx};
use kindling_domain::credentials::code::CodeCipher;
use kindling_domain::offer_state::{self, Changes, Facts, Status};
use kindling_domain::paging::PageRequest;
use kindling_domain::{AccountId, ChannelId, CredentialId, FieldErrors, MemberId, OfferId, OfferStateId, Timestamp};
use sea_query::{Alias, Condition, Expr, JoinType, Order, Query, SelectStatement, SimpleExpr, UnionType};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value as Json};

pub const MEMBER_NOT_FOUND: &str = "Member not found";
pub const NOT_FOUND: &str = "Member or Offer State not found";
pub const TOKEN_NOT_FOUND: &str = "Offer State not found";
pub const ALREADY_VOIDED: &str = "Offer State already voided";

/// A state as the API shows it (`offer_state`).
#[derive(Debug, Clone, PartialEq)]
pub struct OfferState {
    pub id: OfferStateId,
    pub offer_id: OfferId,
    pub member_id: MemberId,
    pub channel_id: ChannelId,
    pub status: Status,
    pub value: Option<i64>,
    pub offer_name: String,
    pub offer_description: Option<String>,
    pub offer_terms_and_conditions: Option<String>,
    /// The offer's formatting `web_url`, `web_thumb_url`, `mobile_url`, `mobile_thumb_url`.
    pub images: [Option<String>; 4],
    pub credential_identifier: Option<String>,
    pub locked: bool,
    pub is_reward: bool,
    pub external_ref_id: Option<String>,
    /// The state's own window, or the offer's where it has none.
    pub activates_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub token: String,
    pub transferable: bool,
}

const SELECT_LIST: &str = "s.id, s.offer_id, s.member_id, s.channel_id, s.external_ref_id, s.token, s.transferable, \
    s.voided_at, COALESCE(s.activates_at, o.activates_at) AS activates_at, \
    COALESCE(s.expires_at, o.expires_at) AS expires_at, o.name AS offer_name, o.description AS offer_description, \
    o.terms_and_conditions AS offer_terms_and_conditions, o.reward_item_value, o.is_reward, o.formatting, \
    c.identifier AS credential_identifier, c.status AS credential_status, c.locked_until";

const IMAGE_KEYS: [&str; 4] = ["web_url", "web_thumb_url", "mobile_url", "mobile_thumb_url"];

impl FromRow for OfferState {
    fn from_row(row: &impl Row) -> Result<Self> {
        let now = Timestamp::now();
        let credential_status = row.text("credential_status")?;
        let (activates_at, expires_at) = (row.opt_time("activates_at")?, row.opt_time("expires_at")?);
        let facts = Facts {
            voided: row.opt_int("voided_at")?.is_some() || credential_status == "voided",
            redeemed: credential_status == "redeemed",
            activates_at,
            expires_at,
        };
        let formatting: Map<String, Json> = serde_json::from_str(&row.text("formatting")?).unwrap_or_default();
        let image = |key: &str| formatting.get(key).and_then(Json::as_str).map(str::to_owned);
        Ok(Self {
            id: OfferStateId(row.int("id")?),
            offer_id: OfferId(row.int("offer_id")?),
            member_id: MemberId(row.int("member_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            status: Status::of(facts, now),
            value: row.opt_int("reward_item_value")?,
            offer_name: row.text("offer_name")?,
            offer_description: row.opt_text("offer_description")?,
            offer_terms_and_conditions: row.opt_text("offer_terms_and_conditions")?,
            images: IMAGE_KEYS.map(image),
            credential_identifier: row.opt_text("credential_identifier")?,
            locked: row.opt_time("locked_until")?.is_some_and(|l| l > now),
            is_reward: row.boolean("is_reward")?,
            external_ref_id: row.opt_text("external_ref_id")?,
            activates_at,
            expires_at,
            token: row.text("token")?,
            transferable: row.boolean("transferable")?,
        })
    }
}

impl Serialize for OfferState {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("offer_state_id", &self.id)?;
        map.serialize_entry("offer_id", &self.offer_id)?;
        map.serialize_entry("member_id", &self.member_id)?;
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("value", &self.value)?;
        map.serialize_entry("offer_name", &self.offer_name)?;
        map.serialize_entry("offer_description", &self.offer_description)?;
        map.serialize_entry("offer_terms_and_conditions", &self.offer_terms_and_conditions)?;
        let names = ["offer_web_image_url", "offer_web_thumb_url", "offer_mobile_image_url", "offer_mobile_thumb_url"];
        for (name, url) in names.iter().zip(&self.images) {
            map.serialize_entry(name, url)?;
        }
        map.serialize_entry("credential_identifier", &self.credential_identifier)?;
        map.serialize_entry("offer_value_required", &false)?;
        map.serialize_entry("locked", &self.locked)?;
        map.serialize_entry("is_reward", &self.is_reward)?;
        map.serialize_entry("external_ref_id", &self.external_ref_id)?;
        map.serialize_entry("activates_at", &time(self.activates_at))?;
        map.serialize_entry("expires_at", &time(self.expires_at))?;
        map.serialize_entry("token", &self.token)?;
        map.serialize_entry("transferable", &self.transferable)?;
        map.end()
    }
}

/// Why an offer-state write did not happen.
#[derive(Debug)]
pub enum StateError {
    /// 404 with this message.
    NotFound(&'static str),
    /// The credential rules refused (answered as `POST /v1.0/credentials` answers).
    Credential(WriteError),
    /// A window outside the offer's, or inverted (400 with field errors).
    Window(FieldErrors),
    /// 422 with this message.
    Unprocessable(&'static str),
    Store(StoreError),
}

impl crate::MaybeBusy for StateError {
    fn is_busy(&self) -> bool {
        match self {
            Self::Store(e) => e.is_busy(),
            Self::Credential(e) => e.is_busy(),
            _ => false,
        }
    }
}

impl From<StoreError> for StateError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<WriteError> for StateError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Store(e) => Self::Store(e),
            other => Self::Credential(other),
        }
    }
}

type Outcome<T> = std::result::Result<T, StateError>;

fn select(account: AccountId, condition: Condition) -> SelectStatement {
    Query::select()
        .from_as("offer_states", Alias::new("s"))
        .join_as(JoinType::InnerJoin, "offers", Alias::new("o"), Expr::col(("o", "id")).equals(("s", "offer_id")))
        .join_as(
            JoinType::InnerJoin,
            "credentials",
            Alias::new("c"),
            Expr::col(("c", "id")).equals(("s", "credential_id")),
        )
        .cond_where(Condition::all().add(query::in_account(Some("s"), account)).add(condition))
        .to_owned()
}

/// What a list is narrowed to.
#[derive(Debug, Clone)]
pub enum Listing {
    /// A member's states on a channel.
    Member(MemberId, ChannelId),
    /// States by transfer token and/or their credential's code (at least one is given).
    Search { token: Option<String>, credential_identifier: Option<String> },
}

/// `credentials::codes::code_ids` built: the ids of the account's credentials with `code`
/// (its open one by `key`, or by text if drawn before keys; the others by text), each part
/// through its partial index (the conditions stay literals for that).
fn code_ids(account: AccountId, code: &str, key: Option<i64>) -> SelectStatement {
    let part = |by: SimpleExpr, status: &str| {
        Query::select()
            .column("id")
            .from("credentials")
            .and_where(Expr::col("account_id").eq(account.0))
            .and_where(by)
            .and_where(Expr::cust(status))
            .to_owned()
    };
    part(Expr::col("code_key").eq(key).and(Expr::col("identifier").eq(code)), "status = 'open'")
        .union(UnionType::All, part(Expr::col("identifier").eq(code), "status = 'open' AND code_key IS NULL"))
        .union(UnionType::All, part(Expr::col("identifier").eq(code), "status <> 'open'"))
        .to_owned()
}

impl Listing {
    fn condition(self, account: AccountId, codes: &CodeCipher) -> Condition {
        match self {
            Self::Member(member, channel) => Condition::all()
                .add(Expr::col(("s", "member_id")).eq(member.0))
                .add(Expr::col(("s", "channel_id")).eq(channel.0)),
            Self::Search { token, credential_identifier } => {
                let mut all = Condition::all();
                if let Some(token) = token {
                    all = all.add(Expr::col(("s", "token")).eq(token));
                }
                if let Some(code) = credential_identifier {
                    all = all.add(Expr::col(("c", "id")).in_subquery(code_ids(account, &code, codes.key(&code))));
                }
                all
            }
        }
    }
}

/// One page of states, oldest first, in two statements whatever its length.
pub async fn list(db: &Db, account: AccountId, listing: Listing, page: PageRequest) -> Result<Paged<OfferState>> {
    let mut statement = select(account, listing.condition(account, db.codes()?));
    let count = statement.clone().expr_as(Expr::cust("COUNT(*)"), Alias::new("count")).to_owned();
    let (sql, params) = query::build(&count, db.dialect())?;
    let total_entries = db.fetch_optional::<i64>(&sql, &params).await?.unwrap_or(0);
    statement
        .expr(Expr::cust(SELECT_LIST))
        .order_by(("s", "id"), Order::Asc)
        .limit(page.limit() as u64)
        .offset(page.offset() as u64);
    let (sql, params) = query::build(&statement, db.dialect())?;
    let items = db.fetch_all::<OfferState>(&sql, &params).await?;
    Ok(Paged { items, total_entries, page })
}

/// The member's state `id`.
pub async fn get(db: &Db, account: AccountId, member: MemberId, id: OfferStateId) -> Result<Option<OfferState>> {
    let condition =
        Condition::all().add(Expr::col(("s", "id")).eq(id.0)).add(Expr::col(("s", "member_id")).eq(member.0));
    let statement = select(account, condition).expr(Expr::cust(SELECT_LIST)).to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    db.fetch_optional(&sql, &params).await
}

/// A new state: the offer on the channel for the member, with an optional window.
#[derive(Debug, Clone)]
pub struct NewState {
    pub channel_id: Option<ChannelId>,
    pub offer_id: OfferId,
    pub changes: Changes,
}

/// Issues a state and its credential in one transaction; a refusal writes nothing.
pub async fn issue(db: &Db, account: AccountId, member: MemberId, new: NewState) -> Outcome<OfferStateId> {
    db.transaction(move |tx| Box::pin(issue_in(tx, account, member, new))).await
}

/// The offer's own window.
async fn offer_window(
    tx: &mut Tx,
    account: AccountId,
    offer: OfferId,
) -> Result<(Option<Timestamp>, Option<Timestamp>)> {
    struct Window(Option<Timestamp>, Option<Timestamp>);
    impl FromRow for Window {
        fn from_row(row: &impl Row) -> Result<Self> {
            Ok(Self(row.opt_time("activates_at")?, row.opt_time("expires_at")?))
        }
    }
    let window: Option<Window> = tx
        .fetch_optional(
            "SELECT activates_at, expires_at FROM offers WHERE id = $1 AND account_id = $2",
            &[offer.into(), account.into()],
        )
        .await?;
    Ok(window.map_or((None, None), |w| (w.0, w.1)))
}

/// Gives the credential the state's window, so redemption enforces it.
async fn set_credential_window(
    tx: &mut Tx,
    account: AccountId,
    credential: CredentialId,
    window: (Option<Timestamp>, Option<Timestamp>),
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "UPDATE credentials SET activates_at = $3, code_expires_at = $4, updated_at = $5 WHERE id = $1 AND account_id = $2",
        &[
            credential.into(),
            account.into(),
            window.0.map(Timestamp::unix).into(),
            window.1.map(Timestamp::unix).into(),
            now.unix().into(),
        ],
    )
    .await
    .map(drop)
}

async fn issue_in(tx: &mut Tx, account: AccountId, member: MemberId, new: NewState) -> Outcome<OfferStateId> {
    let now = Timestamp::now();
    if !crud::contains::<Members>(tx, account, member).await? {
        return Err(StateError::NotFound(MEMBER_NOT_FOUND));
    }
    let own = (new.changes.activates_at.flatten(), new.changes.expires_at.flatten());
    // The credential (written with the state's window) goes through the credential rules
    // first (the offer, channel, member lists, limits); the window is then checked against
    // the offer they found, and a bad one rolls it all back.
    let input = CredentialInput {
        member_id: Some(member),
        channel_id: new.channel_id,
        offer_ids: Some(vec![new.offer_id]),
        activates_at: own.0,
        expires_at: own.1,
        ..Default::default()
    };
    let credential = write::create_in(tx, account, input).await?;
    offer_state::check_window(own, offer_window(tx, account, new.offer_id).await?).map_err(StateError::Window)?;
    let row = StateRow {
        member,
        offer: new.offer_id,
        channel: credential.channel_id,
        credential: credential.id,
        window: own,
        external_ref_id: new.changes.external_ref_id.flatten(),
    };
    Ok(insert(tx, account, row, now).await?)
}

/// What a new state row holds (its token is drawn by `insert`).
pub(crate) struct StateRow {
    pub member: MemberId,
    pub offer: OfferId,
    pub channel: ChannelId,
    pub credential: CredentialId,
    /// The state's own window (activates, expires).
    pub window: (Option<Timestamp>, Option<Timestamp>),
    pub external_ref_id: Option<String>,
}

/// Inserts a state with a fresh token; the wallet's issue and the high-throughput issuance
/// both write through it.
pub(crate) async fn insert(tx: &mut Tx, account: AccountId, row: StateRow, now: Timestamp) -> Result<OfferStateId> {
    let id: Option<i64> = tx
        .fetch_optional(
            "INSERT INTO offer_states (account_id, member_id, offer_id, channel_id, credential_id, activates_at, \
             expires_at, external_ref_id, token, transferable, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $10, $10) RETURNING id",
            &[
                account.into(),
                row.member.into(),
                row.offer.into(),
                row.channel.into(),
                row.credential.into(),
                row.window.0.map(Timestamp::unix).into(),
                row.window.1.map(Timestamp::unix).into(),
                row.external_ref_id.into(),
                offer_state::new_token().into(),
                now.unix().into(),
            ],
        )
        .await?;
    let id = id.ok_or_else(|| StoreError::Decode("INSERT ... RETURNING id returned no row".into()))?;
    Ok(OfferStateId(id))
}

/// A state as a write finds it.
struct Current {
    id: OfferStateId,
    member_id: MemberId,
    offer_id: OfferId,
    channel_id: ChannelId,
    credential_id: CredentialId,
    own: (Option<Timestamp>, Option<Timestamp>),
    offer: (Option<Timestamp>, Option<Timestamp>),
    external_ref_id: Option<String>,
    transferable: bool,
    voided: bool,
    credential_status: String,
}

impl FromRow for Current {
    fn from_row(row: &impl Row) -> Result<Self> {
        let credential_status = row.text("credential_status")?;
        Ok(Self {
            id: OfferStateId(row.int("id")?),
            member_id: MemberId(row.int("member_id")?),
            offer_id: OfferId(row.int("offer_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            credential_id: CredentialId(row.int("credential_id")?),
            own: (row.opt_time("activates_at")?, row.opt_time("expires_at")?),
            offer: (row.opt_time("offer_activates_at")?, row.opt_time("offer_expires_at")?),
            external_ref_id: row.opt_text("external_ref_id")?,
            transferable: row.boolean("transferable")?,
            voided: row.opt_int("voided_at")?.is_some() || credential_status == "voided",
            credential_status,
        })
    }
}

const CURRENT: &str =
    "SELECT s.id, s.member_id, s.offer_id, s.channel_id, s.credential_id, s.activates_at, s.expires_at, \
    o.activates_at AS offer_activates_at, o.expires_at AS offer_expires_at, s.external_ref_id, s.transferable, \
    s.voided_at, c.status AS credential_status \
    FROM offer_states s JOIN offers o ON o.id = s.offer_id JOIN credentials c ON c.id = s.credential_id";

/// Locks the state's credential (on PostgreSQL, until commit) before anything of the state is
/// written: redemptions, voids and the privacy paths take a code before its state, so taking
/// them in the other order could deadlock with them. Answers the code's hold (`locked_until`,
/// 0 when none), `None` when the account has no such state.
async fn lock_credential(tx: &mut Tx, account: AccountId, id: OfferStateId) -> Result<Option<i64>> {
    let lock = tx.dialect().row_lock("c");
    let sql = format!(
        "SELECT COALESCE(c.locked_until, 0) FROM credentials c JOIN offer_states s ON s.credential_id = c.id \
         WHERE s.id = $1 AND s.account_id = $2{lock}"
    );
    tx.fetch_optional(&sql, &[id.into(), account.into()]).await
}

/// Changes the window (inside the offer's) and `external_ref_id` of the member's state,
/// and the credential's window with it.
pub async fn update(db: &Db, account: AccountId, member: MemberId, id: OfferStateId, changes: Changes) -> Outcome<()> {
    db.transaction(move |tx| Box::pin(update_in(tx, account, member, id, changes))).await
}

async fn update_in(
    tx: &mut Tx,
    account: AccountId,
    member: MemberId,
    id: OfferStateId,
    changes: Changes,
) -> Outcome<()> {
    let now = Timestamp::now();
    lock_credential(tx, account, id).await?;
    // The state's row too (PostgreSQL): two partial changes at once each merge into what the
    // other wrote, instead of the later one writing back the fields it read before.
    let lock = tx.dialect().row_lock("s");
    let sql = format!("{CURRENT} WHERE s.id = $1 AND s.account_id = $2 AND s.member_id = $3{lock}");
    let current: Option<Current> = tx.fetch_optional(&sql, &[id.into(), account.into(), member.into()]).await?;
    let current = current.ok_or(StateError::NotFound(NOT_FOUND))?;
    if current.voided {
        return Err(StateError::Unprocessable("Offer State is voided and can no longer be changed"));
    }
    let own = (changes.activates_at.unwrap_or(current.own.0), changes.expires_at.unwrap_or(current.own.1));
    offer_state::check_window(own, current.offer).map_err(StateError::Window)?;
    let external = changes.external_ref_id.unwrap_or(current.external_ref_id);
    // Still the member's and not voided as the write finds it: a transfer or void that
    // committed since the read wins (the state is then another member's, or void).
    let changed = tx
        .execute(
            "UPDATE offer_states SET activates_at = $3, expires_at = $4, external_ref_id = $5, updated_at = $6 \
             WHERE id = $1 AND account_id = $2 AND member_id = $7 AND voided_at IS NULL",
            &[
                id.into(),
                account.into(),
                own.0.map(Timestamp::unix).into(),
                own.1.map(Timestamp::unix).into(),
                external.into(),
                now.unix().into(),
                member.into(),
            ],
        )
        .await?;
    if changed == 0 {
        let again: Option<Current> = tx.fetch_optional(&sql, &[id.into(), account.into(), member.into()]).await?;
        return Err(match again {
            Some(state) if state.voided => {
                StateError::Unprocessable("Offer State is voided and can no longer be changed")
            }
            _ => StateError::NotFound(NOT_FOUND),
        });
    }
    set_credential_window(tx, account, current.credential_id, own, now).await?;
    Ok(())
}

/// Who a void names: the path's member id, or a member identifier.
#[derive(Debug, Clone)]
pub enum Holder {
    Id(MemberId),
    Identifier(String),
}

/// Voids the holder's state and its credential (through the credential void, with its
/// activities, callbacks and given-back limits). A second void is `ALREADY_VOIDED`.
pub async fn void(db: &Db, account: AccountId, holder: Holder, id: OfferStateId) -> Outcome<()> {
    db.transaction_retrying(move |tx| Box::pin(void_in(tx, account, holder.clone(), id))).await
}

async fn void_in(tx: &mut Tx, account: AccountId, holder: Holder, id: OfferStateId) -> Outcome<()> {
    let now = Timestamp::now();
    let member = match holder {
        Holder::Id(member) => member,
        Holder::Identifier(identifier) => {
            let found: Option<i64> = tx
                .fetch_optional(
                    "SELECT id FROM members WHERE account_id = $1 AND identifier = $2",
                    &[account.into(), identifier.into()],
                )
                .await?;
            MemberId(found.ok_or(StateError::NotFound(NOT_FOUND))?)
        }
    };
    lock_credential(tx, account, id).await?;
    let voided: Option<i64> = tx
        .fetch_optional(
            "UPDATE offer_states SET voided_at = $4, updated_at = $4 WHERE id = $1 AND account_id = $2 \
             AND member_id = $3 AND voided_at IS NULL RETURNING credential_id",
            &[id.into(), account.into(), member.into(), now.unix().into()],
        )
        .await?;
    let Some(credential) = voided else {
        let exists: Option<i64> = tx
            .fetch_optional(
                "SELECT id FROM offer_states WHERE id = $1 AND account_id = $2 AND member_id = $3",
                &[id.into(), account.into(), member.into()],
            )
            .await?;
        return Err(match exists {
            Some(_) => StateError::Unprocessable(ALREADY_VOIDED),
            None => StateError::NotFound(NOT_FOUND),
        });
    };
    match write::void_in(tx, account, CredentialId(credential)).await {
        Ok(()) => Ok(()),
        // Voided through the credentials API first: the state already showed "voided".
        Err(WriteError::Invalid(_)) => Err(StateError::Unprocessable(ALREADY_VOIDED)),
        Err(e) => Err(e.into()),
    }
}

/// A transfer: the state holding `token`, optionally required to be of this offer/channel.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub token: String,
    pub channel_id: Option<ChannelId>,
    pub offer_id: Option<OfferId>,
}

/// Moves the transferable, live state holding `transfer.token` (and its credential) to
/// `member`, replacing the token, exactly once: the move is an update conditional on the old
/// token, so of concurrent transfers of one token one moves it and the others find the
/// token gone (`TOKEN_NOT_FOUND`). The member who already holds it gets it unchanged.
pub async fn transfer(db: &Db, account: AccountId, member: MemberId, transfer: Transfer) -> Outcome<OfferStateId> {
    db.transaction(move |tx| Box::pin(transfer_in(tx, account, member, transfer))).await
}

async fn transfer_in(tx: &mut Tx, account: AccountId, member: MemberId, t: Transfer) -> Outcome<OfferStateId> {
    let now = Timestamp::now();
    if !crud::contains::<Members>(tx, account, member).await? {
        return Err(StateError::NotFound(MEMBER_NOT_FOUND));
    }
    let sql = format!("{CURRENT} WHERE s.account_id = $1 AND s.token = $2");
    let current: Option<Current> = tx.fetch_optional(&sql, &[account.into(), t.token.as_str().into()]).await?;
    let current = current
        .filter(|c| t.channel_id.is_none_or(|ch| ch == c.channel_id) && t.offer_id.is_none_or(|o| o == c.offer_id))
        .ok_or(StateError::NotFound(TOKEN_NOT_FOUND))?;
    if current.member_id == member {
        return Ok(current.id);
    }
    if current.voided {
        return Err(StateError::Unprocessable("Offer State has been voided and cannot be transferred"));
    }
    if !current.transferable {
        return Err(StateError::Unprocessable("Offer State is not transferable"));
    }
    if current.credential_status != "open" {
        return Err(StateError::Unprocessable("Offer State has been redeemed and cannot be transferred"));
    }
    // A ticket holding the code will settle it for the member it holds it for.
    let held = lock_credential(tx, account, current.id).await?;
    if held.is_some_and(|until| until > now.unix()) {
        return Err(StateError::Unprocessable("Offer State is held by an open ticket and cannot be transferred now"));
    }
    let moved = tx
        .execute(
            "UPDATE offer_states SET member_id = $3, token = $4, updated_at = $5 WHERE id = $6 AND account_id = $1 \
             AND token = $2 AND voided_at IS NULL AND transferable",
            &[
                account.into(),
                t.token.as_str().into(),
                member.into(),
                offer_state::new_token().into(),
                now.unix().into(),
                current.id.into(),
            ],
        )
        .await?;
    if moved == 0 {
        return Err(StateError::NotFound(TOKEN_NOT_FOUND));
    }
    let followed = tx
        .execute(
            "UPDATE credentials SET member_id = $3, updated_at = $4 WHERE id = $1 AND account_id = $2 AND status = 'open'",
            &[current.credential_id.into(), account.into(), member.into(), now.unix().into()],
        )
        .await?;
    if followed == 0 {
        // Redeemed or voided since it was read: the state stays where it was.
        return Err(StateError::Unprocessable("Offer State has been redeemed and cannot be transferred"));
    }
    Ok(current.id)
}
