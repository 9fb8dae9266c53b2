use crate::crud::{Assign, Assignments, Table};
use crate::link_set::LinkSet;
use crate::{Db, FromRow, Result, Row};
use kindling_domain::catalog::store_list::StoreList;
use kindling_domain::{AccountId, MerchantId, StoreListId};

pub struct StoreLists;

/// A store list's stores; only stores of the list's merchant may join.
pub const STORES: LinkSet<StoreLists, super::stores::Stores> =
    LinkSet::new("store_list_stores", "store_list_id", "store_id").same_owner(&["merchant_id"]);

impl Table for StoreLists {
    const TABLE: &'static str = "store_lists";
    const COLUMNS: &'static str = "id, name, merchant_id";
    type Record = StoreList;
    type Id = kindling_domain::StoreListId;

    fn id(list: &StoreList) -> Self::Id {
        list.id
    }

    async fn attach(db: &Db, account: AccountId, lists: &mut [StoreList]) -> Result<()> {
        let ids: Vec<_> = lists.iter().map(|l| l.id).collect();
        let mut stores = STORES.ids_for(db, account, &ids).await?;
        for list in lists {
            list.store_ids = stores.remove(&list.id).unwrap_or_default();
        }
        Ok(())
    }
}

impl FromRow for StoreList {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(StoreList {
            id: StoreListId(row.int("id")?),
            name: row.text("name")?,
            merchant_id: MerchantId(row.int("merchant_id")?),
            store_ids: Vec::new(),
        })
    }
}

/// A store list's own column (its stores are `STORES`).
pub fn values(name: Option<String>) -> Assignments {
    Assign::new().set("name", name).done()
}
