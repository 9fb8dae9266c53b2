use crate::crud::{Assign, Assignments, Table};
use crate::{FromRow, Result, Row};
use kindling_domain::catalog::item::{Item, ItemChanges};
use kindling_domain::{ItemId, ManufacturerId, MerchantId};

pub struct Items;

impl Table for Items {
    const TABLE: &'static str = "items";
    const COLUMNS: &'static str = "id, name, code, merchant_id, manufacturer_id";
    type Record = Item;
    type Id = kindling_domain::ItemId;

    fn id(item: &Item) -> Self::Id {
        item.id
    }
}

impl FromRow for Item {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Item {
            id: ItemId(row.int("id")?),
            name: row.text("name")?,
            code: row.text("code")?,
            merchant_id: row.opt_int("merchant_id")?.map(MerchantId),
            manufacturer_id: row.opt_int("manufacturer_id")?.map(ManufacturerId),
        })
    }
}

pub fn values(c: ItemChanges) -> Assignments {
    Assign::new().set("name", c.name).set("code", c.code).done()
}
