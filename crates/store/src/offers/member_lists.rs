use crate::crud::{Assign, Assignments, Table};
use crate::link_set::LinkSet;
use crate::{Db, FromRow, Result, Row};
use kindling_domain::offers::member_list::MemberList;
use kindling_domain::{AccountId, MemberListId};

pub struct MemberLists;

pub const MEMBERS: LinkSet<MemberLists, crate::members::Members> =
    LinkSet::new("member_list_members", "member_list_id", "member_id");

/// What a create or update writes (`MemberListInput::into_new` / `into_changes`' name).
pub fn values(name: Option<String>) -> Assignments {
    Assign::new().set("name", name).done()
}

impl Table for MemberLists {
    const TABLE: &'static str = "member_lists";
    const COLUMNS: &'static str = "id, name";
    type Record = MemberList;
    type Id = kindling_domain::MemberListId;

    fn id(list: &MemberList) -> Self::Id {
        list.id
    }

    async fn attach(db: &Db, account: AccountId, lists: &mut [MemberList]) -> Result<()> {
        let ids: Vec<_> = lists.iter().map(|l| l.id).collect();
        let mut members = MEMBERS.ids_for(db, account, &ids).await?;
        for list in lists {
            list.member_ids = members.remove(&list.id).unwrap_or_default();
        }
        Ok(())
    }
}

impl FromRow for MemberList {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(MemberList { id: MemberListId(row.int("id")?), name: row.text("name")?, member_ids: Vec::new() })
    }
}
