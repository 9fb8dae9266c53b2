//! Member lists: named groups of members that restrict who may get an offer.

use crate::{FieldErrors, MemberListId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberList {
    pub id: MemberListId,
    pub name: String,
    pub member_ids: Vec<crate::MemberId>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MemberListInput {
    pub name: Option<String>,
}

impl MemberListInput {
    pub fn into_changes(self) -> Result<Option<String>, FieldErrors> {
        crate::input::name_only(self.name, false)
    }

    pub fn into_new(self) -> Result<Option<String>, FieldErrors> {
        crate::input::name_only(self.name, true)
    }
}
