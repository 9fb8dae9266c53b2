//! The member activity feeds: offer activities (written by every credential issue, redeem
//! and void, `credentials::write`) and the member's redeemed credentials.

use crate::crud::{Filter, Table};
use crate::{FromRow, Result, Row, Value};
use kindling_domain::{AccountId, CredentialId, MemberId, OfferActivityId, OfferId, StoreId, Timestamp};
use sea_query::{Expr, Query};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// One row of an offer's history for a member (`activity_type`: 1 issue, 2 redeem, 3 void).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferActivity {
    pub id: OfferActivityId,
    pub account_id: AccountId,
    pub offer_id: OfferId,
    pub credential_id: Option<CredentialId>,
    pub member_id: Option<MemberId>,
    pub activity_type: i64,
    pub description: Option<String>,
    pub reported_at: Timestamp,
    pub processed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl FromRow for OfferActivity {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: OfferActivityId(row.int("id")?),
            account_id: AccountId(row.int("account_id")?),
            offer_id: OfferId(row.int("offer_id")?),
            credential_id: row.opt_int("credential_id")?.map(CredentialId),
            member_id: row.opt_int("member_id")?.map(MemberId),
            activity_type: row.int("activity_type")?,
            description: row.opt_text("description")?,
            reported_at: row.time("reported_at")?,
            processed_at: row.opt_time("processed_at")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

/// The spec's `offer_activity`. Credential activities carry no POS transaction, value or
/// invoice, so those are null.
impl Serialize for OfferActivity {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(13))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("transaction_id", &None::<i64>)?;
        map.serialize_entry("credential_id", &self.credential_id)?;
        map.serialize_entry("value", &None::<i64>)?;
        map.serialize_entry("invoice_id", &None::<i64>)?;
        map.serialize_entry("reported_at", &self.reported_at)?;
        map.serialize_entry("created_at", &self.created_at)?;
        map.serialize_entry("updated_at", &self.updated_at)?;
        map.serialize_entry("member_id", &self.member_id)?;
        map.serialize_entry("offer_id", &self.offer_id)?;
        map.serialize_entry("activity_type", &self.activity_type)?;
        map.serialize_entry("description", &self.description)?;
        map.serialize_entry("processed_at", &self.processed_at)?;
        map.end()
    }
}

pub struct OfferActivities;

impl Table for OfferActivities {
    const TABLE: &'static str = "offer_activities";
    const COLUMNS: &'static str = "id, account_id, offer_id, credential_id, member_id, activity_type, description, \
        reported_at, processed_at, created_at, updated_at";
    type Record = OfferActivity;
    type Id = OfferActivityId;

    fn id(activity: &OfferActivity) -> Self::Id {
        activity.id
    }
}

/// A member's activities (for `crud::list::<OfferActivities>`).
pub fn of_member(member: MemberId) -> Filter {
    Filter::Eq("member_id", member.into())
}

/// Credentials (for `crud::list::<credentials::Credentials>`) that `member` redeemed and
/// that were not voided since, optionally at `store` (the redemption's store). A reusable
/// credential stays open after a redemption and is listed too.
pub fn redeemed_by(member: MemberId, store: Option<StoreId>) -> Filter {
    let mut redeemed = Query::select()
        .column("credential_id")
        .from("redemptions")
        .and_where(Expr::col("member_id").eq(Value::from(member)))
        .and_where(Expr::col("voided_at").is_null())
        .to_owned();
    if let Some(store) = store {
        redeemed.and_where(Expr::col("store_id").eq(Value::from(store)));
    }
    Filter::Where(Expr::col("id").in_subquery(redeemed))
}
