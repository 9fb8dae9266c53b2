//! Issue, update, redeem and void, each one short transaction of few statements: the
//! account's settings and the request's references in one (`facts::context`), the offers'
//! facts on the channel in one (`facts::gather`), then the writes, each list of rows (a
//! credential's offers, its redemptions, their activities) in one statement. Limits are
//! enforced by conditional increments of the offer's and the channel's counters, run
//! last, so a hot offer's row is locked (on PostgreSQL) only from there to the commit, and
//! only for a limit that is set: an offer without `max_redemptions` is never locked by a
//! redemption. Callbacks go to the outbox in the same transaction, so a committed
//! redemption always has its callbacks.

use super::facts::{self, Context, Gathered, Offers};
use super::outbox::{self, Kind};
use super::{attach_in, load_in, Credential, COLUMNS};
use crate::engine::points::PointsError;
use crate::pos::transactions::{take_back_points, TicketRedemption};
use crate::{Db, Dialect, FromRow, Result, Row, StoreError, Tx, Value};
use kindling_domain::catalog::merchant::RedemptionIdentifierType;
use kindling_domain::credentials::code::CodeCipher;
use kindling_domain::credentials::rules::{self, Facts, Purpose, Refusal};
use kindling_domain::credentials::{callback, ActivityType, CredentialStatus};
use kindling_domain::time::business_date;
use kindling_domain::{AccountId, ChannelId, CredentialId, MemberId, OfferId, StoreId, Timestamp};

use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// Why a credential write did not happen.
#[derive(Debug)]
pub enum WriteError {
    /// A rule of the validation table (a 400 with the guide's message).
    Refused(Refusal),
    /// Another 400 with this message.
    Invalid(String),
    /// The stored state forbids it (a 409 with this message).
    Conflict(String),
    NotFound,
    Store(StoreError),
}

impl crate::MaybeBusy for WriteError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_busy())
    }
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

type Outcome<T> = std::result::Result<T, WriteError>;

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
    /// Create only: a window of the credential's own (an offer state's), written with it;
    /// `expires_at` takes the place of the `code_lifetime`'s `code_expires_at`.
    pub activates_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

/// The references a create or update names, checked in the guide's order.
pub(crate) fn check_refs(ctx: &Context, input: &CredentialInput) -> Outcome<()> {
    if input.channel_id.is_none() {
        return Err(WriteError::Refused(Refusal::ChannelMissing));
    }
    if !ctx.channel_found {
        return Err(WriteError::Invalid(
            "Channel can't be blank and must be associated with your account and offer".into(),
        ));
    }
    if let (Some(member), false) = (input.member_id, ctx.member_found) {
        return Err(WriteError::Invalid(format!("Member not found, with id: {member}")));
    }
    if let (Some(store), false) = (input.store_id, ctx.store_found) {
        return Err(WriteError::Invalid(format!("Store not found, with id: {store}")));
    }
    Ok(())
}

/// The domain's rules take plain `i64`s; `requested` is the offer ids as `raw` gives them.
pub(crate) fn facts<'a>(
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

/// One activity per offer, in one statement.
pub(crate) async fn activities(
    tx: &mut Tx,
    account: AccountId,
    offers: &[OfferId],
    credential: CredentialId,
    member: MemberId,
    kind: ActivityType,
    now: Timestamp,
) -> Result<()> {
    if offers.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO offer_activities (account_id, offer_id, credential_id, member_id, activity_type, description, \
         reported_at, processed_at, created_at, updated_at) SELECT $1, value, $3, $4, $5, $6, $7, $7, $7, $7 FROM {}",
        tx.dialect().list_rows_sql(2)
    );
    let params = [
        account.into(),
        offers.into(),
        credential.into(),
        member.into(),
        kind.code().into(),
        kind.name().into(),
        now.unix().into(),
    ];
    tx.execute(&sql, &params).await.map(drop)
}

/// Posts the credential, with its offers, to the account's callback URL when callbacks
/// are enabled.
async fn account_callback(
    tx: &mut Tx,
    account: AccountId,
    ctx: &Context,
    event: &str,
    credential: &mut Credential,
    now: Timestamp,
) -> Result<()> {
    if let (true, Some(url)) = (ctx.callbacks, ctx.callback_url.as_deref()) {
        attach_in(tx, account, std::slice::from_mut(credential)).await?;
        let body = serde_json::json!({ "event": event, "credential": credential, "errors": {} }).to_string();
        outbox::enqueue(tx, account, Kind::Credential, Some(credential.member_id), url, Some(body), now).await?;
    }
    Ok(())
}

/// Links the credential to exactly `offers`, in one statement each way.
async fn set_offers(
    tx: &mut Tx,
    account: AccountId,
    credential: CredentialId,
    offers: &[OfferId],
    fresh: bool,
) -> Result<()> {
    if !fresh {
        tx.execute(
            "DELETE FROM credential_offers WHERE credential_id = $1 AND account_id = $2",
            &[credential.into(), account.into()],
        )
        .await?;
    }
    if offers.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO credential_offers (account_id, credential_id, offer_id) SELECT $1, $2, value FROM {}",
        tx.dialect().list_rows_sql(3)
    );
    tx.execute(&sql, &[account.into(), credential.into(), offers.into()]).await.map(drop)
}

pub(crate) fn dedup(mut ids: Vec<OfferId>) -> Vec<OfferId> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Offer ids as the domain's rules take them.
pub(crate) fn raw(offers: &[OfferId]) -> Vec<i64> {
    offers.iter().map(|o| o.0).collect()
}

/// Fills what a credential shows of its offers (`attach_in`'s fields) from the facts the
/// write already read, so the caller can answer without reading the credential again; only
/// a store's address needs one more statement.
pub(crate) async fn present(
    tx: &mut Tx,
    account: AccountId,
    credential: &mut Credential,
    gathered: &Gathered,
) -> Result<()> {
    credential.offer_ids = gathered.offers.iter().map(|o| OfferId(o.id)).collect();
    if let Some(shown) = &gathered.shown {
        credential.offer_name = Some(shown.offer_name.clone());
        credential.merchant_id = shown.merchant_id;
        credential.merchant_name = shown.merchant_name.clone();
        credential.supports_barcode = shown.supports_barcode;
    }
    if credential.store_id.is_some() {
        attach_in(tx, account, std::slice::from_mut(credential)).await?;
    }
    Ok(())
}

/// Creates a credential; with offers it gets a fresh code. Returns it as stored.
pub async fn create(db: &Db, account: AccountId, input: CredentialInput) -> Outcome<Credential> {
    db.transaction(move |tx| Box::pin(create_in(tx, account, input))).await
}

pub(crate) async fn create_in(tx: &mut Tx, account: AccountId, input: CredentialInput) -> Outcome<Credential> {
    let now = Timestamp::now();
    let ctx = facts::context(tx, account, input.channel_id, input.member_id, input.store_id).await?;
    check_refs(&ctx, &input)?;
    let (channel, member) = match (input.channel_id, input.member_id) {
        (Some(c), Some(m)) => (c, m),
        (None, _) => return Err(WriteError::Refused(Refusal::ChannelMissing)),
        (_, None) => return Err(WriteError::Refused(Refusal::MemberMissing)),
    };
    let offers = dedup(input.offer_ids.clone().unwrap_or_default());
    let today = business_date(now, ctx.time_zone.as_deref());
    let gathered =
        facts::gather(tx, false, account, Offers::Listed(&offers), Some(channel), member, input.store_id, &today)
            .await?;
    if !offers.is_empty() {
        rules::check(&facts(Purpose::Issue, Some(channel), member, &raw(&offers), &gathered, false, now))
            .map_err(WriteError::Refused)?;
    }
    let lifetime = input.code_lifetime;
    let annotations = Json::Object(input.annotations.clone().unwrap_or_default()).to_string();
    let mut inserted = None;
    // Its id is taken first, so that its first key is its id's (as `together::insert_codes`).
    let insert = format!(
        "INSERT INTO credentials (id, account_id, member_id, channel_id, store_id, identifier, code_key, status, \
         reusable, annotations, code_lifetime, code_expires_at, activates_at, created_at, updated_at) \
         SELECT $13, $1, $2, $3, $4, $5, $12, 'open', $6, $7, $8, $9, $11, $10, $10 WHERE NOT {} \
         ON CONFLICT (account_id, code_key) WHERE status = 'open' DO NOTHING RETURNING {COLUMNS}",
        super::codes::legacy_taken("$1", "$5")
    );
    let id = super::together::new_ids(tx, 1)
        .await?
        .first()
        .copied()
        .ok_or_else(|| WriteError::Store(StoreError::Decode("no credential id was given".into())))?;
    let kind = gathered.identifier_kind;
    for round in 0..8 {
        let key = (!offers.is_empty()).then(|| match round {
            0 => CodeCipher::ordered_key(kind, id),
            _ => CodeCipher::random_key(kind),
        });
        let identifier = key.map(|key| tx.codes().map(|cipher| cipher.code(kind, key))).transpose()?;
        inserted = tx
            .fetch_optional::<Credential>(
                &insert,
                &[
                    account.into(),
                    member.into(),
                    channel.into(),
                    input.store_id.into(),
                    identifier.into(),
                    input.reusable.unwrap_or(false).into(),
                    annotations.as_str().into(),
                    lifetime.into(),
                    input
                        .expires_at
                        .or_else(|| lifetime.filter(|_| !offers.is_empty()).map(|l| now.plus_seconds(l)))
                        .map(Timestamp::unix)
                        .into(),
                    now.unix().into(),
                    input.activates_at.map(Timestamp::unix).into(),
                    key.into(),
                    id.into(),
                ],
            )
            .await?;
        if inserted.is_some() {
            break;
        }
    }
    let mut credential =
        inserted.ok_or_else(|| WriteError::Invalid("could not draw a unique code; try again".into()))?;
    let id = credential.id;
    set_offers(tx, account, id, &offers, true).await?;
    activities(tx, account, &offers, id, member, ActivityType::Issue, now).await?;
    account_callback(tx, account, &ctx, "credential.created", &mut credential, now).await?;
    present(tx, account, &mut credential, &gathered).await?;
    Ok(credential)
}

/// Gives credential `id` a fresh code unique among the account's open codes (eight draws:
/// the key of its id, then random keys).
async fn draw_code(
    tx: &mut Tx,
    account: AccountId,
    id: CredentialId,
    kind: RedemptionIdentifierType,
) -> Outcome<String> {
    let keys = std::iter::once(CodeCipher::ordered_key(kind, id.0))
        .chain(std::iter::repeat_with(|| CodeCipher::random_key(kind)))
        .take(8);
    assign_code(tx, account, id, kind, keys).await
}

/// Sets credential `id`'s code to that of the first candidate key no other open credential
/// holds, and answers the code. The unique index decides, not a prior check: a
/// check-then-write loses to a concurrent issue of the same key on PostgreSQL (it cannot see
/// the uncommitted row, then the write fails and aborts the transaction). A collision rolls
/// back to a savepoint and tries the next; so does a code equal to an open one drawn before
/// keys (`codes::legacy_taken`, no row updated).
pub async fn assign_code(
    tx: &mut Tx,
    account: AccountId,
    id: CredentialId,
    kind: RedemptionIdentifierType,
    candidates: impl IntoIterator<Item = i64>,
) -> Outcome<String> {
    let sql = format!(
        "UPDATE credentials SET identifier = $3, code_key = $4 WHERE id = $1 AND account_id = $2 AND NOT {}",
        super::codes::legacy_taken("$2", "$3")
    );
    for key in candidates {
        let code = tx.codes()?.code(kind, key);
        match tx.execute_recoverable(&sql, &[id.into(), account.0.into(), code.as_str().into(), key.into()]).await {
            Ok(1) => return Ok(code),
            Ok(_) | Err(StoreError::Unique(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(WriteError::Invalid("could not draw a unique code; try again".into()))
}

/// Updates an open credential; `offer_ids` replaces the set, the code is kept (or drawn
/// when the first offers arrive).
pub async fn update(db: &Db, account: AccountId, id: CredentialId, input: CredentialInput) -> Outcome<()> {
    db.transaction(move |tx| Box::pin(update_in(tx, account, id, input))).await
}

async fn update_in(tx: &mut Tx, account: AccountId, id: CredentialId, input: CredentialInput) -> Outcome<()> {
    let now = Timestamp::now();
    // The row is locked before its status is read (on PostgreSQL; SQLite's writer is alone):
    // a concurrent redeem or void either finished first, and the status says so, or waits
    // for this update, so a redeemed code's offers are never swapped.
    crate::crud::lock::<super::Credentials>(tx, account, &[], id).await?.ok_or(WriteError::NotFound)?;
    let current = load_in(tx, account, id).await?.ok_or(WriteError::NotFound)?;
    let ctx = facts::context(tx, account, input.channel_id, input.member_id, input.store_id).await?;
    check_refs(&ctx, &input)?;
    if current.status != CredentialStatus::Open {
        return Err(WriteError::Invalid(format!("Credential is {} and can no longer be changed", current.status)));
    }
    // A wallet offer state's code carries the state's offer and window: it changes through
    // the state, or the state would show one thing and the code redeem another.
    if held_by_state(tx, account, id).await? {
        return Err(WriteError::Conflict(
            "Credential belongs to an Offer State; change it through /v1.0/members/{member_id}/offer_states".into(),
        ));
    }
    let channel = input.channel_id.ok_or(WriteError::Refused(Refusal::ChannelMissing))?;
    let offers = dedup(input.offer_ids.clone().unwrap_or_else(|| current.offer_ids.clone()));
    let store = input.store_id.or(current.store_id);
    let today = business_date(now, ctx.time_zone.as_deref());
    let gathered =
        facts::gather(tx, false, account, Offers::Listed(&offers), Some(channel), current.member_id, store, &today)
            .await?;
    if !offers.is_empty() {
        let locked = current.locked_until.is_some_and(|l| l > now);
        rules::check(&facts(Purpose::Issue, Some(channel), current.member_id, &raw(&offers), &gathered, locked, now))
            .map_err(WriteError::Refused)?;
    }
    let mut identifier = current.identifier.clone();
    if identifier.is_none() && !offers.is_empty() {
        identifier = Some(draw_code(tx, account, id, gathered.identifier_kind).await?);
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
            account.into(),
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
    set_offers(tx, account, id, &offers, false).await?;
    let added: Vec<OfferId> = offers.iter().copied().filter(|o| !current.offer_ids.contains(o)).collect();
    activities(tx, account, &added, id, current.member_id, ActivityType::Issue, now).await?;
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
    let ctx = facts::context(&mut tx, account, None, Some(member), None).await?;
    if !ctx.member_found {
        return Err(WriteError::NotFound);
    }
    let requested = [offer];
    let today = business_date(now, ctx.time_zone.as_deref());
    let gathered =
        facts::gather(&mut tx, false, account, Offers::Listed(&requested), channel, member, None, &today).await?;
    let verdict = rules::check(&facts(Purpose::Check, channel, member, &raw(&requested), &gathered, false, now));
    drop(tx);
    Ok(verdict)
}

/// Whether `redeem_in`'s claim would match the credential as read: open, not held by a
/// ticket, not expired, active (`not_open` says why not).
pub(crate) fn claimable(credential: &Credential, now: Timestamp) -> bool {
    credential.status == CredentialStatus::Open
        && credential.locked_until.is_none_or(|l| l <= now)
        && credential.code_expires_at.is_none_or(|e| e > now)
        && credential.activates_at.is_none_or(|a| a <= now)
}

/// Why a conditional update of an open credential matched nothing.
pub(crate) fn not_open(credential: &Credential, now: Timestamp) -> WriteError {
    match credential.status {
        CredentialStatus::Redeemed => WriteError::Invalid("Credential has already been redeemed".into()),
        CredentialStatus::Voided => WriteError::Invalid("Credential has been voided".into()),
        CredentialStatus::Open if credential.locked_until.is_some_and(|l| l > now) => {
            WriteError::Refused(Refusal::Locked)
        }
        CredentialStatus::Open if credential.activates_at.is_some_and(|a| a > now) => {
            WriteError::Invalid("Credential is not active yet".into())
        }
        CredentialStatus::Open => WriteError::Invalid("Credential has expired".into()),
    }
}

/// Redeems a credential exactly once (or again, when reusable), counting every limit
/// atomically with the write. Returns the credential as the redemption left it.
pub async fn redeem(db: &Db, account: AccountId, id: CredentialId, store: Option<StoreId>) -> Outcome<Credential> {
    db.transaction(move |tx| Box::pin(redeem_in(tx, account, id, store, None))).await
}

/// A redemption settled by a point-of-sale ticket: only the offers the engine applied, each
/// with its discount, and the ticket's own hold on the code does not refuse it.
pub(crate) struct AtTicket<'a> {
    pub ticket: i64,
    pub applied: &'a [(OfferId, i64)],
}

impl AtTicket<'_> {
    /// Keeps only the facts of the offers the engine applied (a code's other offers are
    /// neither checked nor redeemed at this ticket).
    fn narrow(&self, gathered: &mut Gathered) {
        let applied = |id: OfferId| self.applied.iter().any(|(a, _)| *a == id);
        gathered.offers.retain(|o| applied(OfferId(o.id)));
        gathered.links.retain(|l| applied(l.offer_id));
    }
}

pub(crate) async fn redeem_in(
    tx: &mut Tx,
    account: AccountId,
    id: CredentialId,
    store: Option<StoreId>,
    at: Option<AtTicket<'_>>,
) -> Outcome<Credential> {
    let now = Timestamp::now();
    if let Some(at) = &at {
        // The ticket's own hold locked the code against everyone else, not against itself.
        tx.execute(
            "UPDATE credentials SET locked_until = NULL WHERE id = $1 AND account_id = $2 \
             AND EXISTS (SELECT 1 FROM pos_holds WHERE credential_id = $1 AND transaction_id = $3)",
            &[id.into(), account.into(), at.ticket.into()],
        )
        .await?;
    }
    // Claims the credential (and, on PostgreSQL, locks its row until commit). The status is
    // a parameter, not the literal 'open': with the literal, PostgreSQL's cached generic plan
    // may pick the partial index of open codes (`status = 'open'`) and scan every open
    // credential of the account instead of looking the id up (it did, 3.9 ms a claim at 11k).
    let claim = format!(
        "UPDATE credentials SET status = CASE WHEN reusable THEN $4 ELSE 'redeemed' END, redeemed_at = $3, updated_at = $3 \
         WHERE id = $1 AND account_id = $2 AND status = $4 AND (locked_until IS NULL OR locked_until <= $3) \
         AND (code_expires_at IS NULL OR code_expires_at > $3) AND (activates_at IS NULL OR activates_at <= $3) \
         RETURNING {COLUMNS}"
    );
    let params = [id.into(), account.into(), now.unix().into(), CredentialStatus::Open.as_str().into()];
    let claimed: Option<Credential> = tx.fetch_optional(&claim, &params).await?;
    let Some(mut credential) = claimed else {
        let current = load_in(tx, account, id).await?.ok_or(WriteError::NotFound)?;
        return Err(not_open(&current, now));
    };
    let ctx = facts::context(tx, account, None, None, store).await?;
    if let (Some(store), false) = (store, ctx.store_found) {
        return Err(WriteError::Invalid(format!("Store not found, with id: {store}")));
    }
    let store = store.or(credential.store_id);
    let (channel, member) = (credential.channel_id, credential.member_id);
    let today = business_date(now, ctx.time_zone.as_deref());
    // The credential's offers are read with their facts, in one statement.
    let mine = Offers::OfCredential(id);
    let mut gathered = facts::gather(tx, true, account, mine, Some(channel), member, store, &today).await?;
    if let Some(at) = &at {
        at.narrow(&mut gathered);
    }
    credential.offer_ids = gathered.offers.iter().map(|o| OfferId(o.id)).collect();
    if credential.offer_ids.is_empty() {
        return Err(WriteError::Invalid("Credential has no offers to redeem".into()));
    }
    if facts::limits_members(&gathered) && tx.dialect() == Dialect::Postgres {
        // Per-member counts must not change between reading and writing: redemptions of
        // one member take turns on the member's row (other members' are not held up), and
        // the counts are read again under that lock.
        tx.fetch_optional::<i64>("SELECT id FROM members WHERE id = $1 FOR NO KEY UPDATE", &[member.into()]).await?;
        gathered = facts::gather(tx, true, account, mine, Some(channel), member, store, &today).await?;
        if let Some(at) = &at {
            at.narrow(&mut gathered);
        }
    }
    crate::pos::holds::count_others(tx, account, &mut gathered, (member, channel), at.as_ref().map(|a| a.ticket), now)
        .await?;
    let offers = credential.offer_ids.clone();
    rules::check(&facts(Purpose::Redeem, Some(channel), member, &raw(&offers), &gathered, false, now))
        .map_err(WriteError::Refused)?;

    let sql = format!(
        "INSERT INTO redemptions (account_id, credential_id, offer_id, channel_id, member_id, store_id, redeemed_at, \
         business_date, created_at, transaction_id) SELECT $1, $2, value, $4, $5, $6, $7, $8, $7, $9 FROM {}",
        tx.dialect().list_rows_sql(3)
    );
    let params = [
        account.into(),
        id.into(),
        offers.as_slice().into(),
        channel.into(),
        member.into(),
        store.into(),
        now.unix().into(),
        today.as_str().into(),
        at.as_ref().map(|a| a.ticket).into(),
    ];
    tx.execute(&sql, &params).await?;
    if let Some(at) = &at {
        for (offer, amount) in at.applied {
            tx.execute(
                "UPDATE redemptions SET amount = $4 WHERE transaction_id = $1 AND credential_id = $2 AND offer_id = $3",
                &[at.ticket.into(), id.into(), (*offer).into(), (*amount).into()],
            )
            .await?;
        }
    }
    activities(tx, account, &offers, id, member, ActivityType::Redeem, now).await?;
    conversion_callbacks(tx, account, &credential, &gathered, store, now).await?;
    account_callback(tx, account, &ctx, "credential.redeemed", &mut credential, now).await?;
    count_limits(tx, account, channel, &gathered).await?;
    present(tx, account, &mut credential, &gathered).await?;
    Ok(credential)
}

/// Counts the redemption against every limit that is set, last, in ascending offer order
/// (so concurrent redemptions lock in one order): a conditional increment, refused when the
/// limit is reached, which is what makes a limit exact under concurrency. An offer or
/// channel without a limit keeps no count and takes no lock.
async fn count_limits(tx: &mut Tx, account: AccountId, channel: ChannelId, gathered: &Gathered) -> Outcome<()> {
    for offer in &gathered.offers {
        let refused = |reason| WriteError::Refused(Refusal::MemberNotEligible { offer: offer.name.clone(), reason });
        if offer.limits.total.is_some() {
            let counted = tx
                .execute(
                    "UPDATE offers SET redemption_count = redemption_count + 1 WHERE id = $1 AND account_id = $2 \
                     AND redemption_count < max_redemptions",
                    &[offer.id.into(), account.into()],
                )
                .await?;
            if counted == 0 {
                return Err(refused("max_redemptions"));
            }
        }
        if offer.limits.per_channel.is_some() {
            let counted = tx
                .execute(
                    "UPDATE eligible_channels SET redemption_count = redemption_count + 1 WHERE offer_id = $1 \
                     AND channel_id = $2 AND redemption_count < max_redemptions",
                    &[offer.id.into(), channel.into()],
                )
                .await?;
            if counted == 0 {
                return Err(refused("max_per_channel"));
            }
        }
    }
    Ok(())
}

/// One conversion callback per redeemed offer whose channel has a callback URL.
async fn conversion_callbacks(
    tx: &mut Tx,
    account: AccountId,
    credential: &Credential,
    gathered: &Gathered,
    store: Option<StoreId>,
    now: Timestamp,
) -> Result<()> {
    if gathered.links.iter().all(|l| l.conversion_callback_url.is_none()) {
        return Ok(());
    }
    let offers = &credential.offer_ids;
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
    for link in &gathered.links {
        let Some(template) = &link.conversion_callback_url else { continue };
        values.insert("xid".into(), link.xid.clone());
        values.insert("offer_id".into(), link.offer_id.to_string());
        let url = callback::expand(template, &values);
        let about = Some(credential.member_id);
        outbox::enqueue_for_channel(tx, account, Kind::Conversion, credential.channel_id, about, &url, now).await?;
    }
    Ok(())
}

/// A live redemption: the offer and channel counters it took, and the ticket it was made at
/// (whose points it may have earned).
struct Counted {
    offer_id: OfferId,
    channel_id: ChannelId,
    member_id: MemberId,
    ticket: Option<i64>,
}

impl FromRow for Counted {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            offer_id: OfferId(row.int("offer_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            member_id: MemberId(row.int("member_id")?),
            ticket: row.opt_int("transaction_id")?,
        })
    }
}

/// Gives one voided redemption back to the offer's and the channel's limits (a limit that is
/// not set keeps no count; see `count_limits`).
pub(crate) async fn give_back(tx: &mut Tx, offer_id: OfferId, channel_id: ChannelId) -> Result<()> {
    tx.execute(
        "UPDATE offers SET redemption_count = redemption_count - 1 WHERE id = $1 AND max_redemptions IS NOT NULL",
        &[offer_id.into()],
    )
    .await?;
    tx.execute(
        "UPDATE eligible_channels SET redemption_count = redemption_count - 1 WHERE offer_id = $1 AND channel_id = $2 \
         AND max_redemptions IS NOT NULL",
        &[offer_id.into(), channel_id.into()],
    )
    .await
    .map(drop)
}

/// On PostgreSQL, share-locks the offers of redemptions being voided (in id order, as
/// redemptions lock them) before `give_back`: a limit set meanwhile where there was none is
/// recounted under `FOR UPDATE` (`offers::offer::lock_for_recount`), so that recount either
/// waits for the void and finds the redemption voided, or commits first and `give_back` then
/// sees the limit and takes the redemption off it. Without the lock a void whose
/// `give_back` ran before the limit committed, and which committed after its recount, left
/// the count one too high. (A limit cleared and set again by two other transactions while
/// a void gives back can make a cycle PostgreSQL breaks as a deadlock; the transaction it
/// fails runs again, `Db::transaction_retrying`.)
/// Nothing on SQLite's single writer.
pub(crate) async fn share_offers(tx: &mut Tx, offers: &[OfferId]) -> Result<()> {
    if tx.dialect() != crate::Dialect::Postgres || offers.is_empty() {
        return Ok(());
    }
    let sql = "SELECT id FROM offers WHERE id = ANY($1) ORDER BY id FOR KEY SHARE";
    tx.fetch_all::<i64>(sql, &[offers.into()]).await.map(drop)
}

/// Voids a credential; voiding a redeemed one gives its redemptions back to every limit
/// that counts them (one that is not set keeps no count; see `count_limits`).
pub async fn void(db: &Db, account: AccountId, id: CredentialId) -> Outcome<()> {
    db.transaction_retrying(move |tx| Box::pin(void_in(tx, account, id))).await
}

pub(crate) async fn void_in(tx: &mut Tx, account: AccountId, id: CredentialId) -> Outcome<()> {
    let now = Timestamp::now();
    let changed = tx
        .execute(
            "UPDATE credentials SET status = 'voided', voided_at = $3, updated_at = $3 WHERE id = $1 AND account_id = $2 AND status <> 'voided'",
            &[id.into(), account.into(), now.unix().into()],
        )
        .await?;
    let mut credential = load_in(tx, account, id).await?.ok_or(WriteError::NotFound)?;
    if changed == 0 {
        return Err(WriteError::Invalid("Credential has already been voided".into()));
    }
    // Claimed by the write that voids them, so a concurrent ticket void (which claims the
    // ticket's the same way) cannot give the same redemption back a second time.
    let mut counted: Vec<Counted> = tx
        .fetch_all(
            "UPDATE redemptions SET voided_at = $2 WHERE credential_id = $1 AND voided_at IS NULL \
             RETURNING offer_id, channel_id, member_id, transaction_id",
            &[id.into(), now.unix().into()],
        )
        .await?;
    // Counters are taken in offer order, as redemptions take them.
    counted.sort_by_key(|c| c.offer_id);
    let given_back: Vec<OfferId> = counted.iter().map(|c| c.offer_id).collect();
    share_offers(tx, &given_back).await?;
    for c in &counted {
        give_back(tx, c.offer_id, c.channel_id).await?;
    }
    // A redemption made at a ticket gives back the points it earned there, as the ticket's
    // void would (which now finds it voided and skips it); cards in (member, channel) order.
    counted.sort_by_key(|c| (c.member_id, c.channel_id, c.ticket, c.offer_id));
    for c in &counted {
        let Some(ticket) = c.ticket else { continue };
        let r = TicketRedemption {
            ticket,
            credential_id: id,
            offer_id: c.offer_id,
            member_id: c.member_id,
            channel_id: c.channel_id,
        };
        take_back_points(tx, account, r).await.map_err(|e| match e {
            PointsError::Store(e) => WriteError::Store(e),
            other => WriteError::Invalid(format!("points: {other:?}")),
        })?;
    }
    let offers = credential.offer_ids.clone();
    activities(tx, account, &offers, id, credential.member_id, ActivityType::Void, now).await?;
    let ctx = facts::context(tx, account, None, None, None).await?;
    account_callback(tx, account, &ctx, "credential.voided", &mut credential, now).await?;
    Ok(())
}

/// Whether a wallet offer state holds the credential (as its own code).
async fn held_by_state(tx: &mut Tx, account: AccountId, id: CredentialId) -> Result<bool> {
    let held: Option<i64> = tx
        .fetch_optional(
            "SELECT COUNT(*) FROM offer_states WHERE credential_id = $1 AND account_id = $2",
            &[id.into(), account.0.into()],
        )
        .await?;
    Ok(held.unwrap_or(0) > 0)
}

/// Deletes a credential that was never redeemed and that no offer state holds.
pub async fn delete(db: &Db, account: AccountId, id: CredentialId) -> Outcome<Credential> {
    db.transaction(move |tx| Box::pin(delete_in(tx, account, id))).await
}

async fn delete_in(tx: &mut Tx, account: AccountId, id: CredentialId) -> Outcome<Credential> {
    let credential = load_in(tx, account, id).await?.ok_or(WriteError::NotFound)?;
    let redeemed: Option<i64> =
        tx.fetch_optional("SELECT COUNT(*) FROM redemptions WHERE credential_id = $1", &[id.into()]).await?;
    if redeemed.unwrap_or(0) > 0 {
        return Err(WriteError::Invalid("Credential has redemptions; void it instead".into()));
    }
    // A state and its credential are written together and never parted, so no state can
    // come to hold this one while it is deleted; PostgreSQL has no key to refuse it (32).
    if held_by_state(tx, account, id).await? {
        return Err(WriteError::Conflict("Credential belongs to an Offer State; void the state instead".into()));
    }
    // Its activities go with it: the reports count activities without joining credentials.
    tx.execute(
        "DELETE FROM offer_activities WHERE credential_id = $1 AND account_id = $2",
        &[id.into(), account.0.into()],
    )
    .await?;
    tx.execute("DELETE FROM credentials WHERE id = $1 AND account_id = $2", &[id.into(), account.0.into()]).await?;
    // Then its offer links (on PostgreSQL no key cascades them, migration 32). After the
    // credential's row, whose delete waits for an update holding it: the links such an
    // update wrote are committed, and this statement's snapshot sees them.
    tx.execute(
        "DELETE FROM credential_offers WHERE credential_id = $1 AND account_id = $2",
        &[id.into(), account.0.into()],
    )
    .await?;
    Ok(credential)
}
