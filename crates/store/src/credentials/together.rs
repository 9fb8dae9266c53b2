//! Many credentials in a few statements (`POST /v1.0/credentials` in batches, see `many`),
//! and the multi-row pieces the issuance batches share: one insert of every credential with
//! its fresh code (`insert_codes`), one of their offer links and one of their issue
//! activities (`write_links`), and existence checks by id (`existing`). Each multi-row
//! statement reads its rows as one table (`Dialect::rows`).
//!
//! A batch meets the rules `write::create_in` applies one by one, in the same order: the
//! references (`write::check_refs`), the member, then the credential rules, read once per
//! channel and set of offers. It covers the rules whose facts are the same for every member;
//! an offer with member lists or per-member limits, a store, a credential without offers, or
//! an account with credential callbacks on answers `None` (the items then go one by one).

use super::facts::{self, Context, Gathered, Offers};
use super::write::{self, CredentialInput, WriteError};
use super::{Credential, COLUMNS};
use crate::many::BatchWrite;
use crate::{Dialect, FromRow, Result, Row, StoreError, Tx};
use kindling_domain::catalog::merchant::RedemptionIdentifierType;
use kindling_domain::credentials::code::CodeCipher;
use kindling_domain::credentials::rules::{self, Purpose, Refusal};
use kindling_domain::credentials::ActivityType;
use kindling_domain::time::business_date;
use kindling_domain::{AccountId, ChannelId, CredentialId, MemberId, OfferId, Timestamp};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};

type Outcome = std::result::Result<Credential, WriteError>;

impl BatchWrite for CredentialInput {
    type Done = Credential;
    type Error = WriteError;

    async fn together(tx: &mut Tx, account: AccountId, items: &[Self]) -> Result<Option<Vec<Outcome>>> {
        create(tx, account, items).await
    }

    async fn alone(tx: &mut Tx, account: AccountId, item: Self) -> Outcome {
        write::create_in(tx, account, item).await
    }
}

/// The ids of `ids` that are rows of the account's `table`, each looked up by its key (a
/// scalar subquery per id, which neither store turns into a join: as a join, SQLite without
/// statistics and PostgreSQL's generic plan made while the table was small read every row
/// of the account instead).
pub(crate) async fn existing(
    tx: &mut Tx,
    account: AccountId,
    table: &'static str,
    ids: &[i64],
) -> Result<HashSet<i64>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let sql = format!(
        "SELECT (SELECT t.id FROM {table} t WHERE t.id = value AND t.account_id = $1) AS id FROM {}",
        tx.dialect().list_rows_sql(2)
    );
    let found: Vec<MaybeId> = tx.fetch_all(&sql, &[account.into(), ids.as_slice().into()]).await?;
    Ok(found.into_iter().filter_map(|m| m.id).collect())
}

/// A listed id, when the table has it.
struct MaybeId {
    id: Option<i64>,
}

impl FromRow for MaybeId {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: row.opt_int("id")? })
    }
}

/// A credential to insert with a fresh code of `kind`.
pub(crate) struct CodeRow {
    pub member: MemberId,
    pub channel: ChannelId,
    pub kind: RedemptionIdentifierType,
    pub reusable: bool,
    /// JSON text.
    pub annotations: String,
    pub code_lifetime: Option<i64>,
    pub code_expires_at: Option<Timestamp>,
    pub activates_at: Option<Timestamp>,
}

#[derive(Serialize)]
struct CodeJson<'a> {
    id: i64,
    member_id: i64,
    channel_id: i64,
    code: String,
    code_key: i64,
    reusable: bool,
    annotations: &'a str,
    code_lifetime: Option<i64>,
    code_expires_at: Option<i64>,
    activates_at: Option<i64>,
}

/// Inserts `rows`, each with a code unique among the account's open codes: one insert for
/// all, then again for those whose code was taken (eight rounds). Answers the credentials
/// as stored, in `rows`' order.
///
/// Each row's id is taken first (`new_ids`) so that its first code can be drawn from its id
/// (`CodeCipher::ordered_key`): the index of open codes' keys is then written at its end.
/// A key already open in the account (ids wrap around the 10^8 short keys), or a code equal
/// to an open one drawn before keys, is drawn again from a random key.
pub(crate) async fn insert_codes(
    tx: &mut Tx,
    account: AccountId,
    rows: &[CodeRow],
    now: Timestamp,
) -> Result<Vec<Credential>> {
    let ids = new_ids(tx, rows.len()).await?;
    let row_of: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut done: Vec<Option<Credential>> = vec![None; rows.len()];
    for round in 0..8 {
        let waiting: Vec<usize> = (0..rows.len()).filter(|&i| done[i].is_none()).collect();
        if waiting.is_empty() {
            break;
        }
        let cipher = tx.codes()?;
        let json: Vec<CodeJson<'_>> = waiting
            .iter()
            .map(|&i| {
                let row = &rows[i];
                let key = match round {
                    0 => CodeCipher::ordered_key(row.kind, ids[i]),
                    _ => CodeCipher::random_key(row.kind),
                };
                CodeJson {
                    id: ids[i],
                    member_id: row.member.0,
                    channel_id: row.channel.0,
                    code: cipher.code(row.kind, key),
                    code_key: key,
                    reusable: row.reusable,
                    annotations: &row.annotations,
                    code_lifetime: row.code_lifetime,
                    code_expires_at: row.code_expires_at.map(Timestamp::unix),
                    activates_at: row.activates_at.map(Timestamp::unix),
                }
            })
            .collect();
        let (from, params) = tx.dialect().rows(vec![account.into(), now.unix().into()], &CODE_COLUMNS, &json)?;
        let sql = format!(
            "INSERT INTO credentials (id, account_id, member_id, channel_id, identifier, code_key, status, reusable, \
             annotations, code_lifetime, code_expires_at, activates_at, created_at, updated_at) \
             SELECT r.id, $1, r.member_id, r.channel_id, r.code, r.code_key, 'open', r.reusable, r.annotations, \
             r.code_lifetime, r.code_expires_at, r.activates_at, $2, $2 \
             FROM {from} WHERE NOT {} \
             ON CONFLICT (account_id, code_key) WHERE status = 'open' DO NOTHING RETURNING {COLUMNS}",
            super::codes::legacy_taken("$1", "r.code"),
        );
        let inserted: Vec<Credential> = tx.fetch_all(&sql, &params).await?;
        for credential in inserted {
            let i = row_of
                .get(&credential.id.0)
                .copied()
                .ok_or_else(|| StoreError::Decode("an insert returned an id it was not given".into()))?;
            done[i] = Some(credential);
        }
    }
    done.into_iter()
        .map(|d| d.ok_or_else(|| StoreError::Busy("could not draw a unique code; try again".into())))
        .collect()
}

const CODE_COLUMNS: [(&str, &str); 10] = [
    ("id", "bigint"),
    ("member_id", "bigint"),
    ("channel_id", "bigint"),
    ("code", "text"),
    ("code_key", "bigint"),
    ("reusable", "boolean"),
    ("annotations", "text"),
    ("code_lifetime", "bigint"),
    ("code_expires_at", "bigint"),
    ("activates_at", "bigint"),
];

/// `count` new credential ids, in increasing order: from the id sequence on PostgreSQL (so
/// concurrent transactions never share one), after the largest id ever given on SQLite
/// (whose one writer runs one transaction at a time).
pub(crate) async fn new_ids(tx: &mut Tx, count: usize) -> Result<Vec<i64>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    match tx.dialect() {
        Dialect::Postgres => {
            // The sequence is looked up once (as `nextval`'s argument it was looked up for
            // every id), and the count is written into the text: as a parameter, PostgreSQL
            // planned the statement anew on every call, since a plan for any count is worse.
            let sql = format!(
                "SELECT nextval(s.seq) AS id \
                 FROM (SELECT pg_get_serial_sequence('credentials', 'id')::regclass AS seq) s, \
                 generate_series(1, {count}) ORDER BY 1"
            );
            tx.fetch_all(&sql, &[]).await
        }
        Dialect::Sqlite => {
            let sql = "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'credentials'), 0), \
                       COALESCE((SELECT MAX(id) FROM credentials), 0))";
            let last: Option<i64> = tx.fetch_optional(sql, &[]).await?;
            let last = last.unwrap_or(0);
            Ok((1..=count).map(|n| last + n as i64).collect())
        }
    }
}

/// A credential's offer, with the member its issue activity names.
#[derive(Serialize)]
pub(crate) struct Link {
    pub credential_id: i64,
    pub offer_id: i64,
    pub member_id: i64,
}

/// Each link's `credential_offers` row and its issue activity, in one statement each.
pub(crate) async fn write_links(tx: &mut Tx, account: AccountId, links: &[Link], now: Timestamp) -> Result<()> {
    if links.is_empty() {
        return Ok(());
    }
    let (from, params) = tx.dialect().rows(vec![account.into()], &LINK_COLUMNS, links)?;
    let sql = format!(
        "INSERT INTO credential_offers (account_id, credential_id, offer_id) \
         SELECT $1, r.credential_id, r.offer_id FROM {from}"
    );
    tx.execute(&sql, &params).await?;
    write_activities(tx, account, links, ActivityType::Issue, now).await
}

const LINK_COLUMNS: [(&str, &str); 3] = [("credential_id", "bigint"), ("offer_id", "bigint"), ("member_id", "bigint")];

/// One activity of `kind` per link (its credential, offer and member), in one statement.
pub(crate) async fn write_activities(
    tx: &mut Tx,
    account: AccountId,
    links: &[Link],
    kind: ActivityType,
    now: Timestamp,
) -> Result<()> {
    if links.is_empty() {
        return Ok(());
    }
    let leading = vec![account.into(), kind.code().into(), kind.name().into(), now.unix().into()];
    let (from, params) = tx.dialect().rows(leading, &LINK_COLUMNS, links)?;
    let sql = format!(
        "INSERT INTO offer_activities (account_id, offer_id, credential_id, member_id, activity_type, description, \
         reported_at, processed_at, created_at, updated_at) \
         SELECT $1, r.offer_id, r.credential_id, r.member_id, $2, $3, $4, $4, $4, $4 FROM {from}"
    );
    tx.execute(&sql, &params).await.map(drop)
}

/// Whether an offer's rules read facts of the member (then a batch goes one by one).
pub(crate) fn member_facts_needed(gathered: &Gathered) -> bool {
    gathered.offers.iter().any(|o| !o.member_list_ids.is_empty() || o.limits.per_member_set())
}

/// An item that passed every rule.
struct Accepted {
    index: usize,
    member: MemberId,
    channel: ChannelId,
    offers: Vec<OfferId>,
    group: usize,
}

/// Creates `inputs` together, or answers `None` (see the module's note).
async fn create(tx: &mut Tx, account: AccountId, inputs: &[CredentialInput]) -> Result<Option<Vec<Outcome>>> {
    let plain = |i: &CredentialInput| i.store_id.is_none() && i.offer_ids.as_ref().is_some_and(|o| !o.is_empty());
    if !inputs.iter().all(plain) {
        return Ok(None);
    }
    let now = Timestamp::now();
    let account_facts = facts::context(tx, account, None, None, None).await?;
    if account_facts.callbacks && account_facts.callback_url.is_some() {
        return Ok(None);
    }
    let today = business_date(now, account_facts.time_zone.as_deref());
    let channels: Vec<i64> = inputs.iter().filter_map(|i| i.channel_id.map(|c| c.0)).collect();
    let channels = existing(tx, account, "channels", &channels).await?;
    let members: Vec<i64> = inputs.iter().filter_map(|i| i.member_id.map(|m| m.0)).collect();
    let members = existing(tx, account, "members", &members).await?;

    let mut outcomes: Vec<Option<Outcome>> = (0..inputs.len()).map(|_| None).collect();
    let mut groups: Vec<Gathered> = Vec::new();
    let mut group_of: HashMap<(ChannelId, Vec<OfferId>), usize> = HashMap::new();
    let mut accepted = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let found = Context {
            callbacks: false,
            callback_url: None,
            time_zone: None,
            channel_found: input.channel_id.is_none_or(|c| channels.contains(&c.0)),
            member_found: input.member_id.is_none_or(|m| members.contains(&m.0)),
            store_found: true,
        };
        if let Err(e) = write::check_refs(&found, input) {
            outcomes[index] = Some(Err(e));
            continue;
        }
        let (channel, member) = match (input.channel_id, input.member_id) {
            (Some(c), Some(m)) => (c, m),
            (None, _) => {
                outcomes[index] = Some(Err(WriteError::Refused(Refusal::ChannelMissing)));
                continue;
            }
            (_, None) => {
                outcomes[index] = Some(Err(WriteError::Refused(Refusal::MemberMissing)));
                continue;
            }
        };
        let offers = write::dedup(input.offer_ids.clone().unwrap_or_default());
        let key = (channel, offers.clone());
        let group = match group_of.get(&key) {
            Some(&group) => group,
            None => {
                let gathered =
                    facts::gather(tx, false, account, Offers::Listed(&offers), Some(channel), member, None, &today)
                        .await?;
                if member_facts_needed(&gathered) {
                    return Ok(None);
                }
                groups.push(gathered);
                group_of.insert(key, groups.len() - 1);
                groups.len() - 1
            }
        };
        let requested = write::raw(&offers);
        let verdict =
            rules::check(&write::facts(Purpose::Issue, Some(channel), member, &requested, &groups[group], false, now));
        if let Err(refusal) = verdict {
            outcomes[index] = Some(Err(WriteError::Refused(refusal)));
            continue;
        }
        accepted.push(Accepted { index, member, channel, offers, group });
    }

    let rows: Vec<CodeRow> = accepted
        .iter()
        .map(|a| {
            let input = &inputs[a.index];
            let lifetime = input.code_lifetime;
            CodeRow {
                member: a.member,
                channel: a.channel,
                kind: groups[a.group].identifier_kind,
                reusable: input.reusable.unwrap_or(false),
                annotations: Json::Object(input.annotations.clone().unwrap_or_default()).to_string(),
                code_lifetime: lifetime,
                code_expires_at: input.expires_at.or_else(|| lifetime.map(|l| now.plus_seconds(l))),
                activates_at: input.activates_at,
            }
        })
        .collect();
    let credentials = insert_codes(tx, account, &rows, now).await?;
    let links: Vec<Link> = accepted
        .iter()
        .zip(&credentials)
        .flat_map(|(a, c)| {
            a.offers.iter().map(|o| Link { credential_id: c.id.0, offer_id: o.0, member_id: a.member.0 })
        })
        .collect();
    write_links(tx, account, &links, now).await?;
    for (a, mut credential) in accepted.iter().zip(credentials) {
        // No store here, so this reads nothing: it fills what the credential shows of its offers.
        write::present(tx, account, &mut credential, &groups[a.group]).await?;
        outcomes[a.index] = Some(Ok(credential));
    }
    crate::many::every_answer(outcomes)
}

/// The credentials' ids by code, for callers that answer with the code.
pub(crate) fn codes(credentials: &[Credential]) -> Result<Vec<(CredentialId, String)>> {
    credentials
        .iter()
        .map(|c| {
            let code = c
                .identifier
                .clone()
                .ok_or_else(|| StoreError::Decode("a credential with offers has no code".into()))?;
            Ok((c.id, code))
        })
        .collect()
}
