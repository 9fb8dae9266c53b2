//! Gathers what the domain's credential rules need, inside the caller's transaction, in as
//! few statements as the request allows: one for the account and the references a request
//! names (`context`), one for the offers on the channel (`gather`), and only when an offer
//! has member lists or store rules, or per-member limits, one more each.

use crate::{Dialect, Exec, FromRow, Result, Row, Tx, Value};
use kindling_domain::catalog::merchant::RedemptionIdentifierType;
use kindling_domain::credentials::rules::{Counts, Limits, OfferFacts};
use kindling_domain::offers::eligibility::StoreRule;
use kindling_domain::offers::offer::Window;
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::{AccountId, ChannelId, CredentialId, MemberId, OfferId, StoreId};

use std::collections::HashMap;

/// The account's settings a credential write needs, and whether the channel, member and
/// store a request names exist in the account (`true` when it names none).
pub struct Context {
    pub callbacks: bool,
    pub callback_url: Option<String>,
    pub time_zone: Option<String>,
    pub channel_found: bool,
    pub member_found: bool,
    pub store_found: bool,
}

impl FromRow for Context {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            callbacks: row.boolean("enable_callbacks")?,
            callback_url: row.opt_text("credential_callback_url")?,
            time_zone: row.opt_text("time_zone")?,
            channel_found: row.boolean("channel_found")?,
            member_found: row.boolean("member_found")?,
            store_found: row.boolean("store_found")?,
        })
    }
}

/// One statement for the account's settings and the named references. It names only the
/// references given: an `$n IS NULL OR EXISTS ...` for an absent one would make PostgreSQL
/// plan the statement anew at every call (a custom plan folds the `NULL` away, so the
/// generic plan never looks cheaper), about 70 µs a call when measured.
pub async fn context(
    tx: &mut Tx,
    account: AccountId,
    channel: Option<ChannelId>,
    member: Option<MemberId>,
    store: Option<StoreId>,
) -> Result<Context> {
    let mut params: Vec<Value> = vec![account.into()];
    let mut found = |name: &str, table: &str, id: Option<i64>| match id {
        None => format!("TRUE AS {name}"),
        Some(id) => {
            params.push(id.into());
            format!("EXISTS (SELECT 1 FROM {table} WHERE id = ${} AND account_id = $1) AS {name}", params.len())
        }
    };
    let sql = format!(
        "SELECT a.enable_callbacks, a.credential_callback_url, a.time_zone, {}, {}, {} FROM accounts a WHERE a.id = $1",
        found("channel_found", "channels", channel.map(|c| c.0)),
        found("member_found", "members", member.map(|m| m.0)),
        found("store_found", "stores", store.map(|s| s.0)),
    );
    tx.fetch_optional(&sql, &params).await?.ok_or_else(|| crate::StoreError::Decode("account vanished".into()))
}

/// Plain `i64`s: these feed the domain's rules (`Facts`), which take untyped ids.
pub struct Gathered {
    pub offers: Vec<OfferFacts>,
    pub member_lists: Vec<i64>,
    pub store: Option<(i64, Vec<i64>)>,
    /// The code format of the first offer's merchant.
    pub identifier_kind: RedemptionIdentifierType,
    /// Per offer on the channel: its landing-page xid and the channel's conversion callback.
    pub links: Vec<ChannelLink>,
    /// What a credential shows of its first offer (see `Shown`), when there are offers.
    pub shown: Option<Shown>,
}

/// The first (lowest id) offer's name and merchant, as a credential shows them
/// (`credentials::attach_in` reads the same for stored credentials).
#[derive(Debug, Clone)]
pub struct Shown {
    pub offer_name: String,
    pub merchant_id: Option<kindling_domain::MerchantId>,
    pub merchant_name: Option<String>,
    pub supports_barcode: bool,
}

/// An offer's row on the request's channel.
#[derive(Debug, Clone)]
pub struct ChannelLink {
    pub offer_id: OfferId,
    pub xid: String,
    pub conversion_callback_url: Option<String>,
}

struct OfferRow {
    facts: OfferFacts,
    shown: Shown,
    identifier_type: Option<i64>,
    has_member_lists: bool,
    has_store_rule: bool,
    link: Option<ChannelLink>,
}

impl FromRow for OfferRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        let id = row.int("id")?;
        let xid = row.opt_text("xid")?;
        Ok(Self {
            facts: OfferFacts {
                id,
                name: row.text("name")?,
                status: crate::db::decode("offer status", row.text("status")?, OfferStatus::parse)?,
                window: Window {
                    activates_at: row.opt_time("activates_at")?,
                    expires_at: row.opt_time("expires_at")?,
                    stop_offering_at: row.opt_time("stop_offering_at")?,
                },
                on_channel: row.boolean("on_channel")?,
                member_list_ids: Vec::new(),
                store_rule: StoreRule {
                    merchant_ids: row.opt_int("merchant_id")?.into_iter().collect(),
                    ..Default::default()
                },
                limits: Limits {
                    total: row.opt_int("max_redemptions")?,
                    per_member: row.opt_int("max_redemptions_per_member")?,
                    per_member_per_day: row.opt_int("max_redemptions_per_member_per_day")?,
                    per_channel: row.opt_int("channel_max_redemptions")?,
                },
                counts: Counts {
                    total: row.int("redemption_count")?,
                    channel: row.opt_int("channel_redemption_count")?.unwrap_or(0),
                    ..Default::default()
                },
            },
            shown: Shown {
                offer_name: row.text("name")?,
                merchant_id: row.opt_int("merchant_id")?.map(kindling_domain::MerchantId),
                merchant_name: row.opt_text("merchant_name")?,
                supports_barcode: row.opt_boolean("supports_barcode")?.unwrap_or(false),
            },
            identifier_type: row.opt_int("redemption_identifier_type")?,
            has_member_lists: row.boolean("has_member_lists")?,
            has_store_rule: row.boolean("has_store_rule")?,
            link: xid
                .map(|xid| -> Result<ChannelLink> {
                    Ok(ChannelLink {
                        offer_id: OfferId(id),
                        xid,
                        conversion_callback_url: row.opt_text("conversion_callback_url")?,
                    })
                })
                .transpose()?,
        })
    }
}

/// The offers' facts on `channel` (`None`: on any channel, for eligibility checks). With
/// `lock`, on PostgreSQL, the offer rows are share-locked (`FOR KEY SHARE`, which
/// concurrent redemptions all hold at once) so that setting a limit, which recounts under
/// `FOR UPDATE`, waits for the redemptions that read the offer while it had none.
fn offers_sql(dialect: Dialect, lock: bool, which: &Offers<'_>) -> String {
    format!(
        "SELECT o.id, o.name, o.status, o.activates_at, o.expires_at, o.stop_offering_at, o.merchant_id, \
         o.max_redemptions, o.max_redemptions_per_member, o.max_redemptions_per_member_per_day, o.redemption_count, \
         m.redemption_identifier_type, m.name AS merchant_name, m.supports_barcode, \
         e.max_redemptions AS channel_max_redemptions, e.redemption_count AS channel_redemption_count, e.xid, \
         c.conversion_callback_url, \
         CASE WHEN $3 IS NULL THEN EXISTS (SELECT 1 FROM eligible_channels x WHERE x.offer_id = o.id) \
              ELSE e.id IS NOT NULL END AS on_channel, \
         EXISTS (SELECT 1 FROM offer_member_lists l WHERE l.offer_id = o.id) AS has_member_lists, \
         (o.merchant_id IS NOT NULL OR EXISTS (SELECT 1 FROM offer_merchants l WHERE l.offer_id = o.id) \
          OR EXISTS (SELECT 1 FROM offer_store_lists l WHERE l.offer_id = o.id)) AS has_store_rule \
         FROM offers o LEFT JOIN merchants m ON m.id = o.merchant_id \
         LEFT JOIN eligible_channels e ON e.offer_id = o.id AND e.channel_id = $3 \
         LEFT JOIN channels c ON c.id = e.channel_id \
         WHERE o.account_id = $1 AND {} ORDER BY o.id{}",
        match which {
            Offers::Listed(_) => dialect.in_list_sql("o.id", 2),
            Offers::OfCredential(_) =>
                "o.id IN (SELECT offer_id FROM credential_offers WHERE credential_id = $2)".into(),
        },
        match dialect {
            Dialect::Postgres if lock => " FOR KEY SHARE OF o",
            _ => "",
        }
    )
}

/// The offers' member lists, merchants and store lists, the member's lists and the store's
/// merchant and lists, as (kind, owner, id) rows of one statement.
fn links_sql(dialect: Dialect) -> String {
    let listed = |column: &str| dialect.in_list_sql(column, 2);
    format!(
        "SELECT 'member_list' AS kind, offer_id AS owner, member_list_id AS id FROM offer_member_lists \
         WHERE account_id = $1 AND {} \
         UNION ALL SELECT 'merchant', offer_id, merchant_id FROM offer_merchants WHERE account_id = $1 AND {} \
         UNION ALL SELECT 'store_list', offer_id, store_list_id FROM offer_store_lists WHERE account_id = $1 AND {} \
         UNION ALL SELECT 'member_of', 0, member_list_id FROM member_list_members WHERE account_id = $1 AND member_id = $3 \
         UNION ALL SELECT 'store_merchant', 0, merchant_id FROM stores WHERE account_id = $1 AND id = $4 \
         UNION ALL SELECT 'store_in', 0, store_list_id FROM store_list_stores WHERE account_id = $1 AND store_id = $4",
        listed("offer_id"),
        listed("offer_id"),
        listed("offer_id"),
    )
}

struct LinkRow {
    kind: String,
    owner: i64,
    id: i64,
}

impl FromRow for LinkRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { kind: row.text("kind")?, owner: row.int("owner")?, id: row.int("id")? })
    }
}

/// A member's redemption counts of one offer, all time and on the business day.
struct MemberCount {
    offer_id: i64,
    count: i64,
    today: i64,
}

impl FromRow for MemberCount {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { offer_id: row.int("offer_id")?, count: row.int("count")?, today: row.int("today")? })
    }
}

/// Which offers to gather facts about.
#[derive(Debug, Clone, Copy)]
pub enum Offers<'a> {
    /// These (those found in the account are gathered).
    Listed(&'a [OfferId]),
    /// The offers a credential carries (a redemption's), read in the same statement.
    OfCredential(CredentialId),
}

/// Facts for the offers (those found in the account), the member and the optional store.
/// `channel` `None` (eligibility checks) counts an offer on a channel if it has any. `lock`
/// (writes only, see `offers_sql`) share-locks the offers on PostgreSQL.
#[allow(clippy::too_many_arguments)]
pub async fn gather(
    tx: &mut impl Exec,
    lock: bool,
    account: AccountId,
    which: Offers<'_>,
    channel: Option<ChannelId>,
    member: MemberId,
    store: Option<StoreId>,
    today: &str,
) -> Result<Gathered> {
    let mut gathered = Gathered {
        offers: Vec::new(),
        member_lists: Vec::new(),
        store: None,
        identifier_kind: RedemptionIdentifierType::default(),
        links: Vec::new(),
        shown: None,
    };
    let which_param: Value = match which {
        Offers::Listed([]) => return Ok(gathered),
        Offers::Listed(ids) => ids.into(),
        Offers::OfCredential(id) => id.into(),
    };
    let dialect = tx.dialect();
    let sql = offers_sql(dialect, lock, &which);
    let rows: Vec<OfferRow> = tx.fetch_all(&sql, &[account.into(), which_param, channel.into()]).await?;
    let found: Vec<i64> = rows.iter().map(|r| r.facts.id).collect();
    let offers_list: Value = found.as_slice().into();
    if let Some(code) = rows.first().and_then(|r| r.identifier_type) {
        gathered.identifier_kind = RedemptionIdentifierType::from_code(code).unwrap_or_default();
    }
    gathered.shown = rows.first().map(|r| r.shown.clone());
    let needs_links =
        rows.iter().any(|r| r.has_member_lists) || (store.is_some() && rows.iter().any(|r| r.has_store_rule));
    let mut links: HashMap<(&'static str, i64), Vec<i64>> = HashMap::new();
    if needs_links {
        let params = [account.into(), offers_list.clone(), member.into(), store.into()];
        let mut store_merchant = None;
        for link in tx.fetch_all::<LinkRow>(&links_sql(dialect), &params).await? {
            let kind = match link.kind.as_str() {
                "member_list" => "member_list",
                "merchant" => "merchant",
                "store_list" => "store_list",
                "member_of" => {
                    gathered.member_lists.push(link.id);
                    continue;
                }
                "store_merchant" => {
                    store_merchant = Some(link.id);
                    continue;
                }
                "store_in" => "store_in",
                other => return Err(crate::StoreError::Decode(format!("link kind {other:?}"))),
            };
            links.entry((kind, link.owner)).or_default().push(link.id);
        }
        gathered.store = store_merchant.map(|m| (m, links.remove(&("store_in", 0)).unwrap_or_default()));
    }
    // Per-member counts matter only for offers with a per-member limit; skipping them
    // otherwise keeps a busy offer's redemptions from being rescanned on every request.
    let limited: Vec<i64> = rows.iter().filter(|r| r.facts.limits.per_member_set()).map(|r| r.facts.id).collect();
    let mut member_counts: HashMap<i64, MemberCount> = HashMap::new();
    if !limited.is_empty() {
        let sql = format!(
            "SELECT offer_id, COUNT(*) AS count, SUM(CASE WHEN business_date = $3 THEN 1 ELSE 0 END) AS today \
             FROM redemptions WHERE account_id = $1 AND member_id = $2 AND voided_at IS NULL AND {} GROUP BY offer_id",
            dialect.in_list_sql("offer_id", 4)
        );
        let params = [account.into(), member.into(), today.into(), limited.as_slice().into()];
        member_counts =
            tx.fetch_all::<MemberCount>(&sql, &params).await?.into_iter().map(|c| (c.offer_id, c)).collect();
    }
    for mut row in rows {
        let id = row.facts.id;
        let facts = &mut row.facts;
        facts.member_list_ids = links.remove(&("member_list", id)).unwrap_or_default();
        facts.store_rule.merchant_ids.extend(links.remove(&("merchant", id)).unwrap_or_default());
        facts.store_rule.store_list_ids = links.remove(&("store_list", id)).unwrap_or_default();
        if let Some(c) = member_counts.get(&id) {
            facts.counts.member = c.count;
            facts.counts.member_today = c.today;
        }
        gathered.links.extend(row.link);
        gathered.offers.push(row.facts);
    }
    Ok(gathered)
}

/// Whether any gathered offer limits redemptions per member (a redemption then serializes
/// on the member, see `write::redeem`).
pub fn limits_members(gathered: &Gathered) -> bool {
    gathered.offers.iter().any(|o| o.limits.per_member_set())
}
