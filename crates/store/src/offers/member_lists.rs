use crate::crud::Table;
use crate::link_set::LinkSet;
use crate::{Db, FromRow, Result, Row};
use kindling_domain::offers::member_list::MemberList;
use kindling_domain::{AccountId, MemberListId};

pub struct MemberLists;

pub const MEMBERS: LinkSet = LinkSet {
    table: "member_list_members",
    owner_table: "member_lists",
    owner_column: "member_list_id",
    target_table: "members",
    target_column: "member_id",
    same_owner: &[],
    extra: None,
};

impl Table for MemberLists {
    const TABLE: &'static str = "member_lists";
    const COLUMNS: &'static str = "id, name";
    type Record = MemberList;
    type Id = kindling_domain::MemberListId;

    fn id(list: &MemberList) -> Self::Id {
        list.id
    }

    async fn attach(db: &Db, account: AccountId, lists: &mut [MemberList]) -> Result<()> {
        let ids: Vec<i64> = lists.iter().map(|l| l.id.0).collect();
        let mut members = MEMBERS.ids_for(db, account, &ids).await?;
        for list in lists {
            list.member_ids = members.remove(&list.id.0).unwrap_or_default();
        }
        Ok(())
    }
}

impl FromRow for MemberList {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(MemberList { id: MemberListId(row.int("id")?), name: row.text("name")?, member_ids: Vec::new() })
    }
}
