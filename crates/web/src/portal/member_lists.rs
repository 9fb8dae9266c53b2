//! `/admin/member_lists`: the account's member lists (paged, searched by name, with their
//! sizes), the create and rename forms, and a list's members (paged) with forms to add and
//! remove members by identifier. Writes are the API's: `MemberListInput::into_new` /
//! `into_changes` and `member_lists::values` into `crud::insert` / `crud::update`, as
//! `POST/PUT /v1.0/member_lists`; members through `member_lists::MEMBERS` (`LinkOp::Add` /
//! `Remove`), as `PUT/DELETE /v1.0/member_lists/{id}/members`, after the identifiers are
//! turned into the account's member ids.

use super::merchants::path_id;
use super::pages::{param, ACCOUNT_PAGES};
use super::paging::{self, PER_PAGE};
use super::session::{Form, Signed};
use super::view::{self, Nav};
use super::PortalState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::offers::member_list::MemberListInput;
use kindling_domain::paging::PageRequest;
use kindling_domain::{FieldErrors, MemberId, MemberListId};
use kindling_store::crud;
use kindling_store::link_set::{LinkOp, LinkOutcome};
use kindling_store::members::Members;
use kindling_store::offers::member_lists::{self, MemberLists, MEMBERS};
use kindling_store::portal::members as reads;
use minijinja::{context, Value};

/// Identifiers one add or remove takes (one a line).
const MAX_IDENTIFIERS: usize = 100;

/// `GET /admin/member_lists?q=&page=`: by name, 50 a page, each with its size.
pub async fn list(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let q: String = param(query.as_deref(), "q").unwrap_or_default().trim().chars().take(255).collect();
    let page = paging::requested(query.as_deref());
    let (lists, total) =
        match reads::member_lists(&portal.db, signed.session.account, &q, PER_PAGE, paging::offset(page)).await {
            Ok(found) => found,
            Err(e) => return view::store_failure(&e),
        };
    let rows: Vec<Value> =
        lists.iter().map(|l| context! { id => l.id.0, name => l.name, members => l.members }).collect();
    let ctx = context! {
        q => q,
        lists => rows,
        p => paging::pager("/admin/member_lists", &[("q", &q)], page, total),
        ..signed.chrome(Nav::Members)
    };
    view::html(StatusCode::OK, view::render("portal/member_lists.html", ctx))
}

/// What the list's page shows: the list (None on the create form), its members' page, the
/// name as posted, errors, and the identifiers as posted in the add or remove form.
#[derive(Default)]
struct Shown {
    id: Option<MemberListId>,
    name: String,
    members: Option<Value>,
    errors: FieldErrors,
    identifiers: String,
    notice: Option<&'static str>,
}

fn page(signed: &Signed, status: StatusCode, shown: Shown) -> Response {
    let error = |field: &str| shown.errors.get(field).map(str::to_owned);
    let ctx = context! {
        id => shown.id.map(|id| id.0),
        v => context! { name => shown.name, identifiers => shown.identifiers },
        errors => context! { name => error("name"), identifiers => error("identifiers") },
        invalid => error("name").is_some(),
        members => shown.members,
        notice => shown.notice,
        ..signed.chrome(Nav::Members)
    };
    view::html(status, view::render("portal/member_list.html", ctx))
}

/// `GET /admin/member_lists/new`.
pub async fn new(signed: Signed) -> Response {
    if !signed.access.can_edit() {
        return signed.refuse_writing();
    }
    page(&signed, StatusCode::OK, Shown::default())
}

/// `POST /admin/member_lists` (`csrf`, `name`).
pub async fn create(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.write_refusal(&form) {
        return refused;
    }
    let name = form.get("name").unwrap_or_default().to_owned();
    let values = match (MemberListInput { name: Some(name.clone()) }).into_new() {
        Ok(name) => member_lists::values(name),
        Err(errors) => {
            return page(&signed, StatusCode::UNPROCESSABLE_ENTITY, Shown { name, errors, ..Shown::default() })
        }
    };
    let account = signed.session.account;
    let written = portal
        .db
        .transaction(move |tx| Box::pin(async move { crud::insert::<MemberLists>(tx, account, values).await }))
        .await;
    match written {
        Ok(id) => view::redirect(&format!("/admin/member_lists/{}?done=created", id.0)),
        Err(e) => view::store_failure(&e),
    }
}

/// The account's list's name (its member ids are not read: a list may be long).
async fn load(portal: &PortalState, signed: &Signed, raw: &str) -> Result<(MemberListId, String), Response> {
    let not_found = || view::not_found("member list", signed.chrome(Nav::Members));
    let Some(id) = path_id(raw).map(MemberListId) else {
        return Err(not_found());
    };
    match reads::member_list_name(&portal.db, signed.session.account, id).await {
        Ok(Some(name)) => Ok((id, name)),
        Ok(None) => Err(not_found()),
        Err(e) => Err(view::store_failure(&e)),
    }
}

/// The list's members, page `page`, by id (two statements).
async fn members(portal: &PortalState, signed: &Signed, id: MemberListId, page: i64) -> Result<Value, Response> {
    let request = PageRequest { page: page as u32, per_page: PER_PAGE as u32 };
    let found = crud::list_linked::<Members, MemberLists, Members>(
        &portal.db,
        signed.session.account,
        &MEMBERS,
        id,
        &[],
        request,
    )
    .await
    .map_err(|e| view::store_failure(&e))?;
    let rows: Vec<Value> = found.items.iter().map(|m| context! { id => m.id.0, identifier => m.identifier }).collect();
    let path = format!("/admin/member_lists/{}", id.0);
    Ok(context! { rows => rows, p => paging::pager(&path, &[], page, found.total_entries) })
}

/// `GET /admin/member_lists/{id}?page=`: the name form (owners, editors), the members and
/// the add and remove forms.
pub async fn show(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let (id, name) = match load(&portal, &signed, &raw).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let members = match members(&portal, &signed, id, paging::requested(query.as_deref())).await {
        Ok(m) => m,
        Err(answer) => return answer,
    };
    let notice = match param(query.as_deref(), "done").as_deref() {
        Some("created") => Some("The member list was created."),
        Some("saved") => Some("The member list was saved."),
        Some("added") => Some("The members were added."),
        Some("removed") => Some("The members were removed."),
        _ => None,
    };
    page(&signed, StatusCode::OK, Shown { id: Some(id), name, members: Some(members), notice, ..Shown::default() })
}

/// The list's page again with a refusal (422), the posted values kept.
async fn refused(portal: &PortalState, signed: &Signed, id: MemberListId, shown: Shown) -> Response {
    match members(portal, signed, id, 1).await {
        Ok(members) => {
            page(signed, StatusCode::UNPROCESSABLE_ENTITY, Shown { id: Some(id), members: Some(members), ..shown })
        }
        Err(answer) => answer,
    }
}

/// The checks every writing POST makes first: the CSRF token, the role, the list.
async fn writable(
    portal: &PortalState,
    signed: &Signed,
    form: &Form,
    raw: &str,
) -> Result<(MemberListId, String), Response> {
    if let Some(refused) = signed.write_refusal(form) {
        return Err(refused);
    }
    load(portal, signed, raw).await
}

/// `POST /admin/member_lists/{id}` (`csrf`, `name`): renames the list.
pub async fn update(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let (id, _) = match writable(&portal, &signed, &form, &raw).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let name = form.get("name").unwrap_or_default().to_owned();
    let values = match (MemberListInput { name: Some(name.clone()) }).into_changes() {
        Ok(name) => member_lists::values(name),
        Err(errors) => return refused(&portal, &signed, id, Shown { name, errors, ..Shown::default() }).await,
    };
    let account = signed.session.account;
    let written = portal
        .db
        .transaction(move |tx| Box::pin(async move { crud::update::<MemberLists>(tx, account, &[], id, values).await }))
        .await;
    match written {
        Ok(true) => view::redirect(&format!("/admin/member_lists/{}?done=saved", id.0)),
        Ok(false) => view::not_found("member list", signed.chrome(Nav::Members)),
        Err(e) => view::store_failure(&e),
    }
}

/// The identifiers of the add or remove form, one a line, blank lines skipped.
fn identifiers(form: &Form) -> Result<Vec<String>, &'static str> {
    let mut found: Vec<String> = form
        .get("identifiers")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    found.sort_unstable();
    found.dedup();
    match found.len() {
        0 => Err("can't be blank"),
        n if n > MAX_IDENTIFIERS => Err("are too many (at most 100 at a time)"),
        _ => Ok(found),
    }
}

/// `POST /admin/member_lists/{id}/members` (`csrf`, `identifiers`, `action=add|remove`):
/// every identifier must be a member of the account, or nothing is changed.
pub async fn change_members(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let (id, name) = match writable(&portal, &signed, &form, &raw).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let (op, done) = match form.get("action") {
        Some("remove") => (LinkOp::Remove, "removed"),
        _ => (LinkOp::Add, "added"),
    };
    let posted = form.get("identifiers").unwrap_or_default().to_owned();
    let refusal = |message: String| Shown {
        name: name.clone(),
        errors: FieldErrors::single("identifiers", &message),
        identifiers: posted.clone(),
        ..Shown::default()
    };
    let wanted = match identifiers(&form) {
        Ok(wanted) => wanted,
        Err(message) => return refused(&portal, &signed, id, refusal(message.to_owned())).await,
    };
    let found = match reads::ids_by_identifier(&portal.db, signed.session.account, &wanted).await {
        Ok(found) => found,
        Err(e) => return view::store_failure(&e),
    };
    let unknown: Vec<&str> =
        wanted.iter().filter(|w| !found.iter().any(|(f, _)| f == *w)).map(String::as_str).collect();
    if !unknown.is_empty() {
        let message = format!("name no member of the account: {}", unknown.join(", "));
        return refused(&portal, &signed, id, refusal(message)).await;
    }
    let ids: Vec<MemberId> = found.into_iter().map(|(_, id)| id).collect();
    match MEMBERS.apply_now(&portal.db, signed.session.account, id, op, &ids).await {
        Ok(LinkOutcome::Linked(_)) => view::redirect(&format!("/admin/member_lists/{}?done={done}", id.0)),
        Ok(LinkOutcome::OwnerNotFound) => view::not_found("member list", signed.chrome(Nav::Members)),
        Ok(LinkOutcome::UnknownTargets(unknown)) => {
            let list = unknown.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            refused(&portal, &signed, id, refusal(format!("name members that no longer exist: {list}"))).await
        }
        Err(e) => view::store_failure(&e),
    }
}
