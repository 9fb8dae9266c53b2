//! Member privacy: export everything held about a member, and request their deletion (open
//! credentials voided now, the member anonymized after the account's retention by the
//! privacy worker). Both name the member by `member_identifier` or `credential_identifier`.

use crate::auth::Auth;
use crate::params::Params;
use crate::response::{empty_ok, json};
use crate::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use kindling_store::privacy::{self, deletion, PrivacyError, Subject};

impl From<PrivacyError> for ApiError {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::NotFound(message) => Self::Unprocessable(message.into()),
            PrivacyError::Store(e) => e.into(),
        }
    }
}

/// The member the parameters name; neither given is a 400.
fn subject(params: &Params) -> Result<Subject, ApiError> {
    let subject = Subject {
        member_identifier: params.opt_identifier("member_identifier")?,
        credential_identifier: params.opt_text("credential_identifier")?,
    };
    if subject.member_identifier.is_none() && subject.credential_identifier.is_none() {
        return Err(ApiError::BadRequest("member_identifier or credential_identifier is required".into()));
    }
    Ok(subject)
}

/// `GET /v1.0/privacy/member/export` (export_member_data): 200 `member_export_data`; 422
/// when no member of the account is found.
pub async fn export_member_data(State(state): State<AppState>, auth: Auth, uri: Uri) -> Result<Response, ApiError> {
    let subject = subject(&Params::from_query(uri.query())?)?;
    let export = privacy::export(&state.db, auth.account, &subject).await?;
    Ok(json(StatusCode::OK, &export))
}

/// `POST /v1.0/privacy/member/delete_request` (create_member_deletion_request): 200 with
/// `{}`. The parameters may also come as a JSON body.
pub async fn create_member_deletion_request(
    State(state): State<AppState>,
    auth: Auth,
    req: Request,
) -> Result<Response, ApiError> {
    let subject = subject(&Params::read(req, None).await?)?;
    deletion::request(&state.db, auth.account, subject).await?;
    Ok(empty_ok())
}
