//! Generic handlers for linked id sets: `POST` replaces the set, `PUT` adds, `DELETE` removes,
//! `GET` lists; each answers with the full resulting list. Unknown ids (or ids of another
//! account or owner) fail the whole request and nothing is written.

use crate::auth::Auth;
use crate::crud::unknown_ids;
use crate::extract::{wrapped_object, ApiPath, ApiQuery};
use crate::response::json;
use crate::{ApiError, AppState};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use kindling_store::crud::Table;
use kindling_store::link_set::{LinkOp, LinkOutcome, LinkSet};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::marker::PhantomData;

pub trait LinkResource: Send + Sync + 'static {
    /// The owner's table (its id comes from the path) and the targets' (ids from the body).
    type Owner: Table + 'static;
    type Target: Table + 'static;
    const SET: &'static LinkSet<Self::Owner, Self::Target>;
    /// The path parameter naming the owner: `store_list_id`.
    const OWNER_PARAM: &'static str;
    /// For 404s: `store list`.
    const OWNER_NAME: &'static str;
    /// Wrapper key of the body (and of the answer unless `WRAP_OUTPUT` is false).
    const KEY: &'static str;
    /// The id list's key: `store_ids`.
    const FIELD: &'static str;
    const WRAP_OUTPUT: bool = true;
    /// Success codes of `POST`, `PUT` and `DELETE`, exactly as the spec lists them.
    const CODES: [StatusCode; 3];
}

type OwnerId<L> = <<L as LinkResource>::Owner as Table>::Id;
type TargetId<L> = <<L as LinkResource>::Target as Table>::Id;

struct Owner<L: LinkResource>(OwnerId<L>, PhantomData<L>);

impl<L: LinkResource> FromRequestParts<AppState> for Owner<L> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        // An id that is not even UTF-8 names no resource: a 404, like any non-numeric id.
        let ApiPath(params) = ApiPath::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        params
            .get(L::OWNER_PARAM)
            .and_then(|raw| raw.parse::<i64>().ok())
            .map(|id| Self(id.into(), PhantomData))
            .ok_or_else(|| ApiError::not_found(L::OWNER_NAME))
    }
}

/// `{"<KEY>": {"<FIELD>": [1, 2]}}` from the body.
struct LinkIds<L: LinkResource>(Vec<TargetId<L>>, PhantomData<L>);

impl<L: LinkResource> FromRequest<AppState> for LinkIds<L> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &AppState) -> Result<Self, ApiError> {
        let inner = wrapped_object(req, L::KEY).await?;
        let field = format!("{}.{}", L::KEY, L::FIELD);
        let ids = match inner.get(L::FIELD) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    kindling_domain::input::int_value(v)
                        .ok_or_else(|| ApiError::BadRequest(format!("{field} must be an array of integers")))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None | Some(Value::Null) => return Err(ApiError::BadRequest(format!("{field} is required"))),
            Some(_) => return Err(ApiError::BadRequest(format!("{field} must be an array of integers"))),
        };
        kindling_domain::input::id_count(&field, &ids)?;
        Ok(Self(ids.into_iter().map(Into::into).collect(), PhantomData))
    }
}

fn answer<L: LinkResource>(status: StatusCode, owner: OwnerId<L>, ids: &[TargetId<L>]) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("id".into(), Into::<i64>::into(owner).into());
    body.insert(L::FIELD.into(), json!(ids.iter().map(|&id| Into::<i64>::into(id)).collect::<Vec<_>>()));
    if L::WRAP_OUTPUT {
        json(status, &json!({ L::KEY: body, "errors": {} }))
    } else {
        json(status, &body)
    }
}

async fn show<L: LinkResource>(
    State(state): State<AppState>,
    auth: Auth,
    Owner(owner, _): Owner<L>,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let name = query.get("name").filter(|n| !n.is_empty()).map(String::as_str);
    let ids =
        L::SET.list(&state.db, auth.account, owner, name).await?.ok_or_else(|| ApiError::not_found(L::OWNER_NAME))?;
    Ok(answer::<L>(StatusCode::OK, owner, &ids))
}

async fn change<L: LinkResource>(
    state: AppState,
    auth: Auth,
    owner: OwnerId<L>,
    op: LinkOp,
    ids: Vec<TargetId<L>>,
) -> Result<Response, ApiError> {
    // `CODES` is in `LinkOp` order: POST (replace), PUT (add), DELETE (remove).
    let status = L::CODES[op as usize];
    match L::SET.apply_now(&state.db, auth.account, owner, op, &ids).await? {
        LinkOutcome::Linked(ids) => Ok(answer::<L>(status, owner, &ids)),
        LinkOutcome::OwnerNotFound => Err(ApiError::not_found(L::OWNER_NAME)),
        LinkOutcome::UnknownTargets(unknown) => Err(unknown_ids(L::FIELD, &unknown)),
    }
}

async fn replace<L: LinkResource>(
    State(state): State<AppState>,
    auth: Auth,
    Owner(owner, _): Owner<L>,
    LinkIds(ids, _): LinkIds<L>,
) -> Result<Response, ApiError> {
    change::<L>(state, auth, owner, LinkOp::Replace, ids).await
}

async fn add<L: LinkResource>(
    State(state): State<AppState>,
    auth: Auth,
    Owner(owner, _): Owner<L>,
    LinkIds(ids, _): LinkIds<L>,
) -> Result<Response, ApiError> {
    change::<L>(state, auth, owner, LinkOp::Add, ids).await
}

async fn remove<L: LinkResource>(
    State(state): State<AppState>,
    auth: Auth,
    Owner(owner, _): Owner<L>,
    LinkIds(ids, _): LinkIds<L>,
) -> Result<Response, ApiError> {
    change::<L>(state, auth, owner, LinkOp::Remove, ids).await
}

/// `GET`/`POST`/`PUT`/`DELETE` on a link-set path.
pub fn link_set<L: LinkResource>() -> MethodRouter<AppState> {
    get(show::<L>).post(replace::<L>).put(add::<L>).delete(remove::<L>)
}
