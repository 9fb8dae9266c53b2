//! Members as a plain CRUD table.

use crate::crud::{Assignments, Table};
use crate::{FromRow, Result, Row};
use kindling_domain::member::{Member, MemberChanges, NewMember};
use kindling_domain::MemberId;

pub struct Members;

impl Table for Members {
    const TABLE: &'static str = "members";
    const COLUMNS: &'static str = "id, identifier, notification_mode, created_at, updated_at";
    type Record = Member;
    type Id = kindling_domain::MemberId;

    fn id(member: &Member) -> Self::Id {
        member.id
    }
}

impl FromRow for Member {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Member {
            id: MemberId(row.int("id")?),
            identifier: row.text("identifier")?,
            notification_mode: row.text("notification_mode")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

pub fn new_values(new: NewMember) -> Assignments {
    vec![("identifier", new.identifier.as_str().into()), ("notification_mode", new.notification_mode.as_str().into())]
}

pub fn change_values(changes: MemberChanges) -> Assignments {
    let mut values = Assignments::new();
    if let Some(identifier) = changes.identifier {
        values.push(("identifier", identifier.as_str().into()));
    }
    if let Some(mode) = changes.notification_mode {
        values.push(("notification_mode", mode.as_str().into()));
    }
    values
}
