//! Members as a plain CRUD table.

use crate::crud::{Assignments, Table};
use crate::{FromRow, Result, Row};
use kindling_domain::member::{Member, MemberChanges, NewMember};
use kindling_domain::{MemberId, Timestamp};

pub struct Members;

impl Table for Members {
    const TABLE: &'static str = "members";
    const COLUMNS: &'static str = "id, identifier, notification_mode, created_at, updated_at";
    type Record = Member;

    fn id(member: &Member) -> i64 {
        member.id.0
    }
}

impl FromRow for Member {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Member {
            id: MemberId(row.int(0)?),
            identifier: row.text(1)?,
            notification_mode: row.text(2)?,
            created_at: Timestamp::from_unix(row.int(3)?),
            updated_at: Timestamp::from_unix(row.int(4)?),
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
