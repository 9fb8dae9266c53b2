use crate::crud::{Assign, Assignments, Table};
use crate::link_set::LinkSet;
use crate::{Db, FromRow, Result, Row};
use kindling_domain::catalog::item_set::{ItemSet, ItemSetChanges};
use kindling_domain::{AccountId, ItemSetId, ManufacturerId, MerchantId};

pub struct ItemSets;

/// An item set's items; a merchant's (manufacturer's) set holds only that owner's items.
pub const ITEMS: LinkSet<ItemSets, super::items::Items> =
    LinkSet::new("item_set_items", "item_set_id", "item_id").same_owner(&["merchant_id", "manufacturer_id"]);

impl Table for ItemSets {
    const TABLE: &'static str = "item_sets";
    const COLUMNS: &'static str = "id, name, merchant_id, manufacturer_id, \
        (SELECT m.name FROM manufacturers m WHERE m.id = item_sets.manufacturer_id) AS manufacturer_name, set_type";
    type Record = ItemSet;
    type Id = kindling_domain::ItemSetId;

    fn id(set: &ItemSet) -> Self::Id {
        set.id
    }

    async fn attach(db: &Db, account: AccountId, sets: &mut [ItemSet]) -> Result<()> {
        let ids: Vec<_> = sets.iter().map(|s| s.id).collect();
        let mut items = ITEMS.ids_for(db, account, &ids).await?;
        for set in sets {
            set.item_ids = items.remove(&set.id).unwrap_or_default();
        }
        Ok(())
    }
}

impl FromRow for ItemSet {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(ItemSet {
            id: ItemSetId(row.int("id")?),
            name: row.text("name")?,
            merchant_id: row.opt_int("merchant_id")?.map(MerchantId),
            manufacturer_id: row.opt_int("manufacturer_id")?.map(ManufacturerId),
            manufacturer_name: row.opt_text("manufacturer_name")?,
            set_type: row.int("set_type")?,
            item_ids: Vec::new(),
        })
    }
}

/// Columns of the set itself; `item_ids` and the owner ids are handled by the caller.
pub fn values(c: &ItemSetChanges) -> Assignments {
    Assign::new().set("name", c.name.clone()).set("set_type", c.set_type).done()
}
