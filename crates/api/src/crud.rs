//! Generic handlers for plain CRUD resources. A resource implements `CrudResource` (names,
//! owners in the path, searchable columns, how input becomes columns) and is mounted with
//! `collection::<R>()` and `item::<R>()`.

use crate::auth::Auth;
use crate::extract::{ApiQuery, Envelope, Enveloped, PageQuery};
use crate::response::{created, empty_ok, paged_with_aliases, single};
use crate::{ApiError, AppState};
use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use kindling_domain::{FieldErrors, ManufacturerId, MerchantId, OfferId};
use kindling_store::crud::{self, Assignments, Filter, RowId, Table};
use kindling_store::link_set::{LinkOutcome, LinkSet, ReplaceLinks};
use kindling_store::{StoreError, Tx};
use serde::Serialize;
use std::collections::HashMap;

/// An owner named in the path, e.g. `{merchant_id}` in `/v1.0/merchants/{merchant_id}/stores`.
/// The path parameter is also the owner column of the resource's table.
pub struct Parent {
    pub param: &'static str,
    pub name: &'static str,
    /// The path's id as the owner's typed id (which also names its table and column).
    pub id: fn(i64) -> RowId,
}

pub const MERCHANT: Parent =
    Parent { param: "merchant_id", name: "merchant", id: |id| RowId::Merchant(MerchantId(id)) };
pub const OFFER: Parent = Parent { param: "offer_id", name: "offer", id: |id| RowId::Offer(OfferId(id)) };
pub const MANUFACTURER: Parent =
    Parent { param: "manufacturer_id", name: "manufacturer", id: |id| RowId::Manufacturer(ManufacturerId(id)) };

/// A list filter taken from the query string.
pub struct Search {
    pub param: &'static str,
    pub column: &'static str,
    /// Exact match; otherwise a case-insensitive substring match.
    pub exact: bool,
}

/// What a validated create or update of a record with id `Id` writes: columns, plus linked id
/// sets it owns to replace (the ids as the body gives them) and references to check (the
/// body field and the typed id it names), all in one transaction.
pub struct Write<Id: 'static> {
    pub values: Assignments,
    pub links: Vec<(&'static dyn ReplaceLinks<Id>, &'static str, Vec<i64>)>,
    pub references: Vec<(&'static str, RowId)>,
}

impl<Id: 'static> Default for Write<Id> {
    fn default() -> Self {
        Self { values: Assignments::new(), links: Vec::new(), references: Vec::new() }
    }
}

impl<Id: 'static> From<Assignments> for Write<Id> {
    fn from(values: Assignments) -> Self {
        Self { values, ..Self::default() }
    }
}

/// The owners a request is scoped to, typed.
pub type Scope = Vec<RowId>;

pub trait CrudResource: Table<Record: Serialize> + Send + Sync + 'static {
    /// Wrapper key of one object: `store`.
    const SINGULAR: &'static str;
    /// List key: `stores`.
    const PLURAL: &'static str;
    /// Extra list keys carrying the same array (the spec's item lists say `stores`).
    const PLURAL_ALIASES: &'static [&'static str] = &[];
    /// The path parameter naming one record: `store_id`.
    const ID_PARAM: &'static str;
    const PARENTS: &'static [Parent] = &[];
    const SEARCH: &'static [Search] = &[];
    /// Fields a unique-index violation may be reported on; the first whose name appears in
    /// the violated index is used.
    const UNIQUE_FIELDS: &'static [&'static str] = &[];
    /// Why a delete was refused because other records still point at this one.
    const IN_USE: &'static str = "is still in use";
    /// Success codes of `GET` and `PUT` on one record (the spec has a few 201s).
    const SHOW_STATUS: StatusCode = StatusCode::OK;
    const UPDATE_STATUS: StatusCode = StatusCode::OK;

    type Input: Enveloped + Send;

    fn create(input: Self::Input, scope: &Scope) -> Result<Write<Self::Id>, FieldErrors>;
    fn update(input: Self::Input, scope: &Scope) -> Result<Write<Self::Id>, FieldErrors>;
}

/// The resource's owners and (for item routes) its own id, parsed from the path.
pub struct Target<R: CrudResource> {
    scope: Scope,
    id: Option<R::Id>,
    _resource: std::marker::PhantomData<R>,
}

impl<R: CrudResource> FromRequestParts<AppState> for Target<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Borrowed from the router's own list (no map or strings per request). An id that is
        // not even UTF-8 names no resource: a 404, like any non-numeric id.
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|e| match e.status() {
            StatusCode::INTERNAL_SERVER_ERROR => ApiError::Internal(e.body_text()),
            _ => ApiError::NotFound(format!("Not found: {}", e.body_text())),
        })?;
        let int = |name: &str, what: &str| -> Result<Option<i64>, ApiError> {
            let raw = params.iter().find_map(|(key, value)| (key == name).then_some(value));
            raw.map(|raw| raw.parse::<i64>().map_err(|_| ApiError::not_found(what))).transpose()
        };
        let mut scope = Scope::new();
        for parent in R::PARENTS {
            let id = int(parent.param, parent.name)?
                .ok_or_else(|| ApiError::Internal(format!("route lacks {}", parent.param)))?;
            scope.push((parent.id)(id));
        }
        let id = int(R::ID_PARAM, R::SINGULAR)?.map(R::Id::from);
        Ok(Self { scope, id, _resource: std::marker::PhantomData })
    }
}

impl<R: CrudResource> Target<R> {
    fn id(&self) -> Result<R::Id, ApiError> {
        self.id.ok_or_else(|| ApiError::Internal(format!("route lacks {}", R::ID_PARAM)))
    }

    /// 404 naming the owner when a scoping owner is not in the account.
    async fn check_parents(&self, state: &AppState, auth: Auth) -> Result<(), ApiError> {
        for (parent, owner) in R::PARENTS.iter().zip(&self.scope) {
            if !crud::exists_now(&state.db, auth.account, *owner).await? {
                return Err(ApiError::not_found(parent.name));
            }
        }
        Ok(())
    }
}

fn write_error<R: CrudResource>(e: StoreError) -> ApiError {
    match e {
        // A resource that names its unique fields answers a field error; others get the
        // common 409.
        StoreError::Unique(detail) if !R::UNIQUE_FIELDS.is_empty() => {
            let field = crud::unique_field(&detail, R::UNIQUE_FIELDS);
            FieldErrors::single(field.unwrap_or("base"), "has already been taken").into()
        }
        StoreError::ForeignKey => ApiError::Conflict(format!("{} {}", R::SINGULAR, R::IN_USE)),
        other => other.into(),
    }
}

/// Fails with a field error unless every referenced row is in the account. Runs before the
/// write so a missing row is reported as such rather than as a foreign-key failure.
async fn check_references(tx: &mut Tx, auth: Auth, references: &[(&'static str, RowId)]) -> Result<(), ApiError> {
    for &(field, referenced) in references {
        if !crud::exists(tx, auth.account, referenced).await? {
            return Err(FieldErrors::single(field, &format!("does not exist: {referenced}")).into());
        }
    }
    Ok(())
}

/// Replaces linked sets inside `tx`; any unknown id fails the whole write.
async fn replace_links<Id: Copy + 'static>(
    tx: &mut Tx,
    auth: Auth,
    id: Id,
    links: Vec<(&'static dyn ReplaceLinks<Id>, &'static str, Vec<i64>)>,
) -> Result<(), ApiError> {
    for (set, field, ids) in links {
        kindling_domain::input::id_count(field, &ids)?;
        if let LinkOutcome::UnknownTargets(unknown) = set.replace(tx, auth.account, id, &ids).await? {
            return Err(unknown_ids(field, &unknown));
        }
    }
    Ok(())
}

pub fn unknown_ids(field: &str, ids: &[impl std::fmt::Display]) -> ApiError {
    kindling_domain::input::unknown_ids(field, ids).into()
}

pub(crate) async fn load<R: CrudResource>(
    state: &AppState,
    auth: Auth,
    scope: &Scope,
    id: R::Id,
) -> Result<R::Record, ApiError> {
    crud::get::<R>(&state.db, auth.account, scope, id).await?.ok_or_else(|| ApiError::not_found(R::SINGULAR))
}

async fn list<R: CrudResource>(
    State(state): State<AppState>,
    auth: Auth,
    target: Target<R>,
    PageQuery(page): PageQuery,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    target.check_parents(&state, auth).await?;
    let filters = search_filters::<R>(&query);
    let page = crud::list::<R>(&state.db, auth.account, &target.scope, &filters, page).await?;
    Ok(paged_with_aliases(R::PLURAL, R::PLURAL_ALIASES, R::SINGULAR, &page))
}

pub fn search_filters<R: CrudResource>(query: &HashMap<String, String>) -> Vec<Filter> {
    R::SEARCH
        .iter()
        .filter_map(|s| {
            let value = query.get(s.param).filter(|v| !v.is_empty())?;
            Some(if s.exact {
                Filter::Eq(s.column, value.clone().into())
            } else {
                Filter::Contains(s.column, value.clone())
            })
        })
        .collect()
}

async fn create<R: CrudResource>(
    State(state): State<AppState>,
    auth: Auth,
    target: Target<R>,
    uri: Uri,
    Envelope(input): Envelope<R::Input>,
) -> Result<Response, ApiError> {
    target.check_parents(&state, auth).await?;
    let mut write = R::create(input, &target.scope)?;
    write.values.extend(target.scope.iter().map(|owner| (owner.column(), owner.value())));
    let id = state
        .db
        .transaction(move |tx| {
            Box::pin(async move {
                check_references(tx, auth, &write.references).await?;
                let id = crud::insert::<R>(tx, auth.account, write.values).await.map_err(write_error::<R>)?;
                replace_links(tx, auth, id, write.links).await?;
                Ok::<_, ApiError>(id)
            })
        })
        .await?;
    let record = load::<R>(&state, auth, &target.scope, id).await?;
    Ok(created(R::SINGULAR, &record, format!("{}/{id}", uri.path())))
}

async fn show<R: CrudResource>(
    State(state): State<AppState>,
    auth: Auth,
    target: Target<R>,
) -> Result<Response, ApiError> {
    target.check_parents(&state, auth).await?;
    let record = load::<R>(&state, auth, &target.scope, target.id()?).await?;
    Ok(single(R::SHOW_STATUS, R::SINGULAR, &record))
}

async fn update<R: CrudResource>(
    State(state): State<AppState>,
    auth: Auth,
    target: Target<R>,
    Envelope(input): Envelope<R::Input>,
) -> Result<Response, ApiError> {
    target.check_parents(&state, auth).await?;
    let id = target.id()?;
    let write = R::update(input, &target.scope)?;
    let scope = target.scope.clone();
    state
        .db
        .transaction(move |tx| {
            Box::pin(async move {
                check_references(tx, auth, &write.references).await?;
                if !crud::update::<R>(tx, auth.account, &scope, id, write.values).await.map_err(write_error::<R>)? {
                    return Err(ApiError::not_found(R::SINGULAR));
                }
                replace_links(tx, auth, id, write.links).await
            })
        })
        .await?;
    let record = load::<R>(&state, auth, &target.scope, id).await?;
    Ok(single(R::UPDATE_STATUS, R::SINGULAR, &record))
}

async fn destroy<R: CrudResource>(
    State(state): State<AppState>,
    auth: Auth,
    target: Target<R>,
) -> Result<Response, ApiError> {
    target.check_parents(&state, auth).await?;
    if crud::delete::<R>(&state.db, auth.account, &target.scope, target.id()?).await.map_err(write_error::<R>)? {
        Ok(empty_ok())
    } else {
        Err(ApiError::not_found(R::SINGULAR))
    }
}

/// `GET` (paged list, with the resource's search parameters) and `POST` (create, 201).
pub fn collection<R: CrudResource>() -> MethodRouter<AppState> {
    get(list::<R>).post(create::<R>)
}

/// `GET`, `PUT` (partial update) and `DELETE` on one record.
pub fn item<R: CrudResource>() -> MethodRouter<AppState> {
    get(show::<R>).put(update::<R>).delete(destroy::<R>)
}

/// `GET` on one record only (e.g. a store by id without its merchant).
pub fn show_only<R: CrudResource>() -> MethodRouter<AppState> {
    get(show::<R>)
}

/// `GET`: the paged records of `T` linked to one `R` through `link`, e.g. a store list's
/// stores. The owner is looked up through `R`'s scope, so the wrong merchant is a 404.
/// (`R` and `T` may be views of the link's own tables, such as a merchant's item sets.)
pub fn linked<R, T, O, L>(link: &'static LinkSet<O, L>) -> MethodRouter<AppState>
where
    R: CrudResource,
    T: CrudResource,
    O: Table<Id = R::Id> + 'static,
    L: Table + 'static,
{
    get(
        move |State(state): State<AppState>,
              auth: Auth,
              target: Target<R>,
              PageQuery(page): PageQuery,
              ApiQuery(query): ApiQuery<HashMap<String, String>>| async move {
            target.check_parents(&state, auth).await?;
            let owner = target.id()?;
            load::<R>(&state, auth, &target.scope, owner).await?;
            let filters = search_filters::<T>(&query);
            let page = crud::list_linked::<T, O, L>(&state.db, auth.account, link, owner, &filters, page).await?;
            Ok::<_, ApiError>(paged_with_aliases(T::PLURAL, T::PLURAL_ALIASES, T::SINGULAR, &page))
        },
    )
}

/// Declares `$name` as another view of `$table` (same rows and columns), so one table can be
/// mounted at several scopes: account-wide items and a merchant's items.
#[macro_export]
macro_rules! table_view {
    ($(#[$doc:meta])* $name:ident => $table:ty) => {
        $(#[$doc])*
        pub struct $name;

        impl kindling_store::crud::Table for $name {
            const TABLE: &'static str = <$table as kindling_store::crud::Table>::TABLE;
            const COLUMNS: &'static str = <$table as kindling_store::crud::Table>::COLUMNS;
            type Record = <$table as kindling_store::crud::Table>::Record;
            type Id = <$table as kindling_store::crud::Table>::Id;

            fn id(record: &Self::Record) -> Self::Id {
                <$table as kindling_store::crud::Table>::id(record)
            }

            fn attach(
                db: &kindling_store::Db,
                account: kindling_domain::AccountId,
                records: &mut [Self::Record],
            ) -> impl std::future::Future<Output = kindling_store::Result<()>> + Send {
                <$table as kindling_store::crud::Table>::attach(db, account, records)
            }
        }
    };
}
