//! The offers table and the link sets an offer owns.

use super::{
    channels::Channels, eligible_channels, eligible_item_sets::EligibleItemSets, member_lists::MemberLists, passbook,
};
use crate::catalog::{merchants::Merchants, store_lists::StoreLists};
use crate::crud::{Assignments, Table};
use crate::link_set::LinkSet;
use crate::{Db, FromRow, Result, Row, Value};
use kindling_domain::fields::{FieldValue, Kind};
use kindling_domain::offers::offer::{Offer, OfferLinks, Window, FIELDS};
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::{AccountId, MerchantId, OfferId, Timestamp};
use sea_query::{Expr, Query};
use serde_json::{Map, Value as Json};

pub struct Offers;

/// Offers owned by a merchant or made eligible at it.
pub fn at_merchant(merchant: MerchantId) -> crate::crud::Filter {
    let eligible = Query::select()
        .column("offer_id")
        .from("offer_merchants")
        .and_where(Expr::col("merchant_id").eq(Value::from(merchant)))
        .to_owned();
    let owned = Expr::col("merchant_id").eq(Value::from(merchant));
    crate::crud::Filter::Where(owned.or(Expr::col("id").in_subquery(eligible)))
}

pub const MERCHANTS: LinkSet<Offers, Merchants> = LinkSet::new("offer_merchants", "offer_id", "merchant_id");
pub const STORE_LISTS: LinkSet<Offers, StoreLists> = LinkSet::new("offer_store_lists", "offer_id", "store_list_id");
pub const MEMBER_LISTS: LinkSet<Offers, MemberLists> = LinkSet::new("offer_member_lists", "offer_id", "member_list_id");
/// Linking a channel creates the offer×channel row with a fresh `xid`.
pub const CHANNELS: LinkSet<Offers, Channels> =
    LinkSet::new("eligible_channels", "offer_id", "channel_id").with_extra(eligible_channels::new_row_columns);

/// The columns every offer has, then `FIELDS` (`from_row` reads each field by its name).
pub const COLUMNS: &str = "id, account_id, status, merchant_id, manufacturer_id, criteria, formatting, created_at, updated_at, \
    name, description, description_template_id, offer_type, category, offer_code, pos_offer_code, points_earning_value, \
    points_required_value, reward_item_description, reward_item_value, terms_and_conditions, \
    terms_and_conditions_template_id, quest_only, merchant_name, external_reward, is_reward, locked, activates_at, \
    expires_at, stop_offering_at, max_amount, min_spend_amount, trigger_amount, max_redemptions, \
    max_redemptions_per_member, max_redemptions_per_member_per_day, initial_value_mode, availability, offer_value_text, \
    offer_value_text_es, redeem_until_depleted, initial_remaining_value, required_item_set_id, redemption_item_set_id, \
    required_item_count, redemption_item_count";

fn json_object(raw: &str) -> Map<String, Json> {
    serde_json::from_str(raw).unwrap_or_default()
}

impl FromRow for Offer {
    fn from_row(row: &impl Row) -> Result<Self> {
        let id = OfferId(row.int("id")?);
        let account_id = row.int("account_id")?;
        let status = crate::db::decode("offer status", row.text("status")?, OfferStatus::parse)?;
        let (merchant_id, manufacturer_id) = (row.opt_int("merchant_id")?, row.opt_int("manufacturer_id")?);
        let (criteria, formatting) = (json_object(&row.text("criteria")?), json_object(&row.text("formatting")?));
        let (created_at, updated_at) = (row.time("created_at")?, row.time("updated_at")?);
        let mut columns = Map::new();
        let mut window = Window::default();
        for field in FIELDS {
            let value = match field.kind {
                Kind::Text(_) => row.opt_text(field.name)?.map_or(Json::Null, Json::String),
                Kind::Int(..) => row.opt_int(field.name)?.map_or(Json::Null, Json::from),
                Kind::Bool => row.opt_boolean(field.name)?.map_or(Json::Null, Json::Bool),
                Kind::Time => {
                    let t = row.opt_time(field.name)?;
                    match field.name {
                        "activates_at" => window.activates_at = t,
                        "expires_at" => window.expires_at = t,
                        _ => window.stop_offering_at = t,
                    }
                    continue;
                }
            };
            columns.insert(field.name.to_owned(), value);
        }
        Ok(Offer {
            id,
            account_id,
            status,
            merchant_id,
            manufacturer_id,
            window,
            columns,
            criteria,
            formatting,
            created_at,
            updated_at,
            links: OfferLinks::default(),
        })
    }
}

impl Table for Offers {
    const TABLE: &'static str = "offers";
    const COLUMNS: &'static str = COLUMNS;
    type Record = Offer;
    type Id = kindling_domain::OfferId;

    fn id(offer: &Offer) -> Self::Id {
        offer.id
    }

    async fn attach(db: &Db, account: AccountId, offers: &mut [Offer]) -> Result<()> {
        let ids: Vec<_> = offers.iter().map(|o| o.id).collect();
        let mut merchants = MERCHANTS.ids_for(db, account, &ids).await?;
        let mut store_lists = STORE_LISTS.ids_for(db, account, &ids).await?;
        let mut member_lists = MEMBER_LISTS.ids_for(db, account, &ids).await?;
        let offer_ids: Vec<OfferId> = offers.iter().map(|o| o.id).collect();
        let channels = eligible_channels::for_offers(db, account, &offer_ids).await?;
        let passbooks = passbook::for_offers(db, account, &offer_ids).await?;
        let item_sets = item_sets_for(db, account, &offer_ids).await?;
        for offer in offers {
            offer.links = OfferLinks {
                merchant_ids: merchants.remove(&offer.id).unwrap_or_default(),
                store_list_ids: store_lists.remove(&offer.id).unwrap_or_default(),
                member_list_ids: member_lists.remove(&offer.id).unwrap_or_default(),
                channels: channels.iter().filter(|c| c.offer_id == offer.id).map(|c| c.embedded()).collect(),
                item_sets: item_sets.iter().filter(|s| s.offer_id == offer.id).map(|s| serde_json::json!(s)).collect(),
                passbook_configuration: passbooks.iter().find(|p| p.offer_id == offer.id).map(|p| p.view()),
            };
        }
        Ok(())
    }
}

async fn item_sets_for(
    db: &Db,
    account: AccountId,
    offers: &[OfferId],
) -> Result<Vec<super::eligible_item_sets::EligibleItemSet>> {
    if offers.is_empty() {
        return Ok(Vec::new());
    }
    let columns = <EligibleItemSets as Table>::COLUMNS;
    let statement =
        crate::query::select_listed(columns, "eligible_item_sets", account, db.dialect(), "offer_id", offers);
    let (sql, params) = crate::query::build(&statement, db.dialect())?;
    db.fetch_all(&sql, &params).await
}

/// Columns for validated plain fields.
pub fn field_values(fields: Vec<(&'static str, FieldValue)>) -> Assignments {
    fields
        .into_iter()
        .map(|(name, value)| {
            let value: Value = match value {
                FieldValue::Text(v) => v.into(),
                FieldValue::Int(v) => v.into(),
                FieldValue::Bool(v) => v.into(),
                FieldValue::Time(v) => v.map(Timestamp::unix).into(),
            };
            (name, value)
        })
        .collect()
}

/// Whether the offer has no `max_redemptions` (so its counter is not kept; see
/// `recount_redemptions`).
pub async fn unlimited(tx: &mut crate::Tx, account: AccountId, offer: OfferId) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM offers WHERE id = $1 AND account_id = $2 AND max_redemptions IS NULL";
    Ok(tx.fetch_optional::<i64>(sql, &[offer.into(), account.into()]).await? == Some(1))
}

/// Recounts the offer's live redemptions into its counter, when a `max_redemptions` is set
/// on an offer that had none: a redemption counts itself only against a limit that is set
/// (see `credentials::write`), so the count is stale while there is none. On PostgreSQL the
/// offer row is taken `FOR UPDATE` first, which waits for in-flight redemptions (they hold
/// it `FOR KEY SHARE` from the moment they read the offer), so none is missed; and those,
/// having read no limit, never wait on this transaction, so the wait cannot deadlock.
pub async fn recount_redemptions(tx: &mut crate::Tx, account: AccountId, offer: OfferId) -> Result<()> {
    lock_for_recount(tx, account, offer).await?;
    tx.execute(
        "UPDATE offers SET redemption_count = (SELECT COUNT(*) FROM redemptions r \
         WHERE r.offer_id = offers.id AND r.voided_at IS NULL) WHERE id = $1 AND account_id = $2",
        &[offer.into(), account.into()],
    )
    .await
    .map(drop)
}

/// On PostgreSQL, the offer row `FOR UPDATE`: waits out the redemptions that read the
/// offer without a limit (see `recount_redemptions`). Nothing on SQLite's single writer.
pub(crate) async fn lock_for_recount(tx: &mut crate::Tx, account: AccountId, offer: OfferId) -> Result<()> {
    if tx.dialect() == crate::Dialect::Postgres {
        let sql = "SELECT id FROM offers WHERE id = $1 AND account_id = $2 FOR UPDATE";
        tx.fetch_optional::<i64>(sql, &[offer.into(), account.into()]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_list_follows_the_field_table() {
        let columns: Vec<&str> = COLUMNS.split(',').map(str::trim).skip(9).collect();
        let fields: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(columns, fields);
    }
}
