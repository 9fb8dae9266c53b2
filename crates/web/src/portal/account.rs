//! `/admin/account`, for owners only (anyone else: 403 on every GET and POST, since the page
//! shows the account's users and callback address and every form on it is an owner's
//! decision): the API identity, key rotation (`accounts::rotate_to_new_key`, as `kindling
//! account rotate-key`), the callback settings (`AccountInput::into_changes` into
//! `accounts::update`, and `accounts::set_callbacks_enabled`, as `PUT /v1.0/account` and
//! its callback actions), and the portal's users (`portal::users`, whose `create` is `kindling
//! user create`'s).

use super::pages::param;
use super::session::{Form, Signed};
use super::view::{self, Nav};
use super::PortalState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::account::{AccountInput, CallbacksInput};
use kindling_domain::portal::{Access, AccessError, Role, PASSWORD_MIN_CHARS};
use kindling_domain::{FieldErrors, PortalUserId, StoreId};
use kindling_store::accounts;
use kindling_store::portal::codes::stores as store_choices;
use kindling_store::portal::users::{self, ChangeError, NewUserError};
use kindling_store::portal::CreateError;
use minijinja::{context, Value};

const OWNERS_ONLY: &str = "Only an owner of the account may see and change the account page.";

/// What one render of the page adds to the account's own state.
#[derive(Default)]
struct Extras {
    status: Option<StatusCode>,
    notice: Option<String>,
    /// The key just made, shown this once.
    new_key: Option<String>,
    /// A user just made and their one-time password.
    new_user: Option<(String, Option<String>)>,
    callback_errors: FieldErrors,
    callback_values: Option<(String, bool, String)>,
    user_errors: FieldErrors,
    user_values: Option<(String, String, Vec<String>)>,
    /// A role change or removal refused: the user's id and why.
    row_error: Option<(i64, String)>,
}

fn owner_only(signed: &Signed) -> Option<Response> {
    (signed.access.role() != Role::Owner).then(|| signed.forbidden(OWNERS_ONLY))
}

fn roles() -> Vec<Value> {
    Role::ALL.iter().map(|r| context! { value => r.as_str(), label => r.label() }).collect()
}

async fn render(portal: &PortalState, signed: &Signed, page: i64, extras: Extras) -> Response {
    let account = signed.session.account;
    let (found, listed, stores) = match tokio::try_join!(
        accounts::get(&portal.db, account),
        users::page(&portal.db, account, page),
        store_choices(&portal.db, account, None),
    ) {
        Ok(read) => read,
        Err(e) => return view::store_failure(&e),
    };
    let Some(found) = found else { return view::redirect("/admin/login") };
    let (url, enabled, zone) = extras.callback_values.clone().unwrap_or_else(|| {
        (
            found.credential_callback_url.clone().unwrap_or_default(),
            found.enable_callbacks,
            found.time_zone.clone().unwrap_or_default(),
        )
    });
    let (email, role, chosen) =
        extras.user_values.clone().unwrap_or_else(|| (String::new(), "viewer".into(), Vec::new()));
    let store_name =
        |id: StoreId| stores.iter().find(|s| s.id == id).map_or_else(|| format!("#{}", id.0), |s| s.name.clone());
    let user_rows: Vec<Value> = listed
        .users
        .iter()
        .map(|u| {
            context! {
                id => u.id.0,
                email => u.email,
                role => u.role.as_str(),
                role_label => u.role.label(),
                stores => u.stores.iter().map(|s| s.0).collect::<Vec<_>>(),
                store_names => u.stores.iter().map(|s| store_name(*s)).collect::<Vec<_>>().join(", "),
                yourself => u.id == signed.session.user,
                error => extras.row_error.as_ref().filter(|(id, _)| *id == u.id.0).map(|(_, e)| e.clone()),
            }
        })
        .collect();
    let pages = listed.pages();
    let ctx = context! {
        account => context! { id => found.id.0, name => found.name },
        new_key => extras.new_key,
        new_user => extras.new_user.map(|(email, password)| context! { email => email, password => password }),
        notice => extras.notice,
        cb => context! { url => url, enabled => enabled, time_zone => zone },
        cb_errors => extras.callback_errors,
        nu => context! { email => email, role => role, stores => chosen },
        nu_errors => extras.user_errors,
        roles => roles(),
        stores => stores.iter().map(|s| context! { id => s.id.0.to_string(), name => s.name, merchant => s.merchant_name }).collect::<Vec<_>>(),
        users => user_rows,
        total => listed.total,
        page => listed.page,
        pages => pages,
        prev => (listed.page > 1).then(|| format!("/admin/account?page={}", (listed.page - 1).min(pages))),
        next => (listed.page < pages).then(|| format!("/admin/account?page={}", listed.page + 1)),
        password_min => PASSWORD_MIN_CHARS,
        ..signed.chrome(Nav::Account)
    };
    view::html(extras.status.unwrap_or(StatusCode::OK), view::render("portal/account.html", ctx))
}

/// `GET /admin/account?page=&done=`.
pub async fn page(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    if let Some(refused) = owner_only(&signed) {
        return refused;
    }
    let page = param(query.as_deref(), "page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).max(1);
    let notice = match param(query.as_deref(), "done").as_deref() {
        Some("callbacks") => Some("Callback settings saved."),
        Some("role") => Some("Role changed. The user signs in again to use it."),
        Some("removed") => Some("User removed."),
        _ => None,
    };
    render(&portal, &signed, page, Extras { notice: notice.map(str::to_owned), ..Extras::default() }).await
}

/// The checks every POST here makes first: the CSRF token, then the role.
fn refusal(signed: &Signed, form: &Form) -> Option<Response> {
    signed.csrf_refusal(form).or_else(|| owner_only(signed))
}

/// `POST /admin/account/key`: a new API key, shown once on the page that answers (the old
/// one, and every token opened with it, stop working at once).
pub async fn rotate_key(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = refusal(&signed, &form) {
        return refused;
    }
    match accounts::rotate_to_new_key(&portal.db, signed.session.account).await {
        Ok(Some(key)) => render(&portal, &signed, 1, Extras { new_key: Some(key), ..Extras::default() }).await,
        Ok(None) => view::redirect("/admin/login"),
        Err(e) => view::store_failure(&e),
    }
}

/// `POST /admin/account/callbacks` (`credential_url`, `enable_callbacks`, `time_zone`): the
/// body of `PUT /v1.0/account` and its enable/disable actions.
pub async fn callbacks(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = refusal(&signed, &form) {
        return refused;
    }
    let url = form.get("credential_url").unwrap_or("").trim().to_owned();
    let enabled = form.get("enable_callbacks").is_some();
    let zone = form.get("time_zone").unwrap_or("").trim().to_owned();
    let input = AccountInput {
        callbacks: Some(CallbacksInput { credential_url: Some(url.clone()) }),
        time_zone: Some(zone.clone()),
    };
    let changes = match input.into_changes() {
        Ok(changes) => changes,
        Err(errors) => {
            let extras = Extras {
                status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                callback_errors: errors,
                callback_values: Some((url, enabled, zone)),
                ..Extras::default()
            };
            return render(&portal, &signed, 1, extras).await;
        }
    };
    let account = signed.session.account;
    let written = match accounts::update(&portal.db, account, changes).await {
        Ok(_) => accounts::set_callbacks_enabled(&portal.db, account, enabled).await,
        Err(e) => Err(e),
    };
    match written {
        Ok(_) => view::redirect("/admin/account?done=callbacks"),
        Err(e) => view::store_failure(&e),
    }
}

/// The store ids ticked in a form; anything that is not an id is refused by the store.
fn ticked(form: &Form) -> Result<Vec<StoreId>, ()> {
    form.all("store_id").iter().map(|s| s.trim().parse::<i64>().map(StoreId).map_err(drop)).collect()
}

/// `POST /admin/account/users` (`email`, `role`, `store_id` per ticked store): a user made
/// as `kindling user create` makes one, with a random password shown this once.
pub async fn create_user(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = refusal(&signed, &form) {
        return refused;
    }
    let email = form.get("email").unwrap_or("").trim().to_owned();
    let raw_role = form.get("role").unwrap_or("").to_owned();
    let values = (email.clone(), raw_role.clone(), form.all("store_id").to_vec());
    let refuse = |errors: FieldErrors| Extras {
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        user_errors: errors,
        user_values: Some(values.clone()),
        ..Extras::default()
    };
    let Some(role) = Role::parse(&raw_role) else {
        return render(&portal, &signed, 1, refuse(FieldErrors::single("role", "Choose a role."))).await;
    };
    let Ok(stores) = ticked(&form) else {
        return render(&portal, &signed, 1, refuse(FieldErrors::single("stores", "Choose stores from the list.")))
            .await;
    };
    let made = users::create(&portal.db, signed.session.account, &email, role, &stores, None).await;
    let (field, message) = match made {
        Ok((_, password)) => {
            let extras = Extras { new_user: Some((email.to_lowercase(), password)), ..Extras::default() };
            return render(&portal, &signed, 1, extras).await;
        }
        Err(NewUserError::BadEmail) => ("email", "Enter an email address (name@example.com).".to_owned()),
        Err(NewUserError::Access(AccessError::OperatorWithoutStores)) => {
            ("stores", "A store operator needs at least one store.".to_owned())
        }
        Err(NewUserError::Access(AccessError::StoresWithoutOperator)) => {
            ("stores", "Only a store operator has stores; untick them.".to_owned())
        }
        Err(NewUserError::Password(message)) => ("email", message),
        Err(NewUserError::Create(CreateError::DuplicateEmail)) => {
            ("email", "A portal user already signs in with this email.".to_owned())
        }
        Err(NewUserError::Create(CreateError::ForeignStores(_))) => {
            ("stores", "Choose stores of this account.".to_owned())
        }
        Err(NewUserError::Create(CreateError::UnknownAccount)) => return view::redirect("/admin/login"),
        Err(NewUserError::Create(CreateError::Store(e))) => return view::store_failure(&e),
    };
    render(&portal, &signed, 1, refuse(FieldErrors::single(field, &message))).await
}

fn user_id(raw: &str) -> Option<PortalUserId> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).map(PortalUserId)
}

/// A refused change as the page: 404 for a user not of the account, else 422 with the reason
/// on the user's row.
async fn change_refused(portal: &PortalState, signed: &Signed, user: PortalUserId, e: ChangeError) -> Response {
    let message = match e {
        ChangeError::NotFound => return view::not_found("user", signed.chrome(Nav::Account)),
        ChangeError::Store(e) => return view::store_failure(&e),
        ChangeError::Yourself => "You cannot change or remove yourself; ask another owner.",
        ChangeError::LastOwner => "The account needs an owner; make another user owner first.",
        ChangeError::ForeignStores(_) => "Choose stores of this account.",
    };
    row_refused(portal, signed, user, message).await
}

/// The page again, 422, with `message` on the user's row.
async fn row_refused(portal: &PortalState, signed: &Signed, user: PortalUserId, message: &str) -> Response {
    let extras = Extras {
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        row_error: Some((user.0, message.to_owned())),
        ..Extras::default()
    };
    render(portal, signed, 1, extras).await
}

/// `POST /admin/account/users/{id}/role` (`role`, `store_id` per ticked store).
pub async fn change_role(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = refusal(&signed, &form) {
        return refused;
    }
    let Some(user) = user_id(&id) else { return view::not_found("user", signed.chrome(Nav::Account)) };
    let access = match (form.get("role").and_then(Role::parse), ticked(&form)) {
        (Some(role), Ok(stores)) => Access::new(role, &stores).map_err(|e| match e {
            AccessError::OperatorWithoutStores => "A store operator needs at least one store.",
            AccessError::StoresWithoutOperator => "Only a store operator has stores.",
        }),
        _ => Err("Choose a role (and a store operator's stores) from the lists."),
    };
    let access = match access {
        Ok(access) => access,
        Err(message) => return row_refused(&portal, &signed, user, message).await,
    };
    match users::change_role(&portal.db, signed.session.account, signed.session.user, user, access).await {
        Ok(()) => view::redirect("/admin/account?done=role"),
        Err(e) => change_refused(&portal, &signed, user, e).await,
    }
}

/// `POST /admin/account/users/{id}/remove`.
pub async fn remove_user(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = refusal(&signed, &form) {
        return refused;
    }
    let Some(user) = user_id(&id) else { return view::not_found("user", signed.chrome(Nav::Account)) };
    match users::remove(&portal.db, signed.session.account, signed.session.user, user).await {
        Ok(()) => view::redirect("/admin/account?done=removed"),
        Err(e) => change_refused(&portal, &signed, user, e).await,
    }
}
