//! Impressions: one view of an offer on a channel, named by the offer×channel `xid`. Landing
//! pages record them; the API lists, posts and deletes them.

use crate::auth::Auth;
use crate::extract::{query_int, ApiPath, ApiQuery, Envelope, Enveloped, PageQuery};
use crate::response::{created, empty_ok, paged};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use kindling_domain::impression::ImpressionInput;
use kindling_domain::{ImpressionId, MemberId, Timestamp};
use kindling_store::crud::{self, Filter};
use kindling_store::impressions::{self, Impressions, NewImpression};
use kindling_store::members::Members;
use serde::Deserialize;

impl Enveloped for ImpressionInput {
    const KEY: &'static str = "impression";
}

/// Optional exact-match filters of the list (beyond the spec, which declares none).
#[derive(Deserialize)]
pub struct ListQuery {
    offer_xid: Option<String>,
    cookie_id: Option<String>,
    member_id: Option<String>,
}

impl ListQuery {
    fn filters(self) -> Result<Vec<Filter>, ApiError> {
        let mut filters = Vec::new();
        let given = |v: Option<String>| v.filter(|v| !v.is_empty());
        if let Some(xid) = given(self.offer_xid) {
            filters.push(Filter::Eq("offer_xid", xid.into()));
        }
        if let Some(cookie) = given(self.cookie_id) {
            filters.push(Filter::Eq("cookie_id", cookie.into()));
        }
        if let Some(member) = given(self.member_id) {
            filters.push(Filter::Eq("member_id", MemberId(query_int("member_id", &member)?).into()));
        }
        Ok(filters)
    }
}

/// `GET /v1.0/impressions` (get_impressions): the account's impressions, oldest first.
pub async fn get_impressions(
    State(state): State<AppState>,
    auth: Auth,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let filters = query.filters()?;
    let page = crud::list::<Impressions>(&state.db, auth.account, &[], &filters, page).await?;
    Ok(paged("impressions", "impression", &page))
}

/// `POST /v1.0/impressions` (create_impression): 201. The `offer_xid` must name one of the
/// account's offers on a channel (404 otherwise), which fills `channel_id` and
/// `channel_name`; a `member_id`, when given, must be the account's member (404 otherwise).
pub async fn create_impression(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Envelope(input): Envelope<ImpressionInput>,
) -> Result<Response, ApiError> {
    let valid = input.into_new()?;
    let id = state
        .db
        .transaction(move |tx| {
            Box::pin(async move {
                let channel = impressions::channel_for_xid(tx, auth.account, &valid.offer_xid)
                    .await?
                    .ok_or_else(|| ApiError::NotFound("offer_xid names no offer on a channel".into()))?;
                if let Some(member) = valid.member_id {
                    if !crud::contains::<Members>(tx, auth.account, member).await? {
                        return Err(ApiError::not_found("member"));
                    }
                }
                let new = NewImpression {
                    cookie_id: &valid.cookie_id,
                    offer_xid: &valid.offer_xid,
                    channel_id: Some(channel.channel_id),
                    channel_name: Some(&channel.channel_name),
                    member_id: valid.member_id,
                    creative_name: valid.creative_name.as_deref(),
                    annotations: &valid.annotations,
                };
                Ok::<_, ApiError>(impressions::record(tx, auth.account, &new, Timestamp::now()).await?)
            })
        })
        .await?;
    let record = crud::get::<Impressions>(&state.db, auth.account, &[], id)
        .await?
        .ok_or_else(|| ApiError::not_found("impression"))?;
    Ok(created("impression", &record, format!("{}/{id}", uri.path())))
}

/// `DELETE /v1.0/impressions/{impression_id}` (delete_impression): 200 with `{}`, as every
/// delete the spec lists without a body.
pub async fn delete_impression(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ImpressionId>,
) -> Result<Response, ApiError> {
    if crud::delete::<Impressions>(&state.db, auth.account, &[], id).await? {
        Ok(empty_ok())
    } else {
        Err(ApiError::not_found("impression"))
    }
}
