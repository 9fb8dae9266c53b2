//! Campaigns: the offer×channel row seen with its campaign fields.

use super::{channels::Channels, eligible_channels};
use crate::crud::{self, Assignments};
use crate::{query, Db, FromRow, Result, Row, Tx, Value};
use kindling_domain::{AccountId, ChannelId, EligibleChannelId, OfferId, StoreId, Timestamp};
use sea_query::{Alias, Expr, JoinType, OnConflict, Order, SelectStatement};
use serde_json::{json, Value as Json};

#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: EligibleChannelId,
    pub xid: String,
    pub offer_id: OfferId,
    pub channel_id: ChannelId,
    pub channel_name: String,
    pub offer_name: String,
    pub description: Option<String>,
    pub terms_and_conditions: Option<String>,
    pub offer_pos_offer_code: Option<String>,
    pub activates_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub max_redemptions_per_member: Option<i64>,
    pub offer_status: String,
    pub is_reward: bool,
    pub security: Option<String>,
    pub allow_return_later: bool,
    pub external_id: Option<String>,
    pub code_ref: Option<String>,
    pub code_count: Option<String>,
    pub pos_offer_code: Option<String>,
    pub funding_source: Option<String>,
    pub start_display_at: Option<Timestamp>,
    pub stop_display_at: Option<String>,
    pub eligible_store_numbers: Vec<String>,
    pub eligible_storelist_numbers: Vec<String>,
    pub description_template_id: Option<String>,
    pub landing_page_image_template_id: Option<String>,
    pub terms_and_conditions_template_id: Option<String>,
    pub online_offer_code: Option<String>,
    pub redemption_identifier_type: i64,
    /// Ids of the account's stores whose number is listed (filled by `attach_store_ids`).
    pub eligible_store_ids: Vec<StoreId>,
}

const COLUMNS: &str =
    "e.id, e.xid, e.offer_id, e.channel_id, c.name AS channel_name, o.name AS offer_name, o.description, \
    o.terms_and_conditions, o.pos_offer_code AS offer_pos_offer_code, o.activates_at, o.expires_at, \
    o.max_redemptions_per_member, o.status AS offer_status, o.is_reward, e.security, \
    e.allow_return_later, e.external_id, e.code_ref, e.code_count, e.pos_offer_code, e.funding_source, \
    e.start_display_at, e.stop_display_at, e.eligible_store_numbers, e.eligible_storelist_numbers, \
    e.description_template_id, e.landing_page_image_template_id, e.terms_and_conditions_template_id, o.formatting, \
    COALESCE((SELECT m.redemption_identifier_type FROM merchants m WHERE m.id = o.merchant_id), 0) \
    AS redemption_identifier_type";

/// The account's campaigns with their channel and offer, in id order.
fn select(account: AccountId) -> SelectStatement {
    eligible_channels::select_joined(COLUMNS, account)
        .join_as(JoinType::InnerJoin, "offers", Alias::new("o"), Expr::col(("o", "id")).equals(("e", "offer_id")))
        .order_by(("e", "id"), Order::Asc)
        .to_owned()
}

fn strings(raw: Option<String>) -> Vec<String> {
    raw.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default()
}

impl FromRow for Campaign {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: EligibleChannelId(row.int("id")?),
            xid: row.text("xid")?,
            offer_id: OfferId(row.int("offer_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            channel_name: row.text("channel_name")?,
            offer_name: row.text("offer_name")?,
            description: row.opt_text("description")?,
            terms_and_conditions: row.opt_text("terms_and_conditions")?,
            offer_pos_offer_code: row.opt_text("offer_pos_offer_code")?,
            activates_at: row.opt_time("activates_at")?,
            expires_at: row.opt_time("expires_at")?,
            max_redemptions_per_member: row.opt_int("max_redemptions_per_member")?,
            offer_status: row.text("offer_status")?,
            is_reward: row.boolean("is_reward")?,
            security: row.opt_text("security")?,
            allow_return_later: row.boolean("allow_return_later")?,
            external_id: row.opt_text("external_id")?,
            code_ref: row.opt_text("code_ref")?,
            code_count: row.opt_text("code_count")?,
            pos_offer_code: row.opt_text("pos_offer_code")?,
            funding_source: row.opt_text("funding_source")?,
            start_display_at: row.opt_time("start_display_at")?,
            stop_display_at: row.opt_text("stop_display_at")?,
            eligible_store_numbers: strings(row.opt_text("eligible_store_numbers")?),
            eligible_storelist_numbers: strings(row.opt_text("eligible_storelist_numbers")?),
            description_template_id: row.opt_text("description_template_id")?,
            landing_page_image_template_id: row.opt_text("landing_page_image_template_id")?,
            terms_and_conditions_template_id: row.opt_text("terms_and_conditions_template_id")?,
            online_offer_code: serde_json::from_str::<Json>(&row.text("formatting")?)
                .ok()
                .and_then(|f| f.get("online_offer_code").and_then(Json::as_str).map(str::to_owned)),
            redemption_identifier_type: row.int("redemption_identifier_type")?,
            eligible_store_ids: Vec::new(),
        })
    }
}

impl Campaign {
    pub fn view(&self) -> Json {
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
        json!({
            "id": self.id, "xid": self.xid, "name": self.offer_name, "code_ref": self.code_ref,
            "code_count": self.code_count, "external_id": self.external_id, "offer_id": self.offer_id,
            "channel_id": self.channel_id, "channel_name": self.channel_name,
            "pos_offer_code": self.pos_offer_code.clone().or_else(|| self.offer_pos_offer_code.clone()),
            "online_offer_code": self.online_offer_code, "activation_date": time(self.activates_at),
            "expiration_date": time(self.expires_at), "start_display_at": time(self.start_display_at),
            "stop_display_at": self.stop_display_at, "funding_source": self.funding_source,
            "eligible_channel_tags": null, "eligible_store_ids": self.eligible_store_ids,
            "eligible_store_numbers": self.eligible_store_numbers, "eligible_storelist_ids": [],
            "eligible_storelist_numbers": self.eligible_storelist_numbers,
            "landing_page_image_template_id": self.landing_page_image_template_id,
            "description_template_id": self.description_template_id, "description": self.description,
            "terms_and_conditions_template_id": self.terms_and_conditions_template_id,
            "terms_and_conditions": self.terms_and_conditions, "security": self.security,
            "landing_page_urls": {"url": null, "store": {}, "storelist": {}},
            "allow_return_later": self.allow_return_later, "redemption_identifier_type": self.redemption_identifier_type,
            "member_required": false,
            "max_redemptions_per_member": self.max_redemptions_per_member.map(|n| n.to_string()),
            "dynamic_expiration": null, "status": self.offer_status,
        })
    }
}

/// Fills `eligible_store_ids` for a page of campaigns with one query over every store
/// number they list.
async fn attach_store_ids(db: &Db, account: AccountId, campaigns: &mut [Campaign]) -> Result<()> {
    let mut numbers: Vec<String> = campaigns.iter().flat_map(|c| c.eligible_store_numbers.iter().cloned()).collect();
    if numbers.is_empty() {
        return Ok(());
    }
    numbers.sort_unstable();
    numbers.dedup();
    let sql = format!(
        "SELECT id, number FROM stores WHERE account_id = $1 AND {} ORDER BY id",
        db.dialect().in_list_sql("number", 2)
    );
    let stores: Vec<NumberedStore> = db.fetch_all(&sql, &[account.0.into(), numbers.as_slice().into()]).await?;
    for campaign in campaigns.iter_mut() {
        let listed = &campaign.eligible_store_numbers;
        campaign.eligible_store_ids = stores.iter().filter(|s| listed.contains(&s.number)).map(|s| s.id).collect();
    }
    Ok(())
}

struct NumberedStore {
    id: StoreId,
    number: String,
}

impl FromRow for NumberedStore {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: StoreId(row.int("id")?), number: row.text("number")? })
    }
}

/// Campaigns matching `condition` (on `e.`/`o.` columns, parameters from `$2`).
/// How campaigns are looked up.
#[derive(Debug, Clone)]
pub enum Lookup<'a> {
    Id(EligibleChannelId),
    ExternalId(&'a str),
    Channel(ChannelId),
}

pub async fn find(db: &Db, account: AccountId, lookup: Lookup<'_>) -> Result<Vec<Campaign>> {
    let (column, value): (&str, Value) = match lookup {
        Lookup::Id(id) => ("id", id.into()),
        Lookup::ExternalId(external) => ("external_id", external.into()),
        Lookup::Channel(channel) => ("channel_id", channel.into()),
    };
    let statement = select(account).and_where(Expr::col(("e", column)).eq(value)).to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    let mut campaigns = db.fetch_all(&sql, &params).await?;
    attach_store_ids(db, account, &mut campaigns).await?;
    Ok(campaigns)
}

/// One page of the account's campaigns in id order.
pub async fn page(db: &Db, account: AccountId, limit: i64, offset: i64) -> Result<Vec<Campaign>> {
    let statement = select(account).limit(limit.max(0) as u64).offset(offset.max(0) as u64).to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    let mut campaigns = db.fetch_all(&sql, &params).await?;
    attach_store_ids(db, account, &mut campaigns).await?;
    Ok(campaigns)
}

pub async fn count(db: &Db, account: AccountId) -> Result<i64> {
    Ok(db
        .fetch_optional::<i64>("SELECT COUNT(*) FROM eligible_channels WHERE account_id = $1", &[account.0.into()])
        .await?
        .unwrap_or(0))
}

/// What `create` came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// The campaign's id: a new offer×channel row, or the existing link adopted.
    Campaign(EligibleChannelId),
    OfferMissing,
    /// The offer×channel row already carries another `external_id`.
    ExternalIdTaken {
        campaign: EligibleChannelId,
        existing: String,
        given: String,
    },
}

fn external_id(values: &Assignments) -> Option<&str> {
    values.iter().find_map(|(column, value)| match (column, value) {
        (&"external_id", Value::Text(Some(id))) => Some(id.as_str()),
        _ => None,
    })
}

/// Creates the campaign of `offer` on the channel named `channel_name` (found, or created
/// in the account). A campaign is the offer×channel row, so when the channel is already
/// linked (`POST /offers/{id}/channels`) that row is adopted and `values` applied, just as
/// a new row gets them; only a different non-null `external_id` on it is a conflict.
///
/// One transaction that reads what it decides on: the offer row is locked first (on
/// PostgreSQL; SQLite's write lock covers it), so concurrent creates for one offer take
/// turns, and the insert yields to a link written meanwhile (`ON CONFLICT DO NOTHING`) and
/// adopts it instead of failing.
pub async fn create(
    db: &Db,
    account: AccountId,
    offer: OfferId,
    channel_name: &str,
    values: Assignments,
) -> Result<Created> {
    let channel_name = channel_name.to_owned();
    let created = db.transaction(move |tx| Box::pin(create_in(tx, account, offer, channel_name, values))).await;
    crate::Undo::settle(created)
}

/// `create`'s transaction; an `Undo` outcome is answered with nothing written.
async fn create_in(
    tx: &mut Tx,
    account: AccountId,
    offer: OfferId,
    channel_name: String,
    values: Assignments,
) -> std::result::Result<Created, crate::Undo<Created>> {
    let lock = crud::locked(&mut crud::row_in_account("offers", account, offer.into())).to_owned();
    let (sql, params) = query::build(&lock, tx.dialect())?;
    if tx.fetch_optional::<i64>(&sql, &params).await?.is_none() {
        return Ok(Created::OfferMissing);
    }
    let channel = find_or_create_channel(tx, account, &channel_name).await?;
    let (id, stored) = adopt_or_insert(tx, account, offer, channel).await?;
    if let (Some(existing), Some(given)) = (stored, external_id(&values)) {
        if existing != given {
            return Err(crate::Undo::Answer(Created::ExternalIdTaken {
                campaign: id,
                existing,
                given: given.to_owned(),
            }));
        }
    }
    let code = crate::pos_offer_codes::assigned(&values);
    eligible_channels::set(tx, account, id, values).await?;
    crate::pos_offer_codes::register(tx, account, code.as_deref(), offer).await?;
    Ok(Created::Campaign(id))
}

/// The account's channel named `name`, made when there is none. Two campaigns created at
/// once for a new name make one channel: on PostgreSQL the miss is checked again under a
/// lock of the account's row (`FOR NO KEY UPDATE`, which foreign-key checks of other inserts
/// do not wait for), so the second waits for the first and then finds its channel. SQLite's
/// single writer runs them one after the other anyway.
async fn find_or_create_channel(tx: &mut Tx, account: AccountId, name: &str) -> Result<ChannelId> {
    const NAMED: &str = "SELECT id FROM channels WHERE account_id = $1 AND name = $2 ORDER BY id LIMIT 1";
    let params = [account.0.into(), name.into()];
    if let Some(id) = tx.fetch_optional::<i64>(NAMED, &params).await? {
        return Ok(ChannelId(id));
    }
    if tx.dialect() == crate::Dialect::Postgres {
        tx.fetch_optional::<i64>("SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE", &[account.0.into()])
            .await?;
        if let Some(id) = tx.fetch_optional::<i64>(NAMED, &params).await? {
            return Ok(ChannelId(id));
        }
    }
    let values = vec![("name", name.into()), ("allow_sms_keyword", false.into()), ("allow_hmac", false.into())];
    crud::insert::<Channels>(tx, account, values).await
}

/// The existing offer×channel row (id, `external_id`), or a new one. When a concurrent link
/// commits between our read and our insert, the insert yields and the next read adopts
/// that row; should it be unlinked again at once, a few turns later this gives up as busy
/// (a 503 to retry) rather than fail.
async fn adopt_or_insert(
    tx: &mut Tx,
    account: AccountId,
    offer: OfferId,
    channel: ChannelId,
) -> Result<(EligibleChannelId, Option<String>)> {
    for _ in 0..3 {
        if let Some(row) = linked(tx, account, offer, channel).await? {
            return Ok(row);
        }
        if let Some(id) = insert(tx, account, offer, channel).await? {
            return Ok((id, None));
        }
    }
    Err(crate::StoreError::Busy("the offer×channel row kept changing under a campaign create".into()))
}

struct Linked {
    id: EligibleChannelId,
    external_id: Option<String>,
}

impl FromRow for Linked {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: EligibleChannelId(row.int("id")?), external_id: row.opt_text("external_id")? })
    }
}

/// The offer×channel row's id and `external_id`, locked on PostgreSQL.
async fn linked(
    tx: &mut Tx,
    account: AccountId,
    offer: OfferId,
    channel: ChannelId,
) -> Result<Option<(EligibleChannelId, Option<String>)>> {
    let row: Option<Linked> = eligible_channels::lock_row(tx, "id, external_id", account, offer, channel).await?;
    Ok(row.map(|r| (r.id, r.external_id)))
}

/// A new offer×channel row, or `None` when one exists already.
async fn insert(
    tx: &mut Tx,
    account: AccountId,
    offer: OfferId,
    channel: ChannelId,
) -> Result<Option<EligibleChannelId>> {
    let values = [("account_id", account.into()), ("offer_id", offer.into()), ("channel_id", channel.into())];
    let statement = query::insert("eligible_channels", values.into_iter().chain(eligible_channels::new_row_columns()))
        .on_conflict(OnConflict::columns(["offer_id", "channel_id"]).do_nothing().to_owned())
        .returning_col("id")
        .to_owned();
    let (sql, params) = query::build(&statement, tx.dialect())?;
    Ok(tx.fetch_optional::<i64>(&sql, &params).await?.map(EligibleChannelId))
}

/// `PUT /campaigns/{id}`: the campaign fields given; the offer (the campaign's own, which
/// never changes) and channel stay. A `pos_offer_code` is registered in the same transaction.
pub async fn update(
    db: &Db,
    account: AccountId,
    id: EligibleChannelId,
    offer: OfferId,
    values: Assignments,
) -> Result<bool> {
    db.transaction(move |tx| {
        Box::pin(async move {
            let code = crate::pos_offer_codes::assigned(&values);
            let found = eligible_channels::set(tx, account, id, values).await?;
            if found {
                crate::pos_offer_codes::register(tx, account, code.as_deref(), offer).await?;
            }
            Ok(found)
        })
    })
    .await
}

/// Deletes the offer×channel row (the channel is unlinked; its xid stops working).
pub async fn delete(db: &Db, account: AccountId, id: EligibleChannelId) -> Result<bool> {
    Ok(db
        .execute("DELETE FROM eligible_channels WHERE id = $1 AND account_id = $2", &[id.into(), account.0.into()])
        .await?
        > 0)
}
