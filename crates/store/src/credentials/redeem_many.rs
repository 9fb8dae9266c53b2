//! Many redemptions in a few statements (`PUT /v1.0/credentials/{id}/redeem` in batches, see
//! `many`). A batch meets the rules `write::redeem_in` applies to each alone, in the same
//! order: the credential must be open, active and not held; it must have offers; then the
//! credential rules, read once per channel and set of offers. Each limit that is set takes
//! the batch's redemptions of it in one conditional increment, last.
//!
//! It covers the redemptions whose facts are the same for every member: an offer with member
//! lists or per-member limits, a store (named or the credential's), an offer whose channel
//! has a conversion callback, an account with credential callbacks on, the same credential
//! twice, or a limit without room for the whole batch answers `None` (the items then go
//! alone, which counts each exactly).

use super::facts::{self, Gathered, Offers};
use super::together::{write_activities, Link};
use super::write::{self, WriteError};
use super::{Credential, COLUMNS};
use crate::many::BatchWrite;
use crate::{Dialect, FromRow, Result, Row, Tx};
use kindling_domain::credentials::rules::{self, Purpose};
use kindling_domain::credentials::{ActivityType, CredentialStatus};
use kindling_domain::time::business_date;
use kindling_domain::{AccountId, ChannelId, CredentialId, OfferId, StoreId, Timestamp};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

type Outcome = std::result::Result<Credential, WriteError>;

/// A redemption of credential `id`, optionally at `store`.
#[derive(Debug, Clone, Copy)]
pub struct Redemption {
    pub id: CredentialId,
    pub store: Option<StoreId>,
}

impl BatchWrite for Redemption {
    type Done = Credential;
    type Error = WriteError;

    async fn together(tx: &mut Tx, account: AccountId, items: &[Self]) -> Result<Option<Vec<Outcome>>> {
        redeem(tx, account, items).await
    }

    async fn alone(tx: &mut Tx, account: AccountId, item: Self) -> Outcome {
        write::redeem_in(tx, account, item.id, item.store, None).await
    }
}

/// A credential's offer, as linked.
struct OfferOf {
    credential_id: i64,
    offer_id: i64,
}

impl FromRow for OfferOf {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { credential_id: row.int("credential_id")?, offer_id: row.int("offer_id")? })
    }
}

/// A redemption's row.
#[derive(Serialize)]
struct RedemptionRow {
    credential_id: i64,
    offer_id: i64,
    channel_id: i64,
    member_id: i64,
}

/// A redemption that passed every rule.
struct Accepted {
    index: usize,
    credential: Credential,
    group: usize,
}

/// Redeems `items` together, or answers `None` (see the module's note).
async fn redeem(tx: &mut Tx, account: AccountId, items: &[Redemption]) -> Result<Option<Vec<Outcome>>> {
    let ids: Vec<CredentialId> = items.iter().map(|i| i.id).collect();
    let distinct: HashSet<CredentialId> = ids.iter().copied().collect();
    if items.iter().any(|i| i.store.is_some()) || distinct.len() != ids.len() {
        return Ok(None);
    }
    let now = Timestamp::now();
    let ctx = facts::context(tx, account, None, None, None).await?;
    if ctx.callbacks && ctx.callback_url.is_some() {
        return Ok(None);
    }
    let today = business_date(now, ctx.time_zone.as_deref());
    let dialect = tx.dialect();
    let mut outcomes: Vec<Option<Outcome>> = (0..items.len()).map(|_| None).collect();
    // The credentials by key; which can be claimed is decided here, as `write::redeem_in`'s
    // claim decides. Only the key is in the condition: with the claim's `status = 'open'`
    // PostgreSQL may choose the partial index of open codes and read every open code of the
    // account (it did, 25 ms a batch, while its statistics were young).
    let by_key = |lock: &str| {
        format!(
            "SELECT {COLUMNS} FROM credentials WHERE account_id = $1 AND {} ORDER BY id{lock}",
            dialect.in_list_sql("id", 2)
        )
    };
    let read: Vec<Credential> = tx.fetch_all(&by_key(""), &[account.into(), ids.as_slice().into()]).await?;
    let mut read: HashMap<CredentialId, Credential> = read.into_iter().map(|c| (c.id, c)).collect();
    let mut claimable: HashMap<CredentialId, Credential> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        match read.remove(&item.id) {
            None => outcomes[index] = Some(Err(WriteError::NotFound)),
            Some(c) if !write::claimable(&c, now) => outcomes[index] = Some(Err(write::not_open(&c, now))),
            Some(c) if c.store_id.is_some() => return Ok(None),
            Some(c) => {
                claimable.insert(c.id, c);
            }
        }
    }
    if dialect == Dialect::Postgres && !claimable.is_empty() {
        // The claimable ones locked until the commit, in id order (as every batch takes
        // them) and as the claim locks them (`FOR NO KEY UPDATE`), so none is redeemed
        // twice; held, redeemed or voided codes are not locked. One that changed since
        // the read sends the batch one by one.
        let keys: Vec<CredentialId> = claimable.keys().copied().collect();
        let sql = by_key(" FOR NO KEY UPDATE");
        let locked: Vec<Credential> = tx.fetch_all(&sql, &[account.into(), keys.as_slice().into()]).await?;
        if locked.len() != claimable.len() || locked.iter().any(|c| claimable.get(&c.id) != Some(c)) {
            return Ok(None);
        }
    }

    let sql = format!(
        "SELECT credential_id, offer_id FROM credential_offers WHERE {}",
        dialect.in_list_sql("credential_id", 1)
    );
    let found: Vec<CredentialId> = claimable.keys().copied().collect();
    let mut offers_of: HashMap<i64, Vec<OfferId>> = HashMap::new();
    for link in tx.fetch_all::<OfferOf>(&sql, &[found.as_slice().into()]).await? {
        offers_of.entry(link.credential_id).or_default().push(OfferId(link.offer_id));
    }

    let mut groups: Vec<Gathered> = Vec::new();
    let mut group_of: HashMap<(ChannelId, Vec<OfferId>), usize> = HashMap::new();
    let mut accepted: Vec<Accepted> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some(credential) = claimable.remove(&item.id) else { continue };
        let (channel, member) = (credential.channel_id, credential.member_id);
        let offers = write::dedup(offers_of.remove(&credential.id.0).unwrap_or_default());
        let key = (channel, offers.clone());
        let group = match group_of.get(&key) {
            Some(&group) => group,
            None => {
                let which = Offers::Listed(&offers);
                let mut gathered = facts::gather(tx, true, account, which, Some(channel), member, None, &today).await?;
                if super::together::member_facts_needed(&gathered)
                    || gathered.links.iter().any(|l| l.conversion_callback_url.is_some())
                {
                    return Ok(None);
                }
                // Held codes count against the total and channel limits (per-member ones are
                // not batched).
                crate::pos::holds::count_others(tx, account, &mut gathered, (member, channel), None, now).await?;
                groups.push(gathered);
                group_of.insert(key, groups.len() - 1);
                groups.len() - 1
            }
        };
        // The offers found in the account, as alone.
        let found: Vec<OfferId> = groups[group].offers.iter().map(|o| OfferId(o.id)).collect();
        if found.is_empty() {
            outcomes[index] = Some(Err(WriteError::Invalid("Credential has no offers to redeem".into())));
            continue;
        }
        let verdict = rules::check(&write::facts(
            Purpose::Redeem,
            Some(channel),
            member,
            &write::raw(&found),
            &groups[group],
            false,
            now,
        ));
        if let Err(refusal) = verdict {
            outcomes[index] = Some(Err(WriteError::Refused(refusal)));
            continue;
        }
        accepted.push(Accepted { index, credential, group });
    }
    if accepted.is_empty() {
        return crate::many::every_answer(outcomes);
    }

    // What the batch takes from each limit that is set: alone, the k-th redemption is
    // checked against the count the k-1 before it left, so the batch passes only if its
    // last one would. Keyed (offer, channel): an offer's total (`None`) sorts before its
    // channels, so the counters are taken in `write::count_limits`' order.
    let mut limits: BTreeMap<(i64, Option<i64>), (i64, i64)> = BTreeMap::new();
    for a in &accepted {
        for offer in &groups[a.group].offers {
            if let Some(max) = offer.limits.total {
                limits.entry((offer.id, None)).or_insert((0, max - offer.counts.total)).0 += 1;
            }
            if let Some(max) = offer.limits.per_channel {
                let key = (offer.id, Some(a.credential.channel_id.0));
                limits.entry(key).or_insert((0, max - offer.counts.channel)).0 += 1;
            }
        }
    }
    if limits.values().any(|(taken, room)| taken > room) {
        return Ok(None);
    }

    let claimed: Vec<CredentialId> = accepted.iter().map(|a| a.credential.id).collect();
    let sql = format!(
        "UPDATE credentials SET status = CASE WHEN reusable THEN $4 ELSE 'redeemed' END, redeemed_at = $3, \
         updated_at = $3 WHERE account_id = $1 AND {} RETURNING {COLUMNS}",
        dialect.in_list_sql("id", 2)
    );
    let open = CredentialStatus::Open.as_str();
    let params = [account.into(), claimed.as_slice().into(), now.unix().into(), open.into()];
    let mut written: HashMap<CredentialId, Credential> =
        tx.fetch_all::<Credential>(&sql, &params).await?.into_iter().map(|c| (c.id, c)).collect();
    if written.len() != accepted.len() {
        // Read (and on PostgreSQL locked) above, so only a bug gets here; the items go alone.
        return Ok(None);
    }

    let mut rows = Vec::new();
    let mut links = Vec::new();
    for a in &accepted {
        let c = &a.credential;
        for offer in &groups[a.group].offers {
            let (member_id, offer_id) = (c.member_id.0, offer.id);
            rows.push(RedemptionRow { credential_id: c.id.0, offer_id, channel_id: c.channel_id.0, member_id });
            links.push(Link { credential_id: c.id.0, offer_id, member_id });
        }
    }
    let (from, params) = dialect.rows(
        vec![account.into(), now.unix().into(), today.as_str().into()],
        &[("credential_id", "bigint"), ("offer_id", "bigint"), ("channel_id", "bigint"), ("member_id", "bigint")],
        &rows,
    )?;
    let sql = format!(
        "INSERT INTO redemptions (account_id, credential_id, offer_id, channel_id, member_id, redeemed_at, \
         business_date, created_at) SELECT $1, r.credential_id, r.offer_id, r.channel_id, r.member_id, $2, $3, $2 \
         FROM {from}"
    );
    tx.execute(&sql, &params).await?;
    write_activities(tx, account, &links, ActivityType::Redeem, now).await?;

    // The counters last, in ascending offer order (as alone), each once for the batch.
    for ((offer, channel), (taken, _)) in &limits {
        let counted = match channel {
            None => {
                tx.execute(
                    "UPDATE offers SET redemption_count = redemption_count + $3 WHERE id = $1 AND account_id = $2 \
                     AND redemption_count + $3 <= max_redemptions",
                    &[(*offer).into(), account.into(), (*taken).into()],
                )
                .await?
            }
            Some(channel) => {
                tx.execute(
                    "UPDATE eligible_channels SET redemption_count = redemption_count + $3 WHERE offer_id = $1 \
                     AND channel_id = $2 AND redemption_count + $3 <= max_redemptions",
                    &[(*offer).into(), (*channel).into(), (*taken).into()],
                )
                .await?
            }
        };
        if counted == 0 {
            // Another process counted meanwhile: the items go alone, each counted exactly.
            return Ok(None);
        }
    }

    for a in accepted {
        let mut credential = written
            .remove(&a.credential.id)
            .ok_or_else(|| crate::StoreError::Decode("a claimed credential was not returned".into()))?;
        write::present(tx, account, &mut credential, &groups[a.group]).await?;
        outcomes[a.index] = Some(Ok(credential));
    }
    crate::many::every_answer(outcomes)
}
