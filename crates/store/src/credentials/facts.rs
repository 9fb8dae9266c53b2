//! Gathers what the domain's credential rules need, inside the caller's transaction (for a
//! redemption: after the offer rows are locked, so counts cannot change underneath).

use crate::link_set::untyped;
use crate::offers::offer::{MEMBER_LISTS, MERCHANTS, STORE_LISTS};
use crate::{query, FromRow, Result, Row, Tx, Value};
use kindling_domain::catalog::merchant::RedemptionIdentifierType;
use kindling_domain::credentials::rules::{Counts, Limits, OfferFacts};
use kindling_domain::offers::eligibility::StoreRule;
use kindling_domain::offers::offer::Window;
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::{AccountId, ChannelId, MemberId, OfferId, StoreId};
use sea_query::{Alias, Expr, JoinType, Order, Query};
use std::collections::HashMap;

/// Plain `i64`s: these feed the domain's rules (`Facts`), which take untyped ids.
pub struct Gathered {
    pub offers: Vec<OfferFacts>,
    pub member_lists: Vec<i64>,
    pub store: Option<(i64, Vec<i64>)>,
    /// The code format of the first offer's merchant.
    pub identifier_kind: RedemptionIdentifierType,
}

struct OfferRow {
    id: i64,
    name: String,
    status: OfferStatus,
    window: Window,
    merchant_id: Option<i64>,
    limits: Limits,
    redemption_count: i64,
    identifier_type: Option<i64>,
}

impl FromRow for OfferRow {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            name: row.text("name")?,
            status: crate::db::decode("offer status", row.text("status")?, OfferStatus::parse)?,
            window: Window {
                activates_at: row.opt_time("activates_at")?,
                expires_at: row.opt_time("expires_at")?,
                stop_offering_at: row.opt_time("stop_offering_at")?,
            },
            merchant_id: row.opt_int("merchant_id")?,
            limits: Limits {
                total: row.opt_int("max_redemptions")?,
                per_member: row.opt_int("max_redemptions_per_member")?,
                per_member_per_day: row.opt_int("max_redemptions_per_member_per_day")?,
                per_channel: None,
            },
            redemption_count: row.int("redemption_count")?,
            identifier_type: row.opt_int("redemption_identifier_type")?,
        })
    }
}

/// An offer's limit and count on one channel.
struct ChannelCount {
    offer_id: i64,
    max_redemptions: Option<i64>,
    redemption_count: i64,
}

impl FromRow for ChannelCount {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            offer_id: row.int("offer_id")?,
            max_redemptions: row.opt_int("max_redemptions")?,
            redemption_count: row.int("redemption_count")?,
        })
    }
}

/// A member's redemption count of one offer.
struct MemberCount {
    offer_id: i64,
    count: i64,
}

impl FromRow for MemberCount {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self { offer_id: row.int("offer_id")?, count: row.int("count")? })
    }
}

/// Facts for `offer_ids` (those found in the account), the member and the optional store.
/// `channel` `None` (eligibility checks) counts an offer on a channel if it has any.
pub async fn gather(
    tx: &mut Tx,
    account: AccountId,
    offer_ids: &[OfferId],
    channel: Option<ChannelId>,
    member: MemberId,
    store: Option<StoreId>,
    today: &str,
) -> Result<Gathered> {
    let a = account.0;
    let mut offers = Vec::new();
    let mut identifier_kind = RedemptionIdentifierType::default();
    if !offer_ids.is_empty() {
        let dialect = tx.dialect();
        let offers_list: Value = offer_ids.into();
        let statement = Query::select()
            .expr(Expr::cust(
                "o.id, o.name, o.status, o.activates_at, o.expires_at, o.stop_offering_at, o.merchant_id, \
                 o.max_redemptions, o.max_redemptions_per_member, o.max_redemptions_per_member_per_day, \
                 o.redemption_count, m.redemption_identifier_type",
            ))
            .from_as("offers", Alias::new("o"))
            .join_as(
                JoinType::LeftJoin,
                "merchants",
                Alias::new("m"),
                Expr::col(("m", "id")).equals(("o", "merchant_id")),
            )
            .and_where(query::in_account(Some("o"), account))
            .and_where(dialect.in_list(("o", "id"), offers_list.clone()))
            .order_by(("o", "id"), Order::Asc)
            .to_owned();
        let (sql, params) = query::build(&statement, dialect)?;
        let rows: Vec<OfferRow> = tx.fetch_all(&sql, &params).await?;
        let ids: Vec<OfferId> = rows.iter().map(|r| OfferId(r.id)).collect();
        // (offer, channel limit, channel count) for the requested channel, or any channel.
        let columns = match channel {
            Some(_) => "offer_id, max_redemptions, redemption_count",
            None => "offer_id, CAST(NULL AS BIGINT) AS max_redemptions, CAST(0 AS BIGINT) AS redemption_count",
        };
        let statement = Query::select()
            .expr(Expr::cust(columns))
            .from("eligible_channels")
            .and_where(query::in_account(None, account))
            .and_where_option(channel.map(|ch| Expr::col("channel_id").eq(Value::from(ch))))
            .and_where(dialect.in_list("offer_id", offers_list))
            .to_owned();
        let (sql, params) = query::build(&statement, dialect)?;
        let channel_rows: Vec<ChannelCount> = tx.fetch_all(&sql, &params).await?;
        let mut member_lists = MEMBER_LISTS.ids_in(tx, account, &ids).await?;
        let mut merchants = MERCHANTS.ids_in(tx, account, &ids).await?;
        let mut store_lists = STORE_LISTS.ids_in(tx, account, &ids).await?;
        // Per-member counts matter only for offers with a per-member limit; skipping them
        // otherwise keeps a busy offer's redemptions from being rescanned on every request.
        let limited: Vec<i64> = rows
            .iter()
            .filter(|r| r.limits.per_member.is_some() || r.limits.per_member_per_day.is_some())
            .map(|r| r.id)
            .collect();
        let (member_counts, today_counts) = if limited.is_empty() {
            (HashMap::new(), HashMap::new())
        } else {
            let limited: Value = limited.as_slice().into();
            let counts = |on: Option<&str>| {
                Query::select()
                    .expr(Expr::cust("offer_id, COUNT(*) AS count"))
                    .from("redemptions")
                    .and_where(query::in_account(None, account))
                    .and_where(Expr::col("member_id").eq(Value::from(member)))
                    .and_where(Expr::col("voided_at").is_null())
                    .and_where_option(on.map(|day| Expr::col("business_date").eq(day)))
                    .and_where(dialect.in_list("offer_id", limited.clone()))
                    .group_by_col("offer_id")
                    .to_owned()
            };
            let mut found = [HashMap::new(), HashMap::new()];
            for (day, map) in [None, Some(today)].into_iter().zip(&mut found) {
                let (sql, params) = query::build(&counts(day), dialect)?;
                *map = tx
                    .fetch_all::<MemberCount>(&sql, &params)
                    .await?
                    .into_iter()
                    .map(|c| (c.offer_id, c.count))
                    .collect();
            }
            let [member_counts, today_counts] = found;
            (member_counts, today_counts)
        };
        if let Some(code) = rows.first().and_then(|r| r.identifier_type) {
            identifier_kind = RedemptionIdentifierType::from_code(code).unwrap_or_default();
        }
        for row in rows {
            let channel_row = channel_rows.iter().find(|c| c.offer_id == row.id);
            let id = OfferId(row.id);
            let mut merchant_ids = untyped(merchants.remove(&id));
            merchant_ids.extend(row.merchant_id);
            offers.push(OfferFacts {
                id: row.id,
                name: row.name,
                status: row.status,
                window: row.window,
                on_channel: channel_row.is_some(),
                member_list_ids: untyped(member_lists.remove(&id)),
                store_rule: StoreRule { merchant_ids, store_list_ids: untyped(store_lists.remove(&id)) },
                limits: Limits { per_channel: channel_row.and_then(|c| c.max_redemptions), ..row.limits },
                counts: Counts {
                    total: row.redemption_count,
                    member: member_counts.get(&row.id).copied().unwrap_or(0),
                    member_today: today_counts.get(&row.id).copied().unwrap_or(0),
                    channel: channel_row.map_or(0, |c| c.redemption_count),
                },
            });
        }
    }
    let member_lists: Vec<i64> = tx
        .fetch_all(
            "SELECT member_list_id FROM member_list_members WHERE account_id = $1 AND member_id = $2",
            &[a.into(), member.into()],
        )
        .await?;
    let store = match store {
        Some(id) => {
            let merchant: Option<i64> = tx
                .fetch_optional(
                    "SELECT merchant_id FROM stores WHERE id = $1 AND account_id = $2",
                    &[id.into(), a.into()],
                )
                .await?;
            let lists: Vec<i64> =
                tx.fetch_all("SELECT store_list_id FROM store_list_stores WHERE store_id = $1", &[id.into()]).await?;
            merchant.map(|m| (m, lists))
        }
        None => None,
    };
    Ok(Gathered { offers, member_lists, store, identifier_kind })
}
