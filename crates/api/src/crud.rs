//! Generic handlers for plain CRUD resources. A resource implements `CrudResource` (names,
//! input type, how input becomes columns) and mounts `collection::<R>()` and `item::<R>()`.

use crate::auth::Auth;
use crate::extract::{ApiPath, Envelope, Enveloped, PageQuery};
use crate::response::{created, empty_ok, paged, single};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use kindling_domain::FieldErrors;
use kindling_store::crud::{self, Assignments, Table};
use kindling_store::StoreError;
use serde::Serialize;

pub trait CrudResource: Table<Record: Serialize> + Send + Sync + 'static {
    /// Wrapper key of one object: `member`.
    const SINGULAR: &'static str;
    /// List key: `members`.
    const PLURAL: &'static str;
    /// Collection path, for `Location` headers: `/v1.0/members`.
    const PATH: &'static str;
    /// The field a unique-index violation is reported on.
    const UNIQUE_FIELD: &'static str;

    type Input: Enveloped + Send;

    fn create(input: Self::Input) -> Result<Assignments, FieldErrors>;
    fn update(input: Self::Input) -> Result<Assignments, FieldErrors>;
}

fn store_error<R: CrudResource>(e: StoreError) -> ApiError {
    match e {
        StoreError::Unique => FieldErrors::single(R::UNIQUE_FIELD, "has already been taken").into(),
        other => other.into(),
    }
}

async fn list<R: CrudResource>(
    State(state): State<AppState>,
    auth: Auth,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    let page = crud::list::<R>(&state.db, auth.account, page, &[]).await?;
    Ok(paged(R::PLURAL, R::SINGULAR, &page))
}

async fn create<R: CrudResource>(
    State(state): State<AppState>,
    auth: Auth,
    Envelope(input): Envelope<R::Input>,
) -> Result<Response, ApiError> {
    let values = R::create(input)?;
    let record = crud::insert::<R>(&state.db, auth.account, values)
        .await
        .map_err(store_error::<R>)?;
    let id = serde_json::to_value(&record)
        .ok()
        .and_then(|v| v.get("id").and_then(|id| id.as_i64()));
    let location = id
        .map(|id| format!("{}/{id}", R::PATH))
        .unwrap_or_else(|| R::PATH.to_owned());
    Ok(created(R::SINGULAR, &record, location))
}

async fn show<R: CrudResource>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let record = crud::get::<R>(&state.db, auth.account, id)
        .await?
        .ok_or_else(|| ApiError::not_found(R::SINGULAR))?;
    Ok(single(StatusCode::OK, R::SINGULAR, &record))
}

async fn update<R: CrudResource>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    Envelope(input): Envelope<R::Input>,
) -> Result<Response, ApiError> {
    let values = R::update(input)?;
    let record = if values.is_empty() {
        crud::get::<R>(&state.db, auth.account, id).await?
    } else {
        crud::update::<R>(&state.db, auth.account, id, values)
            .await
            .map_err(store_error::<R>)?
    };
    let record = record.ok_or_else(|| ApiError::not_found(R::SINGULAR))?;
    Ok(single(StatusCode::OK, R::SINGULAR, &record))
}

async fn destroy<R: CrudResource>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    if crud::delete::<R>(&state.db, auth.account, id).await? {
        Ok(empty_ok())
    } else {
        Err(ApiError::not_found(R::SINGULAR))
    }
}

/// `GET` (paged list) and `POST` (create, 201) on the collection path.
pub fn collection<R: CrudResource>() -> MethodRouter<AppState> {
    get(list::<R>).post(create::<R>)
}

/// `GET`, `PUT` (partial update) and `DELETE` on `/{id}`.
pub fn item<R: CrudResource>() -> MethodRouter<AppState> {
    get(show::<R>).put(update::<R>).delete(destroy::<R>)
}
