use crate::crud::Table;
use crate::{FromRow, Result, Row};
use kindling_domain::{EligibleItemSetId, ItemSetId, OfferId};
use serde::Serialize;

/// An item set attached to an offer: the items that qualify (list type 0) or that are
/// discounted (list type 1), and how many are needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EligibleItemSet {
    pub id: EligibleItemSetId,
    pub list_type: i64,
    pub type_name: &'static str,
    pub req_qty: i64,
    pub offer_id: OfferId,
    pub item_set_id: ItemSetId,
}

pub fn type_name(list_type: i64) -> &'static str {
    match list_type {
        0 => "qualifying",
        1 => "discounted",
        _ => "unknown",
    }
}

pub struct EligibleItemSets;

impl Table for EligibleItemSets {
    const TABLE: &'static str = "eligible_item_sets";
    const COLUMNS: &'static str = "id, list_type, req_qty, offer_id, item_set_id";
    type Record = EligibleItemSet;
    type Id = EligibleItemSetId;

    fn id(set: &EligibleItemSet) -> Self::Id {
        set.id
    }
}

impl FromRow for EligibleItemSet {
    fn from_row(row: &impl Row) -> Result<Self> {
        let list_type = row.int("list_type")?;
        Ok(Self {
            id: EligibleItemSetId(row.int("id")?),
            list_type,
            type_name: type_name(list_type),
            req_qty: row.int("req_qty")?,
            offer_id: OfferId(row.int("offer_id")?),
            item_set_id: ItemSetId(row.int("item_set_id")?),
        })
    }
}
