//! Members: plain CRUD plus search by the brand's identifier.

use crate::auth::Auth;
use crate::crud::{CrudResource, Scope, Write};
use crate::extract::{ApiQuery, Enveloped};
use crate::response::single;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::member::MemberInput;
use kindling_domain::FieldErrors;
use kindling_store::crud;
use kindling_store::members::{self, Members};
use serde::Deserialize;

impl Enveloped for MemberInput {
    const KEY: &'static str = "member";
}

impl CrudResource for Members {
    const SINGULAR: &'static str = "member";
    const PLURAL: &'static str = "members";
    const ID_PARAM: &'static str = "member_id";
    const UNIQUE_FIELDS: &'static [&'static str] = &["identifier"];
    const IN_USE: &'static str = "still has credentials; void them instead";
    type Input = MemberInput;

    fn create(input: MemberInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_new().map(|new| members::new_values(new).into())
    }

    fn update(input: MemberInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_changes().map(|changes| members::change_values(changes).into())
    }
}

#[derive(Deserialize)]
pub struct SearchQuery {
    identifier: Option<String>,
}

/// `GET /v1.0/members/search?identifier=...` (get_members_by_identifier): one member or 404.
pub async fn get_members_by_identifier(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Response, ApiError> {
    let identifier = query
        .identifier
        .filter(|i| !i.is_empty())
        .ok_or_else(|| ApiError::BadRequest("identifier is required".into()))?;
    let member = crud::find_by::<Members>(&state.db, auth.account, "identifier", identifier.into())
        .await?
        .ok_or_else(|| ApiError::not_found("member"))?;
    Ok(single(StatusCode::OK, "member", &member))
}
