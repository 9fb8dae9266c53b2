//! What the presented codes bring to a ticket: each code's credential, each of its offers
//! either as a candidate with its rule (for the engine) or rejected with the first rule it
//! failed. The same redemption rules as `PUT /credentials/{id}/redeem`, with other tickets'
//! holds counted.

use super::holds;
use super::ticket::Site;
use crate::credentials::facts::{self, Offers};
use crate::{Exec, FromRow, Result, Row};
use kindling_domain::credentials::rules::{self, Facts, OfferFacts, Purpose, Refusal};
use kindling_domain::credentials::CredentialStatus;
use kindling_domain::pos::{rule, Candidate, Reason, Rejected, RuleError, RuleInput};
use kindling_domain::time::business_date;
use kindling_domain::{AccountId, ChannelId, CredentialId, MemberId, OfferId, OfferStateId, Timestamp};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

/// A presented code's credential.
#[derive(Debug, Clone)]
pub struct CodeFacts {
    pub id: CredentialId,
    pub identifier: String,
    pub member_id: MemberId,
    pub member_identifier: String,
    pub channel_id: ChannelId,
    pub status: CredentialStatus,
    pub reusable: bool,
    pub code_expires_at: Option<Timestamp>,
    pub activates_at: Option<Timestamp>,
    pub offer_state_id: Option<OfferStateId>,
    pub remaining_value: Option<i64>,
    /// Another ticket holds the code now.
    pub held_elsewhere: bool,
    /// The member has live wallet states (read only then, see `wallet`).
    pub has_wallet: bool,
}

impl FromRow for CodeFacts {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: CredentialId(row.int("id")?),
            identifier: row.text("identifier")?,
            member_id: MemberId(row.int("member_id")?),
            member_identifier: row.text("member_identifier")?,
            channel_id: ChannelId(row.int("channel_id")?),
            status: crate::db::decode("credential status", row.text("status")?, CredentialStatus::parse)?,
            reusable: row.boolean("reusable")?,
            code_expires_at: row.opt_time("code_expires_at")?,
            activates_at: row.opt_time("activates_at")?,
            offer_state_id: row.opt_int("offer_state_id")?.map(OfferStateId),
            remaining_value: row.opt_int("remaining_value")?,
            held_elsewhere: row.boolean("held_elsewhere")?,
            has_wallet: row.boolean("has_wallet")?,
        })
    }
}

/// A code as the POS sent it, and its credential when the account has one.
#[derive(Debug, Clone)]
pub struct PresentedCode {
    pub presented: String,
    pub credential: Option<CodeFacts>,
}

/// What the POS is shown of an offer.
#[derive(Debug, Clone)]
pub struct OfferInfo {
    pub id: OfferId,
    pub name: String,
    pub description: Option<String>,
    pub pos_offer_code: Option<String>,
    pub expires_at: Option<Timestamp>,
    pub redeem_until_depleted: bool,
    pub initial_remaining_value: Option<i64>,
    /// Loyalty points a redemption of the offer earns the member (`points_earning_value`).
    pub points_earning_value: Option<i64>,
}

/// The candidates for the engine and the offers refused before it.
#[derive(Debug, Clone, Default)]
pub struct Considered {
    pub codes: Vec<PresentedCode>,
    pub offers: BTreeMap<i64, OfferInfo>,
    pub candidates: Vec<Candidate>,
    pub rejected: Vec<Rejected>,
    /// The first found code's member's live wallet states (the show response's top-level
    /// `availible_offers`, for a cashier's manual selection).
    pub wallet: Vec<WalletState>,
}

/// A member's live offer state whose code is still open.
#[derive(Debug, Clone)]
pub struct WalletState {
    pub offer_state_id: OfferStateId,
    pub offer_id: OfferId,
    pub eligible_channel_id: Option<i64>,
    pub activates_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub external_ref_id: Option<String>,
}

impl FromRow for WalletState {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            offer_state_id: OfferStateId(row.int("id")?),
            offer_id: OfferId(row.int("offer_id")?),
            eligible_channel_id: row.opt_int("eligible_channel_id")?,
            activates_at: row.opt_time("activates_at")?,
            expires_at: row.opt_time("expires_at")?,
            external_ref_id: row.opt_text("external_ref_id")?,
        })
    }
}

/// The member's live wallet states (not voided, code open), oldest first, at most 100.
async fn wallet(exec: &mut impl Exec, account: AccountId, member: MemberId) -> Result<Vec<WalletState>> {
    exec.fetch_all(
        "SELECT s.id, s.offer_id, e.id AS eligible_channel_id, s.activates_at, s.expires_at, s.external_ref_id \
         FROM offer_states s JOIN credentials c ON c.id = s.credential_id \
         LEFT JOIN eligible_channels e ON e.offer_id = s.offer_id AND e.channel_id = s.channel_id \
         WHERE s.account_id = $1 AND s.member_id = $2 AND s.voided_at IS NULL AND c.status = 'open' \
         ORDER BY s.id LIMIT 100",
        &[account.into(), member.into()],
    )
    .await
}

impl Considered {
    /// The credential that brought `code`.
    pub fn credential(&self, code: &str) -> Option<&CodeFacts> {
        self.codes.iter().find(|c| c.presented == code).and_then(|c| c.credential.as_ref())
    }
}

/// The code's credential (the account's open one with this code, else its latest), and
/// whether a ticket other than `ticket` holds it now.
pub(crate) async fn code_facts(
    tx: &mut impl Exec,
    account: AccountId,
    code: &str,
    ticket: Option<i64>,
    now: Timestamp,
) -> Result<Option<CodeFacts>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT c.id, c.identifier, c.member_id, c.channel_id, c.status, c.reusable, c.code_expires_at, \
             c.activates_at, c.remaining_value, m.identifier AS member_identifier, \
             (SELECT MIN(s.id) FROM offer_states s WHERE s.credential_id = c.id) AS offer_state_id, \
             EXISTS (SELECT 1 FROM pos_holds h WHERE h.credential_id = c.id AND h.expires_at > $3 \
                     AND ($4 IS NULL OR h.transaction_id <> $4)) AS held_elsewhere, \
             EXISTS (SELECT 1 FROM offer_states w WHERE w.member_id = c.member_id AND w.voided_at IS NULL) AS has_wallet \
             FROM credentials c JOIN members m ON m.id = c.member_id \
             WHERE c.id = {}",
            crate::credentials::codes::code_id(5)
        )
    });
    let key = tx.codes()?.key(code);
    tx.fetch_optional(&SQL, &[account.into(), code.into(), now.unix().into(), ticket.into(), key.into()]).await
}

/// Why the credential itself cannot be redeemed now, before any offer rule.
pub(crate) fn code_reason(code: &CodeFacts, now: Timestamp) -> Option<(Reason, &'static str)> {
    match code.status {
        CredentialStatus::Redeemed => Some((Reason::AlreadyRedeemed, "Credential has already been redeemed")),
        CredentialStatus::Voided => Some((Reason::Voided, "Credential has been voided")),
        CredentialStatus::Open if code.activates_at.is_some_and(|a| a > now) => {
            Some((Reason::NotActiveYet, "Credential is not active yet"))
        }
        CredentialStatus::Open if code.code_expires_at.is_some_and(|e| e <= now) => {
            Some((Reason::Expired, "Credential has expired"))
        }
        CredentialStatus::Open => None,
    }
}

/// The reason code of a redemption rule's refusal; `not_yet`: the offer's window has not
/// opened (else a closed window is `expired`).
pub(crate) fn refusal_reason(refusal: &Refusal, not_yet: bool) -> Reason {
    match refusal {
        Refusal::ChannelMissing | Refusal::MemberMissing | Refusal::OffersNotFound(_) => Reason::NotFound,
        Refusal::Locked => Reason::HeldByOtherTransaction,
        Refusal::NotApproved(_) => Reason::NotFound,
        Refusal::NotActive(_) if not_yet => Reason::NotActiveYet,
        Refusal::NotActive(_) => Reason::Expired,
        Refusal::MemberNotEligible { reason, .. } => match *reason {
            "max_redemptions" | "max_per_channel" => Reason::TotalLimit,
            "max_per_member" => Reason::MemberLimit,
            "max_per_member_per_day" => Reason::DayLimit,
            _ => Reason::MemberNotEligible,
        },
        Refusal::StoreNotEligible(_) => Reason::StoreNotEligible,
    }
}

/// Considers the presented `codes` (deduplicated, in order) for a ticket at `site`. `only`
/// limits each code to these offers (the cashier's selection). With `lock` (writes), other
/// tickets on a limited offer wait (see `holds::serialize_limited`) from before its counts
/// are read.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn consider(
    tx: &mut impl Exec,
    account: AccountId,
    site: &Site,
    ticket: Option<i64>,
    codes: &[String],
    only: Option<&[OfferId]>,
    lock: bool,
    now: Timestamp,
) -> Result<Considered> {
    let today = business_date(now, site.time_zone.as_deref());
    let mut considered = Considered::default();
    let mut seen = BTreeSet::new();
    let mut offered: Vec<(String, OfferFacts)> = Vec::new();
    let unique: Vec<&String> = codes.iter().filter(|c| seen.insert(c.as_str())).collect();
    if lock {
        // Before they are read: a ticket that held or redeemed one of the codes while this
        // one waited for it is seen, so two tickets never both hold it.
        holds::lock_codes(tx, account, &unique).await?;
    }
    let mut found = Vec::with_capacity(unique.len());
    for code in &unique {
        found.push(code_facts(tx, account, code, ticket, now).await?);
    }
    if lock {
        let credentials: Vec<CredentialId> = found.iter().flatten().map(|c| c.id).collect();
        holds::serialize_limited(tx, account, &credentials).await?;
    }
    for (code, facts_of_code) in unique.into_iter().zip(found) {
        considered.codes.push(PresentedCode { presented: code.clone(), credential: facts_of_code.clone() });
        let Some(credential) = facts_of_code else {
            considered.rejected.push(Rejected {
                offer_id: 0,
                credential: Some(code.clone()),
                reason: Reason::NotFound,
                detail: format!("Code not found: {code}"),
            });
            continue;
        };
        let (channel, member) = (credential.channel_id, credential.member_id);
        let mine = Offers::OfCredential(credential.id);
        let mut gathered =
            facts::gather(tx, lock, account, mine, Some(channel), member, Some(site.store_id), &today).await?;
        if let Some(only) = only {
            gathered.offers.retain(|o| only.contains(&OfferId(o.id)));
        }
        holds::count_others(tx, account, &mut gathered, (member, channel), ticket, now).await?;
        let blocked = code_reason(&credential, now).or(credential.held_elsewhere.then_some((
            Reason::HeldByOtherTransaction,
            "This credential is currently locked for processing. Please try again later.",
        )));
        for offer in &gathered.offers {
            let verdict = match blocked {
                Some((reason, words)) => Err((reason, words.to_owned())),
                None => {
                    let requested = [offer.id];
                    rules::check(&Facts {
                        purpose: Purpose::Redeem,
                        channel_id: Some(channel.0),
                        member_id: Some(member.0),
                        requested: &requested,
                        offers: std::slice::from_ref(offer),
                        member_lists: &gathered.member_lists,
                        store: gathered.store.as_ref().map(|(m, l)| (*m, l.as_slice())),
                        locked: false,
                        now,
                    })
                    .map_err(|r| {
                        let not_yet = offer.window.activates_at.is_some_and(|a| a > now);
                        (refusal_reason(&r, not_yet), r.message())
                    })
                }
            };
            match verdict {
                Ok(()) => offered.push((code.clone(), offer.clone())),
                Err((reason, detail)) => considered.rejected.push(Rejected {
                    offer_id: offer.id,
                    credential: Some(code.clone()),
                    reason,
                    detail,
                }),
            }
        }
        for offer in &gathered.offers {
            considered.offers.entry(offer.id).or_insert_with(|| OfferInfo {
                id: OfferId(offer.id),
                name: offer.name.clone(),
                description: None,
                pos_offer_code: None,
                expires_at: offer.window.expires_at,
                redeem_until_depleted: false,
                initial_remaining_value: None,
                points_earning_value: None,
            });
        }
    }
    if let Some(only) = only {
        for offer in only.iter().filter(|o| !considered.offers.contains_key(&o.0)) {
            considered.rejected.push(Rejected {
                offer_id: offer.0,
                credential: None,
                reason: Reason::NotFound,
                detail: format!("Offer {offer} is not on a presented code"),
            });
        }
    }
    let owner =
        considered.codes.iter().find_map(|c| c.credential.as_ref()).filter(|c| c.has_wallet).map(|c| c.member_id);
    if let Some(member) = owner {
        considered.wallet = wallet(tx, account, member).await?;
    }
    let ids: Vec<i64> = considered.offers.keys().copied().collect();
    let mut rows = offer_rules(tx, account, &ids).await?;
    for (code, offer) in offered {
        let remaining = considered.credential(&code).and_then(|c| c.remaining_value);
        let Some(row) = rows.get_mut(&offer.id) else { continue };
        match row.build(remaining) {
            Ok(rule) => considered.candidates.push(Candidate { offer_id: offer.id, credential: Some(code), rule }),
            Err(e) => considered.rejected.push(Rejected {
                offer_id: offer.id,
                credential: Some(code),
                reason: Reason::UnsupportedOfferType,
                detail: match e {
                    RuleError::UnknownType(t) => format!("offer_type {t} is not supported"),
                    RuleError::Criteria(field, message) => format!("criteria.{field} {message}"),
                },
            }),
        }
    }
    for (id, info) in &mut considered.offers {
        if let Some(row) = rows.get(id) {
            info.description = row.description.clone();
            info.pos_offer_code = row.pos_offer_code.clone();
            info.redeem_until_depleted = row.redeem_until_depleted;
            info.initial_remaining_value = row.initial_remaining_value;
            info.points_earning_value = row.points_earning_value;
        }
    }
    Ok(considered)
}

/// An offer's columns the engine's rule is built from, with its item sets' codes.
struct OfferRule {
    id: i64,
    description: Option<String>,
    offer_type: i64,
    criteria: Map<String, Json>,
    formatting: Map<String, Json>,
    pos_offer_code: Option<String>,
    reward_item_value: Option<i64>,
    max_amount: Option<i64>,
    min_spend_amount: Option<i64>,
    trigger_amount: Option<i64>,
    redeem_until_depleted: bool,
    initial_remaining_value: Option<i64>,
    points_earning_value: Option<i64>,
    required: Option<(BTreeSet<String>, u32)>,
    redemption: Option<(BTreeSet<String>, u32)>,
}

impl FromRow for OfferRule {
    fn from_row(row: &impl Row) -> Result<Self> {
        let object = |text: String| serde_json::from_str::<Map<String, Json>>(&text).unwrap_or_default();
        Ok(Self {
            id: row.int("id")?,
            description: row.opt_text("description")?,
            offer_type: row.int("offer_type")?,
            criteria: object(row.text("criteria")?),
            formatting: object(row.text("formatting")?),
            pos_offer_code: row.opt_text("pos_offer_code")?,
            reward_item_value: row.opt_int("reward_item_value")?,
            max_amount: row.opt_int("max_amount")?,
            min_spend_amount: row.opt_int("min_spend_amount")?,
            trigger_amount: row.opt_int("trigger_amount")?,
            redeem_until_depleted: row.opt_boolean("redeem_until_depleted")?.unwrap_or(false),
            initial_remaining_value: row.opt_int("initial_remaining_value")?,
            points_earning_value: row.opt_int("points_earning_value")?,
            required: None,
            redemption: None,
        })
    }
}

impl OfferRule {
    fn build(&self, remaining: Option<i64>) -> std::result::Result<kindling_domain::pos::Rule, RuleError> {
        rule::build(&RuleInput {
            offer_type: self.offer_type,
            criteria: Some(&self.criteria),
            formatting: Some(&self.formatting),
            reward_item_value: self.reward_item_value,
            max_amount: self.max_amount,
            min_spend_amount: self.min_spend_amount,
            trigger_amount: self.trigger_amount,
            required: self.required.clone(),
            redemption: self.redemption.clone(),
            remaining_value: remaining.or(self.initial_remaining_value.filter(|_| self.redeem_until_depleted)),
        })
    }
}

/// One item code of one of an offer's item sets (`code` `None`: the set has no items),
/// `qualifying` for required items, else rewarded.
struct SetCode {
    offer_id: i64,
    set_id: i64,
    /// 0: the offer's own column, 1: an eligible item set.
    source: i64,
    qualifying: bool,
    count: i64,
    code: Option<String>,
}

impl FromRow for SetCode {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            offer_id: row.int("offer_id")?,
            set_id: row.int("set_id")?,
            source: row.int("source")?,
            qualifying: row.int("list_type")? == 0,
            count: row.int("count")?,
            code: row.opt_text("code")?,
        })
    }
}

/// The offers' rule columns, then their item sets' codes, in two statements. An offer's
/// qualifying items are its `required_item_set_id` and its eligible item sets of
/// `list_type` 0; its rewarded items `redemption_item_set_id` and those of `list_type` 1
/// (docs/POS.md).
async fn offer_rules(tx: &mut impl Exec, account: AccountId, ids: &[i64]) -> Result<HashMap<i64, OfferRule>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let dialect = tx.dialect();
    let sql = format!(
        "SELECT id, description, offer_type, criteria, formatting, pos_offer_code, reward_item_value, max_amount, \
         min_spend_amount, trigger_amount, redeem_until_depleted, initial_remaining_value, points_earning_value FROM offers WHERE account_id = $1 AND {}",
        dialect.in_list_sql("id", 2)
    );
    let mut rows: HashMap<i64, OfferRule> =
        tx.fetch_all::<OfferRule>(&sql, &[account.into(), ids.into()]).await?.into_iter().map(|r| (r.id, r)).collect();
    let listed = |column: &str| dialect.in_list_sql(column, 2);
    let sql = format!(
        "SELECT e.offer_id, e.item_set_id AS set_id, CAST(1 AS BIGINT) AS source, e.list_type, e.req_qty AS count, i.code \
         FROM eligible_item_sets e LEFT JOIN item_set_items s ON s.item_set_id = e.item_set_id \
         LEFT JOIN items i ON i.id = s.item_id WHERE e.account_id = $1 AND {} \
         UNION ALL SELECT o.id, o.required_item_set_id, 0, 0, COALESCE(o.required_item_count, 1), i.code \
         FROM offers o LEFT JOIN item_set_items s ON s.item_set_id = o.required_item_set_id \
         LEFT JOIN items i ON i.id = s.item_id \
         WHERE o.account_id = $1 AND o.required_item_set_id IS NOT NULL AND {} \
         UNION ALL SELECT o.id, o.redemption_item_set_id, 0, 1, COALESCE(o.redemption_item_count, 1), i.code \
         FROM offers o LEFT JOIN item_set_items s ON s.item_set_id = o.redemption_item_set_id \
         LEFT JOIN items i ON i.id = s.item_id \
         WHERE o.account_id = $1 AND o.redemption_item_set_id IS NOT NULL AND {}",
        listed("e.offer_id"),
        listed("o.id"),
        listed("o.id"),
    );
    // Every set of a kind adds its codes; the count is the offer's own column's, else the
    // first (lowest id) eligible set's `req_qty`.
    let mut counts: HashMap<(i64, bool), ((i64, i64), i64)> = HashMap::new();
    for c in tx.fetch_all::<SetCode>(&sql, &[account.into(), ids.into()]).await? {
        let Some(row) = rows.get_mut(&c.offer_id) else { continue };
        let slot = if c.qualifying { &mut row.required } else { &mut row.redemption };
        // Compared trimmed, as the ticket's `ic` and the criteria's `item_codes` are read.
        let code = c.code.map(|code| code.trim().to_owned()).filter(|code| !code.is_empty());
        slot.get_or_insert_with(|| (BTreeSet::new(), 1)).0.extend(code);
        let rank = (c.source, c.set_id);
        let best = counts.entry((c.offer_id, c.qualifying)).or_insert((rank, c.count));
        if rank < best.0 {
            *best = (rank, c.count);
        }
    }
    for ((offer, qualifying), (_, n)) in counts {
        let Some(row) = rows.get_mut(&offer) else { continue };
        let slot = if qualifying { &mut row.required } else { &mut row.redemption };
        if let Some((_, count)) = slot {
            *count = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
        }
    }
    Ok(rows)
}
