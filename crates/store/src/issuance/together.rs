//! Many issuances in a few statements: the account, each campaign and its offer's facts read
//! once for the batch, the members found (and the new ones created) in one statement each,
//! then one multi-row insert per table (credentials, their offer links and issue activities
//! through `credentials::together`, then the states), each reading its rows as one table
//! (`Dialect::rows`). On PostgreSQL that is a dozen round trips for a batch instead of about
//! ten per request.
//!
//! The rules an item meets are those `issue_in` applies one by one, in the same order
//! (campaign, window, member, the credential rules), and a refused item writes nothing. The
//! set path covers the rules whose facts are the same for every member; an offer with member
//! lists or per-member limits, or an account with credential callbacks on, answers `None`
//! and the caller issues the items one by one.

use super::{Found, Issue, Issued, Recipient, CAMPAIGN_NOT_FOUND, FIND_CAMPAIGN};
use crate::credentials::facts::{self, Gathered, Offers};
use crate::credentials::together::{self, CodeRow, Link};
use crate::credentials::write::{self, WriteError};
use crate::offer_states::{StateError, MEMBER_NOT_FOUND};
use crate::{members, Result, StoreError, Tx};
use kindling_domain::credentials::rules::{self, Purpose};
use kindling_domain::member::{Identifier, NewMember, NotificationMode};
use kindling_domain::offer_state;
use kindling_domain::time::business_date;
use kindling_domain::{AccountId, CredentialId, MemberId, OfferStateId, Timestamp};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

pub(super) type Outcome = std::result::Result<Issued, StateError>;

/// A campaign as the batch found it.
struct Campaign {
    found: Found,
    gathered: Gathered,
}

/// An item that passed every rule, on its way to the writes.
struct Accepted<'a> {
    index: usize,
    campaign: usize,
    member: Who<'a>,
}

#[derive(Clone, Copy)]
enum Who<'a> {
    Known(MemberId),
    /// Created by this batch.
    New(&'a Identifier),
}

#[derive(Serialize)]
struct StateRow<'a> {
    member_id: i64,
    offer_id: i64,
    channel_id: i64,
    credential_id: i64,
    activates_at: Option<i64>,
    expires_at: Option<i64>,
    external_ref_id: Option<&'a str>,
    token: String,
}

/// Issues `issues` together, or answers `None` when a rule needs facts per member (the
/// caller then issues them one by one). Refused items are answered with their refusal and
/// write nothing; a store error leaves the caller to roll the batch back.
pub(super) async fn issue(tx: &mut Tx, account: AccountId, issues: &[Issue]) -> Result<Option<Vec<Outcome>>> {
    let now = Timestamp::now();
    let ctx = facts::context(tx, account, None, None, None).await?;
    if ctx.callbacks && ctx.callback_url.is_some() {
        return Ok(None);
    }
    let today = business_date(now, ctx.time_zone.as_deref());

    // Each campaign once: its offer and channel, and the offer's facts on that channel.
    let mut campaigns: Vec<Campaign> = Vec::new();
    let mut by_xid: HashMap<&str, Option<usize>> = HashMap::new();
    for issue in issues {
        let xid = issue.campaign_xid.as_str();
        if by_xid.contains_key(xid) {
            continue;
        }
        let found: Option<Found> = tx.fetch_optional(FIND_CAMPAIGN, &[account.into(), xid.into()]).await?;
        let Some(found) = found else {
            by_xid.insert(xid, None);
            continue;
        };
        let offers = [found.offer_id];
        // No member yet: the facts read here are the offer's, the same for every member,
        // unless the offer has member lists or per-member limits (then `None` below).
        let gathered = facts::gather(
            tx,
            false,
            account,
            Offers::Listed(&offers),
            Some(found.channel_id),
            MemberId(0),
            None,
            &today,
        )
        .await?;
        if together::member_facts_needed(&gathered) {
            return Ok(None);
        }
        by_xid.insert(xid, Some(campaigns.len()));
        campaigns.push(Campaign { found, gathered });
    }

    let known = known_members(tx, account, issues).await?;
    let mut outcomes: Vec<Option<Outcome>> = (0..issues.len()).map(|_| None).collect();
    let mut accepted = Vec::new();
    for (index, issue) in issues.iter().enumerate() {
        let refuse = |e| Some(Err(e));
        let Some(campaign) = by_xid[issue.campaign_xid.as_str()] else {
            outcomes[index] = refuse(StateError::NotFound(CAMPAIGN_NOT_FOUND));
            continue;
        };
        let Campaign { found, gathered } = &campaigns[campaign];
        let own = (issue.activates_at, issue.expires_at);
        if let Err(errors) = offer_state::check_window(own, found.offer_window) {
            outcomes[index] = refuse(StateError::Window(errors));
            continue;
        }
        let member = match &issue.recipient {
            Recipient::Id(id) if known.ids.contains(id) => Who::Known(*id),
            Recipient::Id(_) => {
                outcomes[index] = refuse(StateError::NotFound(MEMBER_NOT_FOUND));
                continue;
            }
            Recipient::Identifier(identifier) => match known.identifiers.get(identifier.as_str()) {
                Some(id) => Who::Known(*id),
                None => Who::New(identifier),
            },
        };
        // The rules read no member fact here (see above), so any member id stands for it.
        let offers = [found.offer_id.0];
        let verdict = rules::check(&write::facts(
            Purpose::Issue,
            Some(found.channel_id),
            MemberId(0),
            &offers,
            gathered,
            false,
            now,
        ));
        if let Err(refusal) = verdict {
            outcomes[index] = refuse(StateError::Credential(WriteError::Refused(refusal)));
            continue;
        }
        accepted.push(Accepted { index, campaign, member });
    }
    // Only members an accepted item needs are created (a refusal writes nothing).
    let mut to_create: Vec<&Identifier> =
        accepted.iter().filter_map(|a| if let Who::New(i) = a.member { Some(i) } else { None }).collect();
    let created = create_members(tx, account, &mut to_create, now).await?;
    let member_of = |who: Who<'_>| -> Result<MemberId> {
        match who {
            Who::Known(id) => Ok(id),
            Who::New(identifier) => created
                .get(identifier.as_str())
                .copied()
                .ok_or_else(|| StoreError::Decode("a member neither inserted nor found".into())),
        }
    };
    let members: Vec<MemberId> = accepted.iter().map(|a| member_of(a.member)).collect::<Result<_>>()?;

    let rows: Vec<CodeRow> = accepted
        .iter()
        .zip(&members)
        .map(|(a, member)| {
            let issue = &issues[a.index];
            CodeRow {
                member: *member,
                channel: campaigns[a.campaign].found.channel_id,
                kind: campaigns[a.campaign].gathered.identifier_kind,
                reusable: false,
                annotations: "{}".into(),
                code_lifetime: None,
                code_expires_at: issue.expires_at,
                activates_at: issue.activates_at,
            }
        })
        .collect();
    let codes = together::codes(&together::insert_codes(tx, account, &rows, now).await?)?;
    let links: Vec<Link> = accepted
        .iter()
        .zip(&codes)
        .zip(&members)
        .map(|((a, (credential, _)), member)| Link {
            credential_id: credential.0,
            offer_id: campaigns[a.campaign].found.offer_id.0,
            member_id: member.0,
        })
        .collect();
    together::write_links(tx, account, &links, now).await?;
    let states: Vec<StateRow<'_>> = accepted
        .iter()
        .zip(&codes)
        .zip(&links)
        .map(|((a, (credential, _)), link)| {
            let issue = &issues[a.index];
            StateRow {
                member_id: link.member_id,
                offer_id: link.offer_id,
                channel_id: campaigns[a.campaign].found.channel_id.0,
                credential_id: credential.0,
                activates_at: issue.activates_at.map(Timestamp::unix),
                expires_at: issue.expires_at.map(Timestamp::unix),
                external_ref_id: issue.external_ref_id.as_deref(),
                token: offer_state::new_token(),
            }
        })
        .collect();
    let ids = insert_states(tx, account, &states, now).await?;
    for ((a, (credential, identifier)), link) in accepted.iter().zip(codes).zip(&links) {
        let issue = &issues[a.index];
        let id = ids
            .get(&credential)
            .copied()
            .ok_or_else(|| StoreError::Decode("a state's insert returned no row".into()))?;
        outcomes[a.index] = Some(Ok(Issued {
            id,
            member_id: MemberId(link.member_id),
            offer_id: campaigns[a.campaign].found.offer_id,
            campaign_xid: issue.campaign_xid.clone(),
            activates_at: issue.activates_at,
            expires_at: issue.expires_at,
            credential_identifier: identifier,
        }));
    }
    crate::many::every_answer(outcomes)
}

/// The members the items name that exist in the account.
///
/// Each is looked up by its whole key, a scalar subquery per listed id or identifier (which
/// neither store turns into a join): a join was planned (by SQLite without statistics, by PostgreSQL's generic plan made while the
/// table was small) as a read of every member of the account through `members_identifier`,
/// which made issuance slower as members grew.
struct Known<'a> {
    ids: HashSet<MemberId>,
    identifiers: HashMap<&'a str, MemberId>,
}

async fn known_members<'a>(tx: &mut Tx, account: AccountId, issues: &'a [Issue]) -> Result<Known<'a>> {
    let mut ids = Vec::new();
    let mut identifiers = Vec::new();
    for issue in issues {
        match &issue.recipient {
            Recipient::Id(id) => ids.push(id.0),
            Recipient::Identifier(identifier) => identifiers.push(identifier.as_str().to_owned()),
        }
    }
    let mut known = Known { ids: HashSet::new(), identifiers: HashMap::new() };
    known.ids = together::existing(tx, account, "members", &ids).await?.into_iter().map(MemberId).collect();
    if !identifiers.is_empty() {
        identifiers.sort_unstable();
        identifiers.dedup();
        let found = find_identifiers(tx, account, &identifiers).await?;
        for issue in issues {
            if let Recipient::Identifier(identifier) = &issue.recipient {
                if let Some(id) = found.get(identifier.as_str()) {
                    known.identifiers.insert(identifier.as_str(), *id);
                }
            }
        }
    }
    Ok(known)
}

struct IdentifiedMember {
    id: Option<MemberId>,
    identifier: String,
}

impl crate::FromRow for IdentifiedMember {
    fn from_row(row: &impl crate::Row) -> Result<Self> {
        Ok(Self { id: row.opt_int("id")?.map(MemberId), identifier: row.text("identifier")? })
    }
}

async fn find_identifiers(
    tx: &mut Tx,
    account: AccountId,
    identifiers: &[String],
) -> Result<HashMap<String, MemberId>> {
    let sql = format!(
        "SELECT value AS identifier, \
         (SELECT m.id FROM members m WHERE m.account_id = $1 AND m.identifier = value) AS id FROM {}",
        tx.dialect().list_rows_sql(2)
    );
    let rows: Vec<IdentifiedMember> = tx.fetch_all(&sql, &[account.into(), identifiers.into()]).await?;
    Ok(rows.into_iter().filter_map(|m| Some((m.identifier, m.id?))).collect())
}

/// Creates the members named by `identifiers` (in sorted order, so that two batches
/// creating the same members lock them in the same order) and finds them all, whether this
/// statement or a concurrent one created them.
async fn create_members(
    tx: &mut Tx,
    account: AccountId,
    identifiers: &mut Vec<&Identifier>,
    now: Timestamp,
) -> Result<HashMap<String, MemberId>> {
    if identifiers.is_empty() {
        return Ok(HashMap::new());
    }
    identifiers.sort_unstable_by_key(|i| i.as_str());
    identifiers.dedup();
    let new: Vec<NewMember> = identifiers
        .iter()
        .map(|&identifier| NewMember { identifier: identifier.clone(), notification_mode: NotificationMode::default() })
        .collect();
    let mut found: HashMap<String, MemberId> =
        members::insert_missing(tx, account, &new, now).await?.into_iter().collect();
    // Those another batch created meanwhile (only on PostgreSQL, whose lanes write at once).
    let missing: Vec<String> =
        identifiers.iter().filter(|i| !found.contains_key(i.as_str())).map(|i| i.as_str().to_owned()).collect();
    if !missing.is_empty() {
        found.extend(find_identifiers(tx, account, &missing).await?);
    }
    Ok(found)
}

/// The states, answered by their credential.
async fn insert_states(
    tx: &mut Tx,
    account: AccountId,
    states: &[StateRow<'_>],
    now: Timestamp,
) -> Result<HashMap<CredentialId, OfferStateId>> {
    if states.is_empty() {
        return Ok(HashMap::new());
    }
    let (from, params) = tx.dialect().rows(
        vec![account.into(), now.unix().into()],
        &[
            ("member_id", "bigint"),
            ("offer_id", "bigint"),
            ("channel_id", "bigint"),
            ("credential_id", "bigint"),
            ("activates_at", "bigint"),
            ("expires_at", "bigint"),
            ("external_ref_id", "text"),
            ("token", "text"),
        ],
        states,
    )?;
    let sql = format!(
        "INSERT INTO offer_states (account_id, member_id, offer_id, channel_id, credential_id, activates_at, \
         expires_at, external_ref_id, token, transferable, created_at, updated_at) \
         SELECT $1, r.member_id, r.offer_id, r.channel_id, r.credential_id, r.activates_at, r.expires_at, \
         r.external_ref_id, r.token, TRUE, $2, $2 FROM {from} RETURNING id, credential_id"
    );
    let rows: Vec<StateId> = tx.fetch_all(&sql, &params).await?;
    Ok(rows.into_iter().map(|r| (r.credential, r.id)).collect())
}

struct StateId {
    id: OfferStateId,
    credential: CredentialId,
}

impl crate::FromRow for StateId {
    fn from_row(row: &impl crate::Row) -> Result<Self> {
        Ok(Self { id: OfferStateId(row.int("id")?), credential: CredentialId(row.int("credential_id")?) })
    }
}
