//! One offer: the create and edit forms, its page (details, status, the approve / suspend /
//! archive actions and its **Publishing Channels**), and a small form for a new channel.
//!
//! Every write is the API's: the forms become the body `POST/PUT /v1.0/offers` take and go
//! through `offers::write::{create, modify}` with `validate` (the same validation, POS rule
//! check and write; the rule's part is `offer_rule`'s); the actions through `offers::write::transition` (`OfferStatus::can_become`); the
//! channels through `offers::offer::CHANNELS`' replace, as `POST /v1.0/offers/{id}/channels`;
//! a new channel through `ChannelInput::into_new` and `crud::insert`, as `POST
//! /v1.0/channels`. Owners and editors write; viewers see the page without forms.

use super::merchants::path_id;
use super::offer_rule;
use super::pages::{param, shown, ACCOUNT_PAGES};
use super::session::{Form, Signed};
use super::view::{self, Nav};
use super::PortalState;
use crate::render;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kindling_domain::landing::View;
use kindling_domain::offers::channel::ChannelInput;
use kindling_domain::offers::offer::{is_active, Offer};
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::pos::rule::OfferType;
use kindling_domain::{AccountId, ChannelId, FieldErrors, OfferId, Timestamp};
use kindling_store::catalog::{merchants::Merchants, store_lists::StoreLists};
use kindling_store::crud;
use kindling_store::crud::Table;
use kindling_store::landing::Page;
use kindling_store::link_set::{LinkOp, LinkOutcome, LinkSet};
use kindling_store::offers::channels::{self, Channels};
use kindling_store::offers::member_lists::MemberLists;
use kindling_store::offers::offer::{Offers, CHANNELS, MEMBER_LISTS, MERCHANTS, STORE_LISTS};
use kindling_store::offers::write::{self, OfferWriteError};
use kindling_store::portal::catalog::item_set_names;
use kindling_store::portal::choices::{self, Choice};
use minijinja::{context, Value};
use serde_json::{Map, Value as Json};

/// The form's fields, in order: the body keys of `POST /v1.0/offers` they fill.
const TEXT_FIELDS: [&str; 4] = ["name", "description", "pos_offer_code", "terms_and_conditions"];
/// Free text: kept as typed, spaces and all (the API's rules judge it).
const FREE_TEXT: [&str; 6] =
    ["name", "description", "terms_and_conditions", "instructions", "extra_content", "custom_credential_content"];
/// The `formatting` options the landing page shows (docs/LANDING.md), each a form field of
/// the same name; the API names their errors `formatting.<key>`.
const FORMAT_TEXT: [&str; 8] = [
    "short_name",
    "bg_color",
    "bg_image",
    "web_url",
    "mobile_url",
    "instructions",
    "extra_content",
    "custom_credential_content",
];
/// The landing page's `formatting` switches (checkboxes).
const FORMAT_FLAGS: [&str; 2] = ["in_store_only", "no_printable"];
const NUMBER_FIELDS: [&str; 7] = [
    "reward_item_value",
    "max_redemptions",
    "max_redemptions_per_member",
    "max_redemptions_per_member_per_day",
    "max_amount",
    "min_spend_amount",
    "trigger_amount",
];
const TIME_FIELDS: [&str; 3] = ["activates_at", "expires_at", "stop_offering_at"];
/// Every field a form shows an error next to.
const ALL_FIELDS: [&str; 16] = [
    "name",
    "description",
    "terms_and_conditions",
    "merchant_id",
    "offer_type",
    "reward_item_value",
    "pos_offer_code",
    "activates_at",
    "expires_at",
    "stop_offering_at",
    "max_redemptions",
    "max_redemptions_per_member",
    "max_redemptions_per_member_per_day",
    "max_amount",
    "min_spend_amount",
    "trigger_amount",
];

/// The form's values as text: posted, or from the stored offer.
#[derive(Default)]
struct Values(Map<String, Json>);

impl Values {
    fn posted(form: &Form) -> Self {
        let mut values = Map::new();
        for field in ALL_FIELDS.into_iter().chain(FORMAT_TEXT).chain(offer_rule::FIELDS) {
            let raw = form.get(field).unwrap_or_default();
            // Free text keeps its spaces (the API's rules judge it); the rest is trimmed.
            let raw = if FREE_TEXT.contains(&field) { raw } else { raw.trim() };
            values.insert(field.to_owned(), raw.into());
        }
        for flag in FORMAT_FLAGS.into_iter().chain([offer_rule::DEPLETED]) {
            values.insert(flag.to_owned(), Json::Bool(form.get(flag).is_some()));
        }
        Self(values)
    }

    fn of(offer: &Offer) -> Self {
        let mut values = Map::new();
        let column = |key: &str| match offer.columns.get(key) {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        for field in TEXT_FIELDS.into_iter().chain(NUMBER_FIELDS).chain(["offer_type"]) {
            values.insert(field.to_owned(), column(field).into());
        }
        values.insert("merchant_id".into(), offer.merchant_id.map(|m| m.to_string()).unwrap_or_default().into());
        let window = &offer.window;
        let times = [
            ("activates_at", window.activates_at),
            ("expires_at", window.expires_at),
            ("stop_offering_at", window.stop_offering_at),
        ];
        for (field, at) in times {
            values.insert(field.to_owned(), at.map(local_input).unwrap_or_default().into());
        }
        for key in FORMAT_TEXT {
            let text = offer.formatting.get(key).and_then(Json::as_str).unwrap_or_default();
            values.insert(key.to_owned(), text.into());
        }
        for flag in FORMAT_FLAGS {
            values.insert(flag.to_owned(), Json::Bool(offer.formatting.get(flag) == Some(&Json::Bool(true))));
        }
        offer_rule::stored_values(offer, &mut values);
        Self(values)
    }

    /// The API's body for these values. On create a blank field is left out (the API's
    /// defaults); on edit it clears the value (`null`), except the name, whose blank is the
    /// API's "can't be blank".
    ///
    /// The formatting options go in `formatting`, which the API merges key by key: a blank
    /// text or an unticked switch removes its key (`null`). The rule's fields are
    /// `offer_rule::add_to_body`'s (on edit its `criteria` is a patch for `offer_rule::merged`).
    fn body(&self, create: bool) -> Map<String, Json> {
        let mut body = Map::new();
        let mut formatting = Map::new();
        for (field, value) in &self.0 {
            if offer_rule::FIELDS.contains(&field.as_str()) || field == offer_rule::DEPLETED {
                continue;
            }
            if FORMAT_TEXT.contains(&field.as_str()) || FORMAT_FLAGS.contains(&field.as_str()) {
                let set = match value {
                    Json::Bool(on) => *on,
                    other => !other.as_str().unwrap_or_default().trim().is_empty(),
                };
                if set {
                    formatting.insert(field.clone(), value.clone());
                } else if !create {
                    formatting.insert(field.clone(), Json::Null);
                }
                continue;
            }
            let text = value.as_str().unwrap_or_default();
            let blank = text.trim().is_empty();
            let value = match field.as_str() {
                "name" => Json::from(text),
                _ if blank && create => continue,
                "offer_type" if blank => continue,
                _ if blank => Json::Null,
                f if TIME_FIELDS.contains(&f) => Json::from(api_time(text)),
                _ => Json::from(text),
            };
            body.insert(field.clone(), value);
        }
        if !formatting.is_empty() {
            body.insert("formatting".into(), Json::Object(formatting));
        }
        offer_rule::add_to_body(&self.0, create, &mut body);
        body
    }

    fn text(&self, field: &str) -> Option<String> {
        self.0.get(field).and_then(Json::as_str).filter(|s| !s.trim().is_empty()).map(str::to_owned)
    }

    /// The landing page these unsaved values would make, as `GET /{xid}` renders it
    /// (`render::frame`, the same template), with a sample code in the visitor's place.
    fn preview(&self, account: AccountId, merchants: &[Choice]) -> String {
        let merchant_id = self.text("merchant_id").and_then(|m| m.parse::<i64>().ok());
        let mut formatting = Map::new();
        for key in FORMAT_TEXT {
            if let Some(text) = self.text(key) {
                formatting.insert(key.to_owned(), text.into());
            }
        }
        for flag in FORMAT_FLAGS {
            if self.0.get(flag) == Some(&Json::Bool(true)) {
                formatting.insert(flag.to_owned(), Json::Bool(true));
            }
        }
        let page = Page {
            account_id: account,
            offer_id: OfferId(0),
            channel_id: ChannelId(0),
            channel_name: String::new(),
            xid: String::new(),
            security: None,
            security_key: None,
            allow_hmac: false,
            allow_return_later: true,
            name: self.text("name").unwrap_or_default(),
            description: self.text("description"),
            terms_and_conditions: self.text("terms_and_conditions"),
            merchant_name: merchant_id.and_then(|id| merchants.iter().find(|m| m.id == id)).map(|m| m.name.clone()),
            status: OfferStatus::Approved,
            window: (None, None, None),
            formatting: Json::Object(formatting).to_string(),
            supports_barcode: false,
        };
        let view = View::choose(None, self.0.get("no_printable") == Some(&Json::Bool(true)));
        render::frame(&page, view).with_code(&render::shown_code("PREVIEW", view, false, &page, false))
    }
}

/// A `datetime-local` input's value (`2026-11-30T09:15`, no seconds) as the API's naive
/// date-time, taken as UTC as the form says.
pub(super) fn api_time(input: &str) -> String {
    if input.len() == 16 {
        format!("{input}:00")
    } else {
        input.to_owned()
    }
}

/// A time as a `datetime-local` input shows it (UTC, to the minute).
pub(super) fn local_input(t: Timestamp) -> String {
    t.to_string().chars().take(16).collect()
}

fn type_name(code: i64) -> String {
    OfferType::ALL.iter().find(|t| t.code() == code).map_or_else(|| format!("type {code}"), |t| t.name().to_owned())
}

/// What the forms' selects offer: the account's merchants and item sets (the first 500 of
/// each by name; two statements).
struct FormChoices {
    merchants: Vec<Choice>,
    item_sets: Vec<Choice>,
}

/// The choices as a select's options, with an option for a chosen id beyond the first 500
/// (`chosen`: the value the field has) so an edit never drops it unseen.
fn options(choices: &[Choice], chosen: Option<&str>) -> Vec<Value> {
    let mut options: Vec<Value> = choices.iter().map(|c| context! { id => c.id.to_string(), name => c.name }).collect();
    if let Some(id) = chosen.filter(|id| !id.is_empty() && !choices.iter().any(|c| c.id.to_string() == *id)) {
        options.push(context! { id => id, name => format!("#{id}") });
    }
    options
}

/// The create (`id` None) or edit form.
#[allow(clippy::too_many_arguments)]
fn form_page(
    signed: &Signed,
    status: StatusCode,
    id: Option<i64>,
    values: &Values,
    choices: &FormChoices,
    errors: &FieldErrors,
    rule: Option<&str>,
    preview: Option<String>,
) -> Response {
    let mut field_errors = Map::new();
    let shown = |f: &str| {
        ALL_FIELDS.contains(&f)
            || offer_rule::FIELDS.contains(&f)
            || f.strip_prefix("formatting.").is_some_and(|k| FORMAT_TEXT.contains(&k) || FORMAT_FLAGS.contains(&k))
    };
    for (field, message) in errors.iter() {
        if shown(field) {
            let field = field.strip_prefix("formatting.").unwrap_or(field);
            field_errors.insert(field.to_owned(), message.into());
        }
    }
    // Errors on fields the form does not have (none expected) still show, at the top.
    let other: Vec<String> = errors.iter().filter(|(f, _)| !shown(f)).map(|(f, m)| format!("{f} {m}")).collect();
    let chosen = |field: &str| values.0.get(field).and_then(Json::as_str);
    let ctx: Value = context! {
        id => id,
        v => Value::from_serialize(&values.0),
        merchants => options(&choices.merchants, None),
        required_sets => options(&choices.item_sets, chosen("required_item_set_id")),
        redemption_sets => options(&choices.item_sets, chosen("redemption_item_set_id")),
        types => OfferType::ALL.iter().map(|t| context! {
            code => t.code().to_string(), name => t.name(), explanation => offer_rule::explanation(*t),
        }).collect::<Vec<_>>(),
        errors => Value::from_serialize(&field_errors),
        other => other,
        rule => rule,
        // Not `invalid`: the template's macro of that name would hide it (always true).
        refused => !errors.is_empty() || rule.is_some(),
        preview => preview,
        ..signed.chrome(Nav::Offers)
    };
    view::html(status, view::render("portal/offer_form.html", ctx))
}

async fn form_choices(portal: &PortalState, signed: &Signed) -> Result<FormChoices, Response> {
    let account = signed.session.account;
    match (choices::merchants(&portal.db, account).await, choices::item_sets(&portal.db, account).await) {
        (Ok(merchants), Ok(item_sets)) => Ok(FormChoices { merchants, item_sets }),
        (Err(e), _) | (_, Err(e)) => Err(view::store_failure(&e)),
    }
}

/// `GET /admin/offers/new`.
pub async fn new(State(portal): State<PortalState>, signed: Signed) -> Response {
    if !signed.access.can_edit() {
        return signed.refuse_writing();
    }
    let choices = match form_choices(&portal, &signed).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let mut values = Values::default();
    values.0.insert("offer_type".into(), "0".into());
    form_page(&signed, StatusCode::OK, None, &values, &choices, &FieldErrors::new(), None, None)
}

/// A refused write as the form again, with the posted values; anything else as its page.
/// A refused rule shows next to its field when the form has it, and in words at the top.
async fn refused_form(
    portal: &PortalState,
    signed: &Signed,
    id: Option<i64>,
    values: &Values,
    e: OfferWriteError,
) -> Response {
    let (errors, rule) = match e {
        OfferWriteError::Invalid(errors) => (errors, None),
        OfferWriteError::Rule(refusal) => {
            let mut errors = FieldErrors::new();
            if let Some(field) = offer_rule::field_of(&refusal.field) {
                errors.add(&field, &refusal.problem);
            }
            (errors, Some(refusal.to_string()))
        }
        OfferWriteError::NotFound => return view::not_found("offer", signed.chrome(Nav::Offers)),
        OfferWriteError::Store(e) => return view::store_failure(&e),
    };
    let choices = match form_choices(portal, signed).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    form_page(signed, StatusCode::UNPROCESSABLE_ENTITY, id, values, &choices, &errors, rule.as_deref(), None)
}

/// The Preview button: the form again with the landing page its values would make. Nothing
/// is written.
async fn preview_page(portal: &PortalState, signed: &Signed, id: Option<i64>, values: &Values) -> Response {
    let choices = match form_choices(portal, signed).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let preview = values.preview(signed.session.account, &choices.merchants);
    form_page(signed, StatusCode::OK, id, values, &choices, &FieldErrors::new(), None, Some(preview))
}

/// `GET /admin/offer_preview.js`: the offer form's live preview (written here, small; the
/// form works without it). The same for everyone, so no session is needed.
pub async fn preview_script() -> Response {
    const SCRIPT: &str = include_str!("../../static/offer_preview.js");
    let headers = [
        (CONTENT_TYPE, "text/javascript; charset=utf-8"),
        (CACHE_CONTROL, "no-cache"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (headers, SCRIPT).into_response()
}

/// `POST /admin/offers`: the new offer's form.
pub async fn create(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.write_refusal(&form) {
        return refused;
    }
    let values = Values::posted(&form);
    if form.get("preview").is_some() {
        return preview_page(&portal, &signed, None, &values).await;
    }
    match write::create(&portal.db, signed.session.account, values.body(true)).await {
        Ok(id) => view::redirect(&format!("/admin/offers/{}?done=created", id.0)),
        Err(e) => refused_form(&portal, &signed, None, &values, e).await,
    }
}

async fn load(portal: &PortalState, signed: &Signed, raw: &str) -> Result<Offer, Response> {
    let Some(id) = path_id(raw) else {
        return Err(view::not_found("offer", signed.chrome(Nav::Offers)));
    };
    match crud::get::<Offers>(&portal.db, signed.session.account, &[], OfferId(id)).await {
        Ok(Some(offer)) => Ok(offer),
        Ok(None) => Err(view::not_found("offer", signed.chrome(Nav::Offers))),
        Err(e) => Err(view::store_failure(&e)),
    }
}

/// `GET /admin/offers/{id}/edit`.
pub async fn edit(State(portal): State<PortalState>, signed: Signed, Path(raw): Path<String>) -> Response {
    if !signed.access.can_edit() {
        return signed.refuse_writing();
    }
    let offer = match load(&portal, &signed, &raw).await {
        Ok(o) => o,
        Err(answer) => return answer,
    };
    let choices = match form_choices(&portal, &signed).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let values = Values::of(&offer);
    form_page(&signed, StatusCode::OK, Some(offer.id.0), &values, &choices, &FieldErrors::new(), None, None)
}

/// `POST /admin/offers/{id}`: the edit form. Written as `PUT /v1.0/offers/{id}` writes
/// (`write::modify` with `write::validate`), with the form's criteria keys merged into the
/// offer's `criteria` as the write finds it, so keys the form does not show are kept.
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
    let Some(id) = path_id(&raw) else {
        return view::not_found("offer", signed.chrome(Nav::Offers));
    };
    let values = Values::posted(&form);
    if form.get("preview").is_some() {
        // Only the account's own offers are previewed (another's id is a 404, as a save).
        if let Err(answer) = load(&portal, &signed, &raw).await {
            return answer;
        }
        return preview_page(&portal, &signed, Some(id), &values).await;
    }
    let body = values.body(false);
    let saved = write::modify(&portal.db, signed.session.account, OfferId(id), move |current| {
        // Merged into a copy: the change runs again if PostgreSQL refuses the write as busy.
        let mut body = body.clone();
        if let Some(Json::Object(patch)) = body.get("criteria") {
            let criteria = offer_rule::merged(&current.criteria, patch);
            body.insert("criteria".into(), Json::Object(criteria));
        }
        write::validate(&body, Some(current))
    })
    .await;
    match saved {
        Ok(()) => view::redirect(&format!("/admin/offers/{id}?done=saved")),
        Err(e) => refused_form(&portal, &signed, Some(id), &values, e).await,
    }
}

/// The offer's page, with a notice or an error.
async fn offer_page(
    portal: &PortalState,
    signed: &Signed,
    offer: &Offer,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let account = signed.session.account;
    let (merchants, channels, member_lists, store_lists) = match (
        choices::merchants(&portal.db, account).await,
        choices::channels(&portal.db, account).await,
        choices::member_lists(&portal.db, account).await,
        choices::store_lists(&portal.db, account).await,
    ) {
        (Ok(m), Ok(c), Ok(ml), Ok(sl)) => (m, c, ml, sl),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => return view::store_failure(&e),
    };
    let set_names = match item_set_names(&portal.db, account, offer_rule::set_ids(offer).into_iter()).await {
        Ok(names) => names,
        Err(e) => return view::store_failure(&e),
    };
    // Checkboxes of the account's choices, ticked when linked.
    let boxes = |choices: &[Choice], linked: &[i64]| {
        choices
            .iter()
            .map(|c| context! { id => c.id, name => c.name, linked => linked.contains(&c.id) })
            .collect::<Vec<_>>()
    };
    let linked_member_lists: Vec<i64> = offer.links.member_list_ids.iter().map(|i| i.0).collect();
    let linked_store_lists: Vec<i64> = offer.links.store_list_ids.iter().map(|i| i.0).collect();
    let linked_merchants: Vec<i64> = offer.links.merchant_ids.iter().map(|i| i.0).collect();
    let linked: Vec<(i64, String)> = offer
        .links
        .channels
        .iter()
        .filter_map(|c| {
            let c = &c["channel"];
            Some((c["id"].as_i64()?, c["xid"].as_str().unwrap_or_default().to_owned()))
        })
        .collect();
    let column = |key: &str| match offer.columns.get(key) {
        Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Json::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let merchant = offer
        .merchant_id
        .map(|id| merchants.iter().find(|m| m.id == id).map_or_else(|| format!("#{id}"), |m| m.name.clone()));
    let actions: Vec<_> =
        [("approve", OfferStatus::Approved), ("suspend", OfferStatus::Suspended), ("archive", OfferStatus::Archived)]
            .into_iter()
            .filter(|(_, next)| *next != offer.status && offer.status.can_become(*next))
            .map(|(action, _)| action)
            .collect();
    let ctx = context! {
        o => context! {
            id => offer.id.0,
            name => column("name"),
            description => column("description"),
            status => offer.status.as_str(),
            active => is_active(offer.status, &offer.window, Timestamp::now()),
            merchant => merchant,
            offer_type => offer.columns.get("offer_type").and_then(Json::as_i64).map(type_name),
            reward_item_value => column("reward_item_value"),
            pos_offer_code => column("pos_offer_code"),
            starts => offer.window.activates_at.map(shown),
            ends => offer.window.expires_at.map(shown),
            max_redemptions => column("max_redemptions"),
            max_redemptions_per_member => column("max_redemptions_per_member"),
            created_at => shown(offer.created_at),
        },
        rule => offer_rule::summary(offer, &set_names),
        actions => actions,
        channels => channels.iter().map(|c| {
            let xid = linked.iter().find(|(id, _)| *id == c.id).map(|(_, xid)| xid.clone());
            context! { id => c.id, name => c.name, linked => xid.is_some(), xid => xid }
        }).collect::<Vec<_>>(),
        member_lists => boxes(&member_lists, &linked_member_lists),
        store_lists => boxes(&store_lists, &linked_store_lists),
        eligible_merchants => boxes(&merchants, &linked_merchants),
        notice => notice,
        error => error,
        ..signed.chrome(Nav::Offers)
    };
    view::html(status, view::render("portal/offer.html", ctx))
}

/// `GET /admin/offers/{id}`.
pub async fn show(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let offer = match load(&portal, &signed, &raw).await {
        Ok(o) => o,
        Err(answer) => return answer,
    };
    let notice = match param(query.as_deref(), "done").as_deref() {
        Some("created") => Some("The offer was created. It is pending: approve it when it is ready."),
        Some("saved") => Some("The offer was saved."),
        Some("approved") => Some("The offer was approved."),
        Some("suspended") => Some("The offer was suspended."),
        Some("archived") => Some("The offer was archived."),
        Some("channels") => Some("The publishing channels were saved."),
        Some("channel") => Some("The channel was created. Tick it to publish the offer on it."),
        Some("member_lists") => Some("The member lists were saved."),
        Some("store_lists") => Some("The store lists were saved."),
        Some("merchants") => Some("The eligible merchants were saved."),
        _ => None,
    };
    offer_page(&portal, &signed, &offer, StatusCode::OK, notice, None).await
}

/// The checks every POST of the offer page makes first: CSRF, the role, and the offer.
async fn writable(portal: &PortalState, signed: &Signed, form: &Form, raw: &str) -> Result<Offer, Response> {
    if let Some(refused) = signed.write_refusal(form) {
        return Err(refused);
    }
    load(portal, signed, raw).await
}

/// `POST /admin/offers/{id}/status` (`action`: approve, suspend or archive).
pub async fn action(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let offer = match writable(&portal, &signed, &form, &raw).await {
        Ok(o) => o,
        Err(answer) => return answer,
    };
    let (next, done) = match form.get("action") {
        Some("approve") => (OfferStatus::Approved, "approved"),
        Some("suspend") => (OfferStatus::Suspended, "suspended"),
        Some("archive") => (OfferStatus::Archived, "archived"),
        _ => return offer_page(&portal, &signed, &offer, StatusCode::BAD_REQUEST, None, Some("Unknown action.")).await,
    };
    match write::transition(&portal.db, signed.session.account, offer.id, next).await {
        Ok(()) => view::redirect(&format!("/admin/offers/{}?done={done}", offer.id.0)),
        Err(OfferWriteError::Invalid(errors)) => {
            let message = errors.get("status").map_or_else(|| errors.summary(), str::to_owned);
            let text = format!("The offer could not be changed: status {message}.");
            offer_page(&portal, &signed, &offer, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&text)).await
        }
        Err(OfferWriteError::Rule(refusal)) => {
            let message = refusal.to_string();
            offer_page(&portal, &signed, &offer, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&message)).await
        }
        Err(OfferWriteError::NotFound) => view::not_found("offer", signed.chrome(Nav::Offers)),
        Err(OfferWriteError::Store(e)) => view::store_failure(&e),
    }
}

/// Saves one of the offer's linked id sets from a form's ticked boxes (`field`, once per
/// box): the set becomes exactly these, through the link set `POST /v1.0/offers/{id}/...`
/// uses. An id of another account (or not a number) refuses the whole form; nothing changes.
struct Links<T: Table> {
    set: &'static LinkSet<Offers, T>,
    /// The form field, once per ticked box.
    field: &'static str,
    /// The API's body field (its error words).
    api_field: &'static str,
    /// What the set holds, in the page's words.
    what: &'static str,
    /// One of them, for "no ... in this account".
    one: &'static str,
    done: &'static str,
}

const CHANNEL_LINKS: Links<Channels> = Links {
    set: &CHANNELS,
    field: "channel_id",
    api_field: "channel_ids",
    what: "channels",
    one: "channel",
    done: "channels",
};
const MEMBER_LIST_LINKS: Links<MemberLists> = Links {
    set: &MEMBER_LISTS,
    field: "member_list_id",
    api_field: "member_list_ids",
    what: "member lists",
    one: "member list",
    done: "member_lists",
};
const STORE_LIST_LINKS: Links<StoreLists> = Links {
    set: &STORE_LISTS,
    field: "store_list_id",
    api_field: "store_list_ids",
    what: "store lists",
    one: "store list",
    done: "store_lists",
};
const MERCHANT_LINKS: Links<Merchants> = Links {
    set: &MERCHANTS,
    field: "merchant_id",
    api_field: "merchant_ids",
    what: "merchants",
    one: "merchant",
    done: "merchants",
};

async fn save_links<T: Table>(
    portal: &PortalState,
    signed: &Signed,
    raw: &str,
    body: &Bytes,
    links: &Links<T>,
) -> Response {
    let form = Form::parse(body);
    let offer = match writable(portal, signed, &form, raw).await {
        Ok(o) => o,
        Err(answer) => return answer,
    };
    let ids: Option<Vec<i64>> = form.all(links.field).iter().map(|raw| path_id(raw.trim())).collect();
    let refusal = match ids {
        None => format!("a {} id is not a number.", links.one),
        Some(ids) => match kindling_domain::input::id_count(links.api_field, &ids) {
            Err(errors) => format!("{}.", errors.summary()),
            Ok(()) => {
                let ids: Vec<T::Id> = ids.into_iter().map(T::Id::from).collect();
                match links.set.apply_now(&portal.db, signed.session.account, offer.id, LinkOp::Replace, &ids).await {
                    Ok(LinkOutcome::Linked(_)) => {
                        return view::redirect(&format!("/admin/offers/{}?done={}", offer.id.0, links.done))
                    }
                    Ok(LinkOutcome::OwnerNotFound) => return view::not_found("offer", signed.chrome(Nav::Offers)),
                    Ok(LinkOutcome::UnknownTargets(unknown)) => {
                        let list = unknown.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
                        format!("no {} {list} in this account.", links.one)
                    }
                    Err(e) => return view::store_failure(&e),
                }
            }
        },
    };
    let text = format!("The {} were not saved: {refusal}", links.what);
    offer_page(portal, signed, &offer, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&text)).await
}

/// `POST /admin/offers/{id}/channels` (`channel_id`, once per ticked box): the offer's
/// Publishing Channels become exactly these.
pub async fn set_channels(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    save_links(&portal, &signed, &raw, &body, &CHANNEL_LINKS).await
}

/// `POST /admin/offers/{id}/member_lists` (`member_list_id`, once per ticked box): who may
/// get the offer's codes, as `POST /v1.0/offers/{id}/member_lists`.
pub async fn set_member_lists(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    save_links(&portal, &signed, &raw, &body, &MEMBER_LIST_LINKS).await
}

/// `POST /admin/offers/{id}/store_lists` (`store_list_id`), as `POST
/// /v1.0/offers/{id}/store_lists`.
pub async fn set_store_lists(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    save_links(&portal, &signed, &raw, &body, &STORE_LIST_LINKS).await
}

/// `POST /admin/offers/{id}/merchants` (`merchant_id`): the eligible merchants, as `POST
/// /v1.0/offers/{id}/merchants`.
pub async fn set_merchants(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    save_links(&portal, &signed, &raw, &body, &MERCHANT_LINKS).await
}

/// `POST /admin/offers/{id}/channels/new` (`name`): a new channel of the account, shown
/// unticked on the offer's page.
pub async fn new_channel(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let offer = match writable(&portal, &signed, &form, &raw).await {
        Ok(o) => o,
        Err(answer) => return answer,
    };
    let input = ChannelInput { name: Some(form.get("name").unwrap_or_default().to_owned()), ..ChannelInput::default() };
    let changes = match input.into_new() {
        Ok(changes) => changes,
        Err(errors) => {
            let text = format!("The channel was not created: name {}.", errors.get("name").unwrap_or("is not valid"));
            return offer_page(&portal, &signed, &offer, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&text)).await;
        }
    };
    let account = signed.session.account;
    let created = portal
        .db
        .transaction(move |tx| {
            Box::pin(async move { crud::insert::<Channels>(tx, account, channels::values(changes)).await })
        })
        .await;
    match created {
        Ok(_) => view::redirect(&format!("/admin/offers/{}?done=channel", offer.id.0)),
        Err(e) => view::store_failure(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Values {
        Values(pairs.iter().map(|(k, v)| ((*k).to_owned(), Json::from(*v))).collect())
    }

    #[test]
    fn blank_fields_are_left_out_on_create_and_cleared_on_edit() {
        let v =
            values(&[("name", ""), ("description", " "), ("offer_type", "0"), ("activates_at", "2026-11-30T09:15")]);
        let create = v.body(true);
        assert_eq!(create.get("name"), Some(&Json::from("")), "the API says can't be blank");
        assert!(!create.contains_key("description"));
        assert_eq!(create["activates_at"], "2026-11-30T09:15:00");
        let edit = v.body(false);
        assert_eq!(edit["description"], Json::Null);
    }

    #[test]
    fn formatting_goes_in_its_object_and_blanks_remove_keys_on_edit() {
        let mut v = values(&[("name", "x"), ("bg_color", "#fff"), ("instructions", " "), ("in_store_only", "")]);
        v.0.insert("in_store_only".into(), Json::Bool(true));
        v.0.insert("no_printable".into(), Json::Bool(false));
        let create = v.body(true);
        assert_eq!(create["formatting"], serde_json::json!({"bg_color": "#fff", "in_store_only": true}));
        assert!(!create.contains_key("bg_color"), "not a column");
        let edit = v.body(false);
        let expected =
            serde_json::json!({"bg_color": "#fff", "in_store_only": true, "instructions": null, "no_printable": null});
        assert_eq!(edit["formatting"], expected);
    }

    #[test]
    fn times_show_as_datetime_local_values() {
        assert_eq!(local_input(Timestamp::from_unix(1_359_409_450)), "2013-01-28T21:44");
        assert_eq!(type_name(0), OfferType::ALL[0].name());
    }
}
