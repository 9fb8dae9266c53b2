//! `/admin/channels`: the account's channels (paged, searched by name), the create and edit
//! forms, a **test callback** and the channel's **delivery log**. Writes are the API's:
//! `ChannelInput::into_new` / `into_changes` and `channels::values` into `crud::insert` /
//! `crud::update`, as `POST/PUT /v1.0/channels`. The test callback is queued in the
//! callback outbox (`portal::channels::queue_test_callback`) and delivered by the callback
//! worker, which vets its address as it does every callback's.

use super::merchants::path_id;
use super::pages::{param, shown, ACCOUNT_PAGES};
use super::paging::{self, PER_PAGE};
use super::session::{Form, Signed};
use super::view::{self, Nav};
use super::PortalState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::offers::channel::{Channel, ChannelInput};
use kindling_domain::paging::PageRequest;
use kindling_domain::{ChannelId, FieldErrors, Timestamp};
use kindling_store::crud::{self, Filter, Order};
use kindling_store::offers::channels::{self, Channels};
use kindling_store::portal::channels::{self as log, TestCallback};
use minijinja::{context, Value};

/// `GET /admin/channels?q=&page=`: by name, 50 a page (two statements).
pub async fn list(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let q: String = param(query.as_deref(), "q").unwrap_or_default().trim().chars().take(255).collect();
    let page = paging::requested(query.as_deref());
    let filters: Vec<Filter> = if q.is_empty() { Vec::new() } else { vec![Filter::Contains("name", q.clone())] };
    let order = [("name", Order::Asc), ("id", Order::Asc)];
    let request = PageRequest { page: page as u32, per_page: PER_PAGE as u32 };
    let found = match crud::list_ordered::<Channels>(&portal.db, signed.session.account, &[], &filters, &order, request)
        .await
    {
        Ok(found) => found,
        Err(e) => return view::store_failure(&e),
    };
    let rows: Vec<Value> = found
        .items
        .iter()
        .map(|c| context! { id => c.id.0, name => c.name, callback_url => c.conversion_callback_url })
        .collect();
    let ctx = context! {
        q => q,
        channels => rows,
        p => paging::pager("/admin/channels", &[("q", &q)], page, found.total_entries),
        ..signed.chrome(Nav::Channels)
    };
    view::html(StatusCode::OK, view::render("portal/channels.html", ctx))
}

/// The form's values: as posted, or as stored.
struct Values {
    name: String,
    conversion_callback_url: String,
    allow_sms_keyword: bool,
    allow_hmac: bool,
}

impl Values {
    fn of(c: &Channel) -> Self {
        Self {
            name: c.name.clone(),
            conversion_callback_url: c.conversion_callback_url.clone().unwrap_or_default(),
            allow_sms_keyword: c.allow_sms_keyword,
            allow_hmac: c.allow_hmac,
        }
    }

    fn posted(form: &Form) -> Self {
        Self {
            name: form.get("name").unwrap_or_default().to_owned(),
            conversion_callback_url: form.get("conversion_callback_url").unwrap_or_default().trim().to_owned(),
            allow_sms_keyword: form.get("allow_sms_keyword").is_some(),
            allow_hmac: form.get("allow_hmac").is_some(),
        }
    }

    /// The API's input: a blank URL is `""`, which clears it on edit (and sets none on create).
    fn input(&self) -> ChannelInput {
        ChannelInput {
            name: Some(self.name.clone()),
            allow_sms_keyword: Some(self.allow_sms_keyword),
            allow_hmac: Some(self.allow_hmac),
            conversion_callback_url: Some(self.conversion_callback_url.clone()),
        }
    }
}

/// What the channel page shows besides the form: its delivery log, a notice or an error.
#[derive(Default)]
struct Extras {
    log: Option<Value>,
    notice: Option<String>,
    error: Option<String>,
}

fn form_page(
    signed: &Signed,
    status: StatusCode,
    id: Option<i64>,
    values: &Values,
    errors: &FieldErrors,
    extras: Extras,
) -> Response {
    let error = |field: &str| errors.get(field).map(str::to_owned);
    let ctx = context! {
        id => id,
        v => context! {
            name => values.name,
            conversion_callback_url => values.conversion_callback_url,
            allow_sms_keyword => values.allow_sms_keyword,
            allow_hmac => values.allow_hmac,
        },
        errors => context! {
            name => error("name"),
            conversion_callback_url => error("conversion_callback_url"),
        },
        invalid => !errors.is_empty(),
        log => extras.log,
        notice => extras.notice,
        error => extras.error,
        ..signed.chrome(Nav::Channels)
    };
    view::html(status, view::render("portal/channel.html", ctx))
}

/// `GET /admin/channels/new`.
pub async fn new(signed: Signed) -> Response {
    if !signed.access.can_edit() {
        return signed.refuse_writing();
    }
    let values = Values {
        name: String::new(),
        conversion_callback_url: String::new(),
        allow_sms_keyword: false,
        allow_hmac: false,
    };
    form_page(&signed, StatusCode::OK, None, &values, &FieldErrors::new(), Extras::default())
}

/// `POST /admin/channels` (`csrf`, `name`, `conversion_callback_url`, `allow_sms_keyword`, `allow_hmac`).
pub async fn create(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.write_refusal(&form) {
        return refused;
    }
    let values = Values::posted(&form);
    let changes = match values.input().into_new() {
        Ok(changes) => changes,
        Err(errors) => {
            return form_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, None, &values, &errors, Extras::default())
        }
    };
    let account = signed.session.account;
    let written = portal
        .db
        .transaction(move |tx| {
            Box::pin(async move { crud::insert::<Channels>(tx, account, channels::values(changes)).await })
        })
        .await;
    match written {
        Ok(id) => view::redirect(&format!("/admin/channels/{}?done=created", id.0)),
        Err(e) => view::store_failure(&e),
    }
}

async fn load(portal: &PortalState, signed: &Signed, raw: &str) -> Result<Channel, Response> {
    let Some(id) = path_id(raw) else {
        return Err(view::not_found("channel", signed.chrome(Nav::Channels)));
    };
    match crud::get::<Channels>(&portal.db, signed.session.account, &[], ChannelId(id)).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(view::not_found("channel", signed.chrome(Nav::Channels))),
        Err(e) => Err(view::store_failure(&e)),
    }
}

/// The delivery log's page `page` as the template shows it.
async fn delivery_log(portal: &PortalState, signed: &Signed, channel: ChannelId, page: i64) -> Result<Value, Response> {
    let account = signed.session.account;
    let (rows, total) = log::deliveries(&portal.db, account, channel, PER_PAGE, paging::offset(page))
        .await
        .map_err(|e| view::store_failure(&e))?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|d| {
            context! {
                id => d.id,
                event => d.kind.map_or("other", |k| k.as_str()),
                url => d.url,
                status => d.status.as_str(),
                attempts => d.attempts,
                last_status_code => d.last_status_code,
                last_error => d.last_error,
                created_at => shown(d.created_at),
                settled_at => d.settled_at.map(shown),
                next_attempt_at => (d.settled_at.is_none() && d.attempts > 0).then(|| shown(d.next_attempt_at)),
            }
        })
        .collect();
    let path = format!("/admin/channels/{}", channel.0);
    Ok(context! { rows => rows, p => paging::pager(&path, &[], page, total) })
}

/// `GET /admin/channels/{id}?page=`: the edit form (owners, editors) or the channel
/// (viewers), the test callback button and the delivery log.
pub async fn show(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let channel = match load(&portal, &signed, &raw).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let notice = match param(query.as_deref(), "done").as_deref() {
        Some("created") => Some("The channel was created."),
        Some("saved") => Some("The channel was saved."),
        Some("test") => Some("A test callback was queued; it appears in the delivery log below."),
        _ => None,
    };
    let log = match delivery_log(&portal, &signed, channel.id, paging::requested(query.as_deref())).await {
        Ok(log) => log,
        Err(answer) => return answer,
    };
    let extras = Extras { log: Some(log), notice: notice.map(str::to_owned), error: None };
    form_page(&signed, StatusCode::OK, Some(channel.id.0), &Values::of(&channel), &FieldErrors::new(), extras)
}

/// `POST /admin/channels/{id}`: the edit form.
pub async fn update(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.write_refusal(&form) {
        return refused;
    }
    let channel = match load(&portal, &signed, &raw).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let values = Values::posted(&form);
    let changes = match values.input().into_changes() {
        Ok(changes) => changes,
        Err(errors) => {
            let log = match delivery_log(&portal, &signed, channel.id, 1).await {
                Ok(log) => log,
                Err(answer) => return answer,
            };
            let extras = Extras { log: Some(log), ..Extras::default() };
            return form_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, Some(channel.id.0), &values, &errors, extras);
        }
    };
    let (account, id) = (signed.session.account, channel.id);
    let written = portal
        .db
        .transaction(move |tx| {
            Box::pin(async move { crud::update::<Channels>(tx, account, &[], id, channels::values(changes)).await })
        })
        .await;
    match written {
        Ok(true) => view::redirect(&format!("/admin/channels/{}?done=saved", id.0)),
        Ok(false) => view::not_found("channel", signed.chrome(Nav::Channels)),
        Err(e) => view::store_failure(&e),
    }
}

/// `POST /admin/channels/{id}/test`: queues a test callback to the channel's callback URL.
pub async fn test_callback(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.write_refusal(&form) {
        return refused;
    }
    let Some(id) = path_id(&raw).map(ChannelId) else {
        return view::not_found("channel", signed.chrome(Nav::Channels));
    };
    match log::queue_test_callback(&portal.db, signed.session.account, id, Timestamp::now()).await {
        Ok(TestCallback::Queued(_)) => view::redirect(&format!("/admin/channels/{}?done=test", id.0)),
        Ok(TestCallback::NotFound) => view::not_found("channel", signed.chrome(Nav::Channels)),
        Ok(TestCallback::NoUrl) => {
            let channel = match load(&portal, &signed, &raw).await {
                Ok(c) => c,
                Err(answer) => return answer,
            };
            let log = match delivery_log(&portal, &signed, channel.id, 1).await {
                Ok(log) => log,
                Err(answer) => return answer,
            };
            let error = "This channel has no callback URL: set one and save, then send a test callback.";
            let extras = Extras { log: Some(log), notice: None, error: Some(error.to_owned()) };
            form_page(
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(channel.id.0),
                &Values::of(&channel),
                &FieldErrors::new(),
                extras,
            )
        }
        Err(e) => view::store_failure(&e),
    }
}
