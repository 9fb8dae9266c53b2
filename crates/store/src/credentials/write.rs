//! Issue, update, redeem and void, each one short transaction. Limits are enforced by a
//! conditional increment of the offer's (and channel's) counter, which also locks the offer
//! row until commit on PostgreSQL; the per-member counts are read after that lock. On SQLite
//! the whole transaction holds the single writer lock. Callbacks go to the outbox in the
//! same transaction, so a committed redemption always has its callbacks.

use super::facts::{self, Gathered};
use super::outbox::{self, Kind};
use super::{load_in, Credential};
use crate::catalog::stores::Stores;
use crate::crud;
use crate::members::Members;
use crate::offers::{channels::Channels, eligible_channels};
use crate::{Db, FromRow, Result, Row, StoreError, Tx, Value};
use kindling_domain::catalog::merchant::RedemptionIdentifierType;
use kindling_domain::credentials::rules::{self, Facts, Purpose, Refusal};
use kindling_domain::credentials::{callback, code, ActivityType, CredentialStatus};
use kindling_domain::time::business_date;
use kindling_domain::{AccountId, ChannelId, CredentialId, MemberId, OfferId, StoreId, Timestamp};
use sea_query::{Expr, Order};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// Why a credential write did not happen.
#[derive(Debug)]
pub enum WriteError {
    /// A rule of the validation table (a 400 with the guide's message).
    Refused(Refusal),
    /// Another 400 with this message.
    Invalid(String),
    NotFound,
    Store(StoreError),
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

type Outcome<T> = std::result::Result<T, WriteError>;

struct AccountSettings {
    callbacks: bool,
    url: Option<String>,
    time_zone: Option<String>,
}

impl FromRow for AccountSettings {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            callbacks: row.boolean("enable_callbacks")?,
            url: row.opt_text("credential_callback_url")?,
            time_zone: row.opt_text("time_zone")?,
        })
    }
}

async fn settings(tx: &mut Tx, account: AccountId) -> Result<AccountSettings> {
    tx.fetch_optional(
        "SELECT enable_callbacks, credential_callback_url, time_zone FROM accounts WHERE id = $1",
        &[account.0.into()],
    )
    .await?
    .ok_or_else(|| StoreError::Decode("account vanished".into()))
}

async fn channel_exists(tx: &mut Tx, account: AccountId, id: ChannelId) -> Result<bool> {
    crud::contains::<Channels>(tx, account, id).await
}

async fn member_exists(tx: &mut Tx, account: AccountId, id: MemberId) -> Result<bool> {
    crud::contains::<Members>(tx, account, id).await
}

async fn store_exists(tx: &mut Tx, account: AccountId, id: StoreId) -> Result<bool> {
    crud::contains::<Stores>(tx, account, id).await
}

/// The credential fields a create or update may set.
#[derive(Debug, Clone, Default)]
pub struct CredentialInput {
    pub member_id: Option<MemberId>,
    pub channel_id: Option<ChannelId>,
    pub store_id: Option<StoreId>,
    /// `None`: keep (update) / none (create). Otherwise the full desired set.
    pub offer_ids: Option<Vec<OfferId>>,
    pub reusable: Option<bool>,
    pub annotations: Option<Map<String, Json>>,
    pub code_lifetime: Option<i64>,
}

async fn check_refs(tx: &mut Tx, account: AccountId, input: &CredentialInput) -> Outcome<()> {
    let channel = input.channel_id.ok_or(WriteError::Refused(Refusal::ChannelMissing))?;
    if !channel_exists(tx, account, channel).await? {
        return Err(WriteError::Invalid(
            "Channel can't be blank and must be associated with your account and offer".into(),
        ));
    }
    if let Some(member) = input.member_id {
        if !member_exists(tx, account, member).await? {
            return Err(WriteError::Invalid(format!("Member not found, with id: {member}")));
        }
    }
    if let Some(store) = input.store_id {
        if !store_exists(tx, account, store).await? {
            return Err(WriteError::Invalid(format!("Store not found, with id: {store}")));
        }
    }
    Ok(())
}

/// The domain's rules take plain `i64`s; `requested` is the offer ids as `raw` gives them.
fn facts<'a>(
    purpose: Purpose,
    channel: Option<ChannelId>,
    member: MemberId,
    requested: &'a [i64],
    g: &'a Gathered,
    locked: bool,
    now: Timestamp,
) -> Facts<'a> {
    Facts {
        purpose,
        channel_id: Some(channel.map_or(0, |c| c.0)),
        member_id: Some(member.0),
        requested,
        offers: &g.offers,
        member_lists: &g.member_lists,
        store: g.store.as_ref().map(|(m, l)| (*m, l.as_slice())),
        locked,
        now,
    }
}

async fn activity(
    tx: &mut Tx,
    account: AccountId,
    offer: OfferId,
    credential: &Credential,
    kind: ActivityType,
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO offer_activities (account_id, offer_id, credential_id, member_id, activity_type, description, \
         reported_at, processed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $7)",
        &[
            account.0.into(),
            offer.into(),
            credential.id.into(),
            credential.member_id.into(),
            kind.code().into(),
            kind.name().into(),
            now.unix().into(),
        ],
    )
    .await
    .map(drop)
}

/// Posts the credential to the account's callback URL when callbacks are enabled.
async fn account_callback(
    tx: &mut Tx,
    account: AccountId,
    s: &AccountSettings,
    event: &str,
    credential: &Credential,
    now: Timestamp,
) -> Result<()> {
    if let (true, Some(url)) = (s.callbacks, s.url.as_deref()) {
        let body = serde_json::json!({ "event": event, "credential": credential, "errors": {} }).to_string();
        outbox::enqueue(tx, account, Kind::Credential, url, Some(body), now).await?;
    }
    Ok(())
}

async fn set_offers(tx: &mut Tx, account: AccountId, credential: CredentialId, offers: &[OfferId]) -> Result<()> {
    tx.execute(
        "DELETE FROM credential_offers WHERE credential_id = $1 AND account_id = $2",
        &[credential.into(), account.0.into()],
    )
    .await?;
    for &offer in offers {
        tx.execute(
            "INSERT INTO credential_offers (account_id, credential_id, offer_id) VALUES ($1, $2, $3)",
            &[account.0.into(), credential.into(), offer.into()],
        )
        .await?;
    }
    Ok(())
}

fn dedup(mut ids: Vec<OfferId>) -> Vec<OfferId> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Offer ids as the domain's rules take them.
fn raw(offers: &[OfferId]) -> Vec<i64> {
    offers.iter().map(|o| o.0).collect()
}

/// Creates a credential; with offers it gets a fresh code. Returns its id.
pub async fn create(db: &Db, account: AccountId, input: CredentialInput) -> Outcome<CredentialId> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    check_refs(&mut tx, account, &input).await?;
    let (channel, member) = match (input.channel_id, input.member_id) {
        (Some(c), Some(m)) => (c, m),
        (None, _) => return Err(WriteError::Refused(Refusal::ChannelMissing)),
        (_, None) => return Err(WriteError::Refused(Refusal::MemberMissing)),
    };
    let s = settings(&mut tx, account).await?;
    let offers = dedup(input.offer_ids.clone().unwrap_or_default());
    let gathered = facts::gather(
        &mut tx,
        account,
        &offers,
        Some(channel),
        member,
        input.store_id,
        &business_date(now, s.time_zone.as_deref()),
    )
    .await?;
    if !offers.is_empty() {
        rules::check(&facts(Purpose::Issue, Some(channel), member, &raw(&offers), &gathered, false, now))
            .map_err(WriteError::Refused)?;
    }
    let lifetime = input.code_lifetime;
    let annotations = Json::Object(input.annotations.clone().unwrap_or_default()).to_string();
    let mut id = None;
    for _ in 0..8 {
        let identifier = (!offers.is_empty()).then(|| code::generate(gathered.identifier_kind));
        id = tx
            .fetch_optional::<i64>(
                "INSERT INTO credentials (account_id, member_id, channel_id, store_id, identifier, status, reusable, annotations, \
                 code_lifetime, code_expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $10) \
                 ON CONFLICT (account_id, identifier) WHERE status = 'open' DO NOTHING RETURNING id",
                &[
                    account.0.into(),
                    member.into(),
                    channel.into(),
                    input.store_id.into(),
                    identifier.into(),
                    input.reusable.unwrap_or(false).into(),
                    annotations.as_str().into(),
                    lifetime.into(),
                    lifetime.filter(|_| !offers.is_empty()).map(|l| now.plus_seconds(l).unix()).into(),
                    now.unix().into(),
                ],
            )
            .await?;
        if id.is_some() {
            break;
        }
    }
    let id =
        id.map(CredentialId).ok_or_else(|| WriteError::Invalid("could not draw a unique code; try again".into()))?;
    set_offers(&mut tx, account, id, &offers).await?;
    let credential = load_in(&mut tx, account, id).await?.ok_or(WriteError::NotFound)?;
    for &offer in &offers {
        activity(&mut tx, account, offer, &credential, ActivityType::Issue, now).await?;
    }
    account_callback(&mut tx, account, &s, "credential.created", &credential, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Gives credential `id` a fresh code unique among the account's open codes (eight draws).
async fn draw_code(
    tx: &mut Tx,
    account: AccountId,
    id: CredentialId,
    kind: RedemptionIdentifierType,
) -> Outcome<String> {
    assign_code(tx, account, id, std::iter::repeat_with(|| code::generate(kind)).take(8)).await
}

/// Sets credential `id`'s code to the first candidate no other open credential holds. The
/// unique index decides, not a prior check: a check-then-write loses to a concurrent issue
/// of the same code on PostgreSQL (it cannot see the uncommitted row, then the write fails
/// and aborts the transaction). A collision rolls back to a savepoint and tries the next.
pub async fn assign_code(
    tx: &mut Tx,
    account: AccountId,
    id: CredentialId,
    candidates: impl IntoIterator<Item = String>,
) -> Outcome<String> {
    for candidate in candidates {
        match tx
            .execute_recoverable(
                "UPDATE credentials SET identifier = $3 WHERE id = $1 AND account_id = $2",
                &[id.into(), account.0.into(), candidate.as_str().into()],
            )
            .await
        {
            Ok(_) => return Ok(candidate),
            Err(StoreError::Unique(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(WriteError::Invalid("could not draw a unique code; try again".into()))
}

/// Updates an open credential; `offer_ids` replaces the set, the code is kept (or drawn
/// when the first offers arrive).
pub async fn update(db: &Db, account: AccountId, id: CredentialId, input: CredentialInput) -> Outcome<()> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let current = load_in(&mut tx, account, id).await?.ok_or(WriteError::NotFound)?;
    check_refs(&mut tx, account, &input).await?;
    if current.status != CredentialStatus::Open {
        return Err(WriteError::Invalid(format!("Credential is {} and can no longer be changed", current.status)));
    }
    let channel = input.channel_id.ok_or(WriteError::Refused(Refusal::ChannelMissing))?;
    let s = settings(&mut tx, account).await?;
    let offers = dedup(input.offer_ids.clone().unwrap_or_else(|| current.offer_ids.clone()));
    let store = input.store_id.or(current.store_id);
    let gathered = facts::gather(
        &mut tx,
        account,
        &offers,
        Some(channel),
        current.member_id,
        store,
        &business_date(now, s.time_zone.as_deref()),
    )
    .await?;
    if !offers.is_empty() {
        let locked = current.locked_until.is_some_and(|l| l > now);
        rules::check(&facts(Purpose::Issue, Some(channel), current.member_id, &raw(&offers), &gathered, locked, now))
            .map_err(WriteError::Refused)?;
    }
    let mut identifier = current.identifier.clone();
    if identifier.is_none() && !offers.is_empty() {
        identifier = Some(draw_code(&mut tx, account, id, gathered.identifier_kind).await?);
    }
    let annotations = input.annotations.clone().map(|a| Json::Object(a).to_string());
    let lifetime = input.code_lifetime.or(current.code_lifetime);
    let expires = match (lifetime, current.code_expires_at) {
        (_, Some(e)) if input.code_lifetime.is_none() => Some(e.unix()),
        (Some(l), _) if !offers.is_empty() => Some(now.plus_seconds(l).unix()),
        _ => None,
    };
    tx.execute(
        "UPDATE credentials SET channel_id = $3, store_id = $4, identifier = $5, reusable = COALESCE($6, reusable), \
         annotations = COALESCE($7, annotations), code_lifetime = $8, code_expires_at = $9, updated_at = $10 \
         WHERE id = $1 AND account_id = $2",
        &[
            id.into(),
            account.0.into(),
            channel.into(),
            store.into(),
            identifier.into(),
            Value::Bool(input.reusable),
            annotations.into(),
            lifetime.into(),
            expires.into(),
            now.unix().into(),
        ],
    )
    .await?;
    set_offers(&mut tx, account, id, &offers).await?;
    for offer in offers.iter().filter(|o| !current.offer_ids.contains(o)) {
        activity(&mut tx, account, *offer, &current, ActivityType::Issue, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `GET /credentials/eligible`: the issuing rules, with no side effects.
pub async fn eligibility(
    db: &Db,
    account: AccountId,
    member: MemberId,
    offer: OfferId,
    channel: Option<ChannelId>,
) -> Outcome<std::result::Result<(), Refusal>> {
    let now = Timestamp::now();
    let mut tx = db.begin_read().await?;
    if !member_exists(&mut tx, account, member).await? {
        return Err(WriteError::NotFound);
    }
    let s = settings(&mut tx, account).await?;
    let requested = [offer];
    let gathered =
        facts::gather(&mut tx, account, &requested, channel, member, None, &business_date(now, s.time_zone.as_deref()))
            .await?;
    let verdict = rules::check(&facts(Purpose::Check, channel, member, &raw(&requested), &gathered, false, now));
    drop(tx);
    Ok(verdict)
}

struct ChannelCallback {
    offer_id: OfferId,
    xid: String,
    url: Option<String>,
}

impl FromRow for ChannelCallback {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            offer_id: OfferId(row.int("offer_id")?),
            xid: row.text("xid")?,
            url: row.opt_text("conversion_callback_url")?,
        })
    }
}

async fn offer_name(tx: &mut Tx, offer: OfferId) -> Result<String> {
    Ok(tx.fetch_optional::<String>("SELECT name FROM offers WHERE id = $1", &[offer.into()]).await?.unwrap_or_default())
}

/// Why a conditional update of an open credential matched nothing.
fn not_open(credential: &Credential, now: Timestamp) -> WriteError {
    match credential.status {
        CredentialStatus::Redeemed => WriteError::Invalid("Credential has already been redeemed".into()),
        CredentialStatus::Voided => WriteError::Invalid("Credential has been voided".into()),
        CredentialStatus::Open if credential.locked_until.is_some_and(|l| l > now) => {
            WriteError::Refused(Refusal::Locked)
        }
        CredentialStatus::Open => WriteError::Invalid("Credential has expired".into()),
    }
}

/// Redeems a credential exactly once (or again, when reusable), counting every limit
/// atomically with the write.
pub async fn redeem(db: &Db, account: AccountId, id: CredentialId, store: Option<StoreId>) -> Outcome<()> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    // Claims the credential (and, on PostgreSQL, locks its row until commit).
    let claimed = tx
        .execute(
            "UPDATE credentials SET status = CASE WHEN reusable THEN 'open' ELSE 'redeemed' END, redeemed_at = $3, updated_at = $3 \
             WHERE id = $1 AND account_id = $2 AND status = 'open' AND (locked_until IS NULL OR locked_until <= $3) \
             AND (code_expires_at IS NULL OR code_expires_at > $3)",
            &[id.into(), account.0.into(), now.unix().into()],
        )
        .await?;
    let credential = load_in(&mut tx, account, id).await?.ok_or(WriteError::NotFound)?;
    if claimed == 0 {
        return Err(not_open(&credential, now));
    }
    if credential.offer_ids.is_empty() {
        return Err(WriteError::Invalid("Credential has no offers to redeem".into()));
    }
    if let Some(store) = store {
        if !store_exists(&mut tx, account, store).await? {
            return Err(WriteError::Invalid(format!("Store not found, with id: {store}")));
        }
    }
    let store = store.or(credential.store_id);
    let channel = credential.channel_id;
    // Counters in ascending offer order, so concurrent redemptions lock in one order.
    for &offer in &credential.offer_ids {
        let counted = tx
            .execute(
                "UPDATE offers SET redemption_count = redemption_count + 1 WHERE id = $1 AND account_id = $2 \
                 AND (max_redemptions IS NULL OR redemption_count < max_redemptions)",
                &[offer.into(), account.0.into()],
            )
            .await?;
        if counted == 0 {
            let name = offer_name(&mut tx, offer).await?;
            return Err(WriteError::Refused(Refusal::MemberNotEligible { offer: name, reason: "max_redemptions" }));
        }
        let on_channel = tx
            .execute(
                "UPDATE eligible_channels SET redemption_count = redemption_count + 1 WHERE offer_id = $1 AND channel_id = $2 \
                 AND (max_redemptions IS NULL OR redemption_count < max_redemptions)",
                &[offer.into(), channel.into()],
            )
            .await?;
        if on_channel == 0 {
            let linked: Option<i64> = tx
                .fetch_optional(
                    "SELECT id FROM eligible_channels WHERE offer_id = $1 AND channel_id = $2",
                    &[offer.into(), channel.into()],
                )
                .await?;
            return Err(WriteError::Refused(match linked {
                None => Refusal::OffersNotFound(vec![offer.0]),
                Some(_) => {
                    Refusal::MemberNotEligible { offer: offer_name(&mut tx, offer).await?, reason: "max_per_channel" }
                }
            }));
        }
    }
    let s = settings(&mut tx, account).await?;
    let today = business_date(now, s.time_zone.as_deref());
    let mut gathered =
        facts::gather(&mut tx, account, &credential.offer_ids, Some(channel), credential.member_id, store, &today)
            .await?;
    for offer in &mut gathered.offers {
        // The counters already include this redemption.
        offer.counts.total -= 1;
        offer.counts.channel -= 1;
    }
    let requested = raw(&credential.offer_ids);
    rules::check(&facts(Purpose::Redeem, Some(channel), credential.member_id, &requested, &gathered, false, now))
        .map_err(WriteError::Refused)?;

    for &offer in &credential.offer_ids {
        tx.execute(
            "INSERT INTO redemptions (account_id, credential_id, offer_id, channel_id, member_id, store_id, redeemed_at, business_date, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)",
            &[
                account.0.into(),
                id.into(),
                offer.into(),
                channel.into(),
                credential.member_id.into(),
                store.into(),
                now.unix().into(),
                today.as_str().into(),
            ],
        )
        .await?;
        activity(&mut tx, account, offer, &credential, ActivityType::Redeem, now).await?;
    }
    conversion_callbacks(&mut tx, account, &credential, store, now).await?;
    account_callback(&mut tx, account, &s, "credential.redeemed", &credential, now).await?;
    tx.commit().await?;
    Ok(())
}

/// One conversion callback per redeemed offer whose channel has a callback URL.
async fn conversion_callbacks(
    tx: &mut Tx,
    account: AccountId,
    credential: &Credential,
    store: Option<StoreId>,
    now: Timestamp,
) -> Result<()> {
    let offers = &credential.offer_ids;
    let statement = eligible_channels::select_joined("e.offer_id, e.xid, c.conversion_callback_url", account)
        .and_where(Expr::col(("e", "channel_id")).eq(Value::from(credential.channel_id)))
        .and_where(tx.dialect().in_list(("e", "offer_id"), offers.as_slice()))
        .order_by(("e", "offer_id"), Order::Asc)
        .to_owned();
    let (sql, params) = crate::query::build(&statement, tx.dialect())?;
    let targets: Vec<ChannelCallback> = tx.fetch_all(&sql, &params).await?;
    if targets.iter().all(|t| t.url.is_none()) {
        return Ok(());
    }
    let member: Option<String> =
        tx.fetch_optional("SELECT identifier FROM members WHERE id = $1", &[credential.member_id.into()]).await?;
    let mut values: HashMap<String, String> = HashMap::new();
    if let Some(Json::Object(conv)) = credential.annotations.get("conv_ids") {
        for (k, v) in conv {
            values.insert(k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        }
    }
    values.insert("credential_id".into(), credential.id.to_string());
    values.insert("offer_ids".into(), offers.iter().map(OfferId::to_string).collect::<Vec<_>>().join(","));
    values.insert("redeemed_at".into(), now.to_string());
    let status = if credential.reusable { CredentialStatus::Open } else { CredentialStatus::Redeemed };
    values.insert("status".into(), status.to_string());
    if let Some(store) = store {
        values.insert("store_id".into(), store.to_string());
    }
    if let Some(uid) = member {
        values.insert("sf_uid".into(), uid);
    }
    if let Some(ac) = credential.annotations.get("sf_ac").and_then(Json::as_str) {
        values.insert("sf_ac".into(), ac.to_owned());
    }
    for target in targets {
        let Some(template) = target.url else { continue };
        values.insert("xid".into(), target.xid);
        values.insert("offer_id".into(), target.offer_id.to_string());
        outbox::enqueue(tx, account, Kind::Conversion, &callback::expand(&template, &values), None, now).await?;
    }
    Ok(())
}

/// A live redemption: the offer and channel counters it took.
struct Counted {
    offer_id: OfferId,
    channel_id: ChannelId,
}

impl FromRow for Counted {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { offer_id: OfferId(row.int("offer_id")?), channel_id: ChannelId(row.int("channel_id")?) })
    }
}

/// Voids a credential; voiding a redeemed one gives its redemptions back to every limit.
pub async fn void(db: &Db, account: AccountId, id: CredentialId) -> Outcome<()> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let changed = tx
        .execute(
            "UPDATE credentials SET status = 'voided', voided_at = $3, updated_at = $3 WHERE id = $1 AND account_id = $2 AND status <> 'voided'",
            &[id.into(), account.0.into(), now.unix().into()],
        )
        .await?;
    let credential = load_in(&mut tx, account, id).await?.ok_or(WriteError::NotFound)?;
    if changed == 0 {
        return Err(WriteError::Invalid("Credential has already been voided".into()));
    }
    let counted: Vec<Counted> =
        tx.fetch_all("SELECT offer_id, channel_id FROM redemptions WHERE credential_id = $1 AND voided_at IS NULL ORDER BY offer_id", &[id.into()]).await?;
    for Counted { offer_id, channel_id } in counted {
        tx.execute("UPDATE offers SET redemption_count = redemption_count - 1 WHERE id = $1", &[offer_id.into()])
            .await?;
        tx.execute(
            "UPDATE eligible_channels SET redemption_count = redemption_count - 1 WHERE offer_id = $1 AND channel_id = $2",
            &[offer_id.into(), channel_id.into()],
        )
        .await?;
    }
    tx.execute(
        "UPDATE redemptions SET voided_at = $2 WHERE credential_id = $1 AND voided_at IS NULL",
        &[id.into(), now.unix().into()],
    )
    .await?;
    for &offer in &credential.offer_ids {
        activity(&mut tx, account, offer, &credential, ActivityType::Void, now).await?;
    }
    let s = settings(&mut tx, account).await?;
    account_callback(&mut tx, account, &s, "credential.voided", &credential, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a credential that was never redeemed; `false` when it has redemptions.
pub async fn delete(db: &Db, account: AccountId, id: CredentialId) -> Outcome<Credential> {
    let mut tx = db.begin().await?;
    let credential = load_in(&mut tx, account, id).await?.ok_or(WriteError::NotFound)?;
    let redeemed: Option<i64> =
        tx.fetch_optional("SELECT COUNT(*) FROM redemptions WHERE credential_id = $1", &[id.into()]).await?;
    if redeemed.unwrap_or(0) > 0 {
        return Err(WriteError::Invalid("Credential has redemptions; void it instead".into()));
    }
    tx.execute("DELETE FROM credentials WHERE id = $1 AND account_id = $2", &[id.into(), account.0.into()]).await?;
    tx.commit().await?;
    Ok(credential)
}
