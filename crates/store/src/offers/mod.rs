//! Offers, channels, member lists and the offer×channel rows (eligible channels/campaigns).

pub mod campaigns;
pub mod channels;
pub mod eligibility;
pub mod eligible_channels;
pub mod eligible_item_sets;
pub mod member_lists;
pub mod offer;
pub mod passbook;

use crate::Value;

pub(crate) use crate::db::placeholders;

/// The account id followed by the ids, as parameters for `account_id = $1 AND x IN (...)`.
pub(crate) fn account_and_ids(account: i64, ids: &[i64]) -> Vec<Value> {
    std::iter::once(account.into()).chain(ids.iter().map(|&id| id.into())).collect()
}
