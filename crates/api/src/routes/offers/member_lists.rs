use crate::crud::{CrudResource, Scope, Write};
use crate::extract::Enveloped;
use crate::links::LinkResource;
use axum::http::StatusCode;
use kindling_domain::offers::member_list::MemberListInput;
use kindling_domain::FieldErrors;
use kindling_store::link_set::LinkSet;
use kindling_store::members::Members;
use kindling_store::offers::member_lists::{self, MemberLists};

impl Enveloped for MemberListInput {
    const KEY: &'static str = "member_list";
}

impl CrudResource for MemberLists {
    const SINGULAR: &'static str = "member_list";
    const PLURAL: &'static str = "member_lists";
    const ID_PARAM: &'static str = "member_list_id";
    const IN_USE: &'static str = "still restricts offers; remove it from them first";
    type Input = MemberListInput;

    fn create(input: MemberListInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_new().map(|name| member_lists::values(name).into())
    }

    fn update(input: MemberListInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_changes().map(|name| member_lists::values(name).into())
    }
}

/// `/v1.0/member_lists/{member_list_id}/members`.
pub struct MemberListMembers;

impl LinkResource for MemberListMembers {
    type Owner = MemberLists;
    type Target = Members;
    const SET: &'static LinkSet<MemberLists, Members> = &member_lists::MEMBERS;
    const OWNER_PARAM: &'static str = "member_list_id";
    const OWNER_NAME: &'static str = "member_list";
    const KEY: &'static str = "member_list";
    const FIELD: &'static str = "member_ids";
    const CODES: [StatusCode; 3] = [StatusCode::CREATED, StatusCode::CREATED, StatusCode::OK];
}
