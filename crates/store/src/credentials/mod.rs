//! Credentials: issuing codes, redeeming and voiding them exactly once, and the records
//! (redemptions, offer activities, callbacks) every change writes in the same transaction.

pub(crate) mod codes;
pub mod facts;
pub mod outbox;
pub mod redeem_many;
pub(crate) mod together;
pub mod write;

use crate::crud::Table;
use crate::{query, Db, Exec, FromRow, Reader, Result, Row};
use kindling_domain::credentials::CredentialStatus;
use kindling_domain::{AccountId, ChannelId, CredentialId, MemberId, MerchantId, OfferId, StoreId, Timestamp};
use sea_query::{Alias, Expr, JoinType, Order, Query};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub id: CredentialId,
    pub account_id: AccountId,
    pub member_id: MemberId,
    pub channel_id: ChannelId,
    pub store_id: Option<StoreId>,
    pub identifier: Option<String>,
    pub status: CredentialStatus,
    pub reusable: bool,
    pub annotations: Map<String, Json>,
    pub code_lifetime: Option<i64>,
    pub code_expires_at: Option<Timestamp>,
    /// Not redeemable before this (an offer state's custom activation); not shown.
    pub activates_at: Option<Timestamp>,
    pub locked_until: Option<Timestamp>,
    pub redeemed_at: Option<Timestamp>,
    pub voided_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Filled by `attach`.
    pub offer_ids: Vec<OfferId>,
    pub offer_name: Option<String>,
    pub merchant_id: Option<MerchantId>,
    pub merchant_name: Option<String>,
    pub supports_barcode: bool,
    pub location_address: Option<String>,
}

pub const COLUMNS: &str =
    "id, account_id, member_id, channel_id, store_id, identifier, status, reusable, annotations, \
    code_lifetime, code_expires_at, activates_at, locked_until, redeemed_at, voided_at, created_at, updated_at";

impl FromRow for Credential {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: CredentialId(row.int("id")?),
            account_id: AccountId(row.int("account_id")?),
            member_id: MemberId(row.int("member_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            store_id: row.opt_int("store_id")?.map(StoreId),
            identifier: row.opt_text("identifier")?,
            status: crate::db::decode("credential status", row.text("status")?, CredentialStatus::parse)?,
            reusable: row.boolean("reusable")?,
            annotations: serde_json::from_str(&row.text("annotations")?).unwrap_or_default(),
            code_lifetime: row.opt_int("code_lifetime")?,
            code_expires_at: row.opt_time("code_expires_at")?,
            activates_at: row.opt_time("activates_at")?,
            locked_until: row.opt_time("locked_until")?,
            redeemed_at: row.opt_time("redeemed_at")?,
            voided_at: row.opt_time("voided_at")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            offer_ids: Vec::new(),
            offer_name: None,
            merchant_id: None,
            merchant_name: None,
            supports_barcode: false,
            location_address: None,
        })
    }
}

/// The `credential` object: the spec's fields (annotations as a JSON string) plus the
/// guide's `status`, `offer_id`, `redeemed_at` and `voided_at`.
impl Serialize for Credential {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("account_id", &self.account_id)?;
        map.serialize_entry("created_at", &self.created_at)?;
        map.serialize_entry("updated_at", &self.updated_at)?;
        map.serialize_entry("identifier", &self.identifier)?;
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("member_id", &self.member_id)?;
        map.serialize_entry("offer_id", &self.offer_ids.first())?;
        map.serialize_entry("offer_ids", &self.offer_ids)?;
        map.serialize_entry("store_id", &self.store_id)?;
        map.serialize_entry("channel_id", &self.channel_id)?;
        map.serialize_entry("merchant_id", &self.merchant_id)?;
        map.serialize_entry("redeemed_at", &time(self.redeemed_at))?;
        map.serialize_entry("voided_at", &time(self.voided_at))?;
        map.serialize_entry("annotations", &Json::Object(self.annotations.clone()).to_string())?;
        map.serialize_entry("code_lifetime", &self.code_lifetime)?;
        map.serialize_entry("supports_barcode", &self.supports_barcode)?;
        map.serialize_entry("offer_name", &self.offer_name)?;
        map.serialize_entry("merchant_name", &self.merchant_name)?;
        map.serialize_entry("location_address", &self.location_address)?;
        map.serialize_entry("url", &None::<String>)?;
        map.end()
    }
}

pub struct Credentials;

/// Credentials that carry `offer` among their offers.
pub fn for_offer(offer: OfferId) -> crate::crud::Filter {
    let carrying = Query::select()
        .column("credential_id")
        .from("credential_offers")
        .and_where(Expr::col("offer_id").eq(crate::Value::from(offer)))
        .to_owned();
    crate::crud::Filter::Where(Expr::col("id").in_subquery(carrying))
}

impl Table for Credentials {
    const TABLE: &'static str = "credentials";
    const COLUMNS: &'static str = COLUMNS;
    type Record = Credential;
    type Id = kindling_domain::CredentialId;

    fn id(credential: &Credential) -> Self::Id {
        credential.id
    }

    async fn attach(db: &Db, account: AccountId, credentials: &mut [Credential]) -> Result<()> {
        attach_in(&mut Reader(db), account, credentials).await
    }
}

struct OfferSummary {
    credential_id: CredentialId,
    offer_id: OfferId,
    offer_name: String,
    merchant_id: Option<MerchantId>,
    merchant_name: Option<String>,
    supports_barcode: Option<bool>,
}

impl FromRow for OfferSummary {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            credential_id: CredentialId(row.int("credential_id")?),
            offer_id: OfferId(row.int("offer_id")?),
            offer_name: row.text("offer_name")?,
            merchant_id: row.opt_int("merchant_id")?.map(MerchantId),
            merchant_name: row.opt_text("merchant_name")?,
            supports_barcode: row.opt_boolean("supports_barcode")?,
        })
    }
}

/// Fills offer ids and the first offer's name and merchant, and the store's address.
pub async fn attach_in(exec: &mut impl Exec, account: AccountId, credentials: &mut [Credential]) -> Result<()> {
    if credentials.is_empty() {
        return Ok(());
    }
    let ids: Vec<CredentialId> = credentials.iter().map(|c| c.id).collect();
    let statement = Query::select()
        .expr(Expr::cust(
            "co.credential_id, o.id AS offer_id, o.name AS offer_name, o.merchant_id, m.name AS merchant_name, \
             m.supports_barcode",
        ))
        .from_as("credential_offers", Alias::new("co"))
        .join_as(JoinType::InnerJoin, "offers", Alias::new("o"), Expr::col(("o", "id")).equals(("co", "offer_id")))
        .join_as(JoinType::LeftJoin, "merchants", Alias::new("m"), Expr::col(("m", "id")).equals(("o", "merchant_id")))
        .and_where(query::in_account(Some("co"), account))
        .and_where(exec.dialect().in_list(("co", "credential_id"), ids.as_slice()))
        .order_by(("co", "credential_id"), Order::Asc)
        .order_by(("o", "id"), Order::Asc)
        .to_owned();
    let (sql, params) = query::build(&statement, exec.dialect())?;
    let offers: Vec<OfferSummary> = exec.fetch_all(&sql, &params).await?;
    let addresses = addresses(exec, account, credentials).await?;
    for credential in credentials.iter_mut() {
        let mine: Vec<&OfferSummary> = offers.iter().filter(|o| o.credential_id == credential.id).collect();
        credential.offer_ids = mine.iter().map(|o| o.offer_id).collect();
        if let Some(first) = mine.first() {
            credential.offer_name = Some(first.offer_name.clone());
            credential.merchant_id = first.merchant_id;
            credential.merchant_name = first.merchant_name.clone();
            credential.supports_barcode = first.supports_barcode.unwrap_or(false);
        }
        credential.location_address = credential.store_id.and_then(|store| addresses.get(&store).cloned().flatten());
    }
    Ok(())
}

/// The display address of every store the credentials name, in one query.
async fn addresses(
    exec: &mut impl Exec,
    account: AccountId,
    credentials: &[Credential],
) -> Result<HashMap<StoreId, Option<String>>> {
    let mut stores: Vec<StoreId> = credentials.iter().filter_map(|c| c.store_id).collect();
    if stores.is_empty() {
        return Ok(HashMap::new());
    }
    stores.sort_unstable_by_key(|s| s.0);
    stores.dedup();
    let sql = format!(
        "SELECT id, address, city FROM stores WHERE account_id = $1 AND {}",
        exec.dialect().in_list_sql("id", 2)
    );
    let rows: Vec<Address> = exec.fetch_all(&sql, &[account.0.into(), stores.as_slice().into()]).await?;
    Ok(rows
        .into_iter()
        .map(|Address { id, address, city }| {
            let shown = match (address, city) {
                (Some(a), Some(c)) => Some(format!("{a}, {c}")),
                (a, c) => a.or(c),
            };
            (id, shown)
        })
        .collect())
}

/// A store's street address and city.
struct Address {
    id: StoreId,
    address: Option<String>,
    city: Option<String>,
}

impl FromRow for Address {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { id: StoreId(row.int("id")?), address: row.opt_text("address")?, city: row.opt_text("city")? })
    }
}

/// One credential with its offers, on any executor.
pub async fn load_in(exec: &mut impl Exec, account: AccountId, id: CredentialId) -> Result<Option<Credential>> {
    let sql = format!("SELECT {COLUMNS} FROM credentials WHERE id = $1 AND account_id = $2");
    let Some(credential) = exec.fetch_optional::<Credential>(&sql, &[id.into(), account.0.into()]).await? else {
        return Ok(None);
    };
    let mut list = [credential];
    attach_in(exec, account, &mut list).await?;
    let [credential] = list;
    Ok(Some(credential))
}

#[cfg(test)]
mod tests {
    use super::codes::{code_id, code_ids};
    use crate::{Db, FromRow, Result, Row};

    struct Step(String);

    impl FromRow for Step {
        fn from_row(row: &impl Row) -> Result<Self> {
            row.text("detail").map(Self)
        }
    }

    /// A code is found through the three partial indexes (migrations 20 and 25), never by
    /// reading every credential: the planner matches each part of `code_ids` and of
    /// `code_id` to its index.
    #[tokio::test]
    async fn codes_are_found_through_the_partial_indexes() {
        let db = Db::Sqlite(crate::sqlite::SqliteDb::open(":memory:").unwrap());
        crate::migrate::run(&db).await.unwrap();
        for condition in [format!("c.id IN {}", code_ids(3)), format!("c.id = {}", code_id(3))] {
            let sql = format!("EXPLAIN QUERY PLAN SELECT c.id FROM credentials c WHERE {condition}");
            let steps = db.fetch_all::<Step>(&sql, &[1.into(), "CODE".into(), 7.into()]).await.unwrap();
            let plan = steps.into_iter().map(|s| s.0).collect::<Vec<_>>().join("\n");
            for index in ["credentials_live_code", "credentials_live_identifier", "credentials_closed_identifier"] {
                assert!(plan.contains(index), "{index}: {plan}");
            }
            assert!(!plan.lines().any(|l| l.starts_with("SCAN") && !l.contains("INDEX")), "{plan}");
        }
    }
}
