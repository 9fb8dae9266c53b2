//! Members: plain CRUD plus search by the brand's identifier.

use crate::auth::Auth;
use crate::crud::CrudResource;
use crate::extract::{ApiQuery, Enveloped};
use crate::response::single;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::member::MemberInput;
use kindling_domain::FieldErrors;
use kindling_store::crud::{self, Assignments};
use kindling_store::members::{self, Members};
use serde::Deserialize;

impl Enveloped for MemberInput {
    const KEY: &'static str = "member";
}

impl CrudResource for Members {
    const SINGULAR: &'static str = "member";
    const PLURAL: &'static str = "members";
    const PATH: &'static str = "/v1.0/members";
    const UNIQUE_FIELD: &'static str = "identifier";
    type Input = MemberInput;

    fn create(input: MemberInput) -> Result<Assignments, FieldErrors> {
        input.into_new().map(members::new_values)
    }

    fn update(input: MemberInput) -> Result<Assignments, FieldErrors> {
        input.into_changes().map(members::change_values)
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
