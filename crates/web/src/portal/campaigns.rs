//! `/admin/campaigns`: the account's campaigns (an offer on a channel, with the campaign
//! fields), paged, and the create and edit forms. The forms become the body `POST /
//! PUT /v1.0/campaigns` take and go through the API's code: `campaign_input` (the same
//! checks and errors) and `campaigns::create` (the channel found or created by name, the
//! offer×channel row adopted or inserted) / `campaigns::update`.

use super::merchants::path_id;
use super::offer::{api_time, local_input};
use super::pages::{param, ACCOUNT_PAGES};
use super::paging::{self, PER_PAGE};
use super::session::{Form, Signed};
use super::view::{self, Nav};
use super::PortalState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::{EligibleChannelId, FieldErrors};
use kindling_store::offers::campaign_input::{self, NewCampaign};
use kindling_store::offers::campaigns::{self, Campaign, Created, Lookup};
use kindling_store::portal::choices::{self, Choice};
use kindling_store::StoreError;
use minijinja::{context, Value};
use serde_json::{Map, Value as Json};

/// The campaign fields the form shows, as text inputs (besides `start_display_at`, a
/// `datetime-local`, and `allow_return_later`, a checkbox).
const TEXT_FIELDS: [&str; 6] =
    ["external_id", "code_ref", "code_count", "pos_offer_code", "funding_source", "stop_display_at"];
/// Every field a form shows an error next to.
const ALL_FIELDS: [&str; 10] = [
    "offer_id",
    "channel_name",
    "external_id",
    "code_ref",
    "code_count",
    "pos_offer_code",
    "funding_source",
    "start_display_at",
    "stop_display_at",
    "allow_return_later",
];

/// `GET /admin/campaigns?page=`: in id order, 50 a page (the API's list).
pub async fn list(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let page = paging::requested(query.as_deref());
    let account = signed.session.account;
    let found = match campaigns::count(&portal.db, account).await {
        Ok(total) => campaigns::page(&portal.db, account, PER_PAGE, paging::offset(page)).await.map(|c| (c, total)),
        Err(e) => Err(e),
    };
    let (items, total) = match found {
        Ok(found) => found,
        Err(e) => return view::store_failure(&e),
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|c| {
            context! {
                id => c.id.0, offer_id => c.offer_id.0, offer_name => c.offer_name, channel_id => c.channel_id.0,
                channel_name => c.channel_name, xid => c.xid, external_id => c.external_id, status => c.offer_status,
            }
        })
        .collect();
    let ctx = context! {
        campaigns => rows,
        p => paging::pager("/admin/campaigns", &[], page, total),
        ..signed.chrome(Nav::Channels)
    };
    view::html(StatusCode::OK, view::render("portal/campaigns.html", ctx))
}

/// The form's values as text: posted, or from the stored campaign.
#[derive(Default)]
struct Values(Map<String, Json>);

impl Values {
    fn posted(form: &Form) -> Self {
        let mut values = Map::new();
        for field in ALL_FIELDS {
            values.insert(field.to_owned(), form.get(field).unwrap_or_default().trim().into());
        }
        values.insert("allow_return_later".into(), form.get("allow_return_later").is_some().into());
        Self(values)
    }

    fn of(c: &Campaign) -> Self {
        let mut values = Map::new();
        let text = |v: &Option<String>| Json::from(v.clone().unwrap_or_default());
        values.insert("offer_id".into(), c.offer_id.0.to_string().into());
        values.insert("channel_name".into(), c.channel_name.clone().into());
        values.insert("external_id".into(), text(&c.external_id));
        values.insert("code_ref".into(), text(&c.code_ref));
        values.insert("code_count".into(), text(&c.code_count));
        values.insert("pos_offer_code".into(), text(&c.pos_offer_code));
        values.insert("funding_source".into(), text(&c.funding_source));
        values.insert("stop_display_at".into(), text(&c.stop_display_at));
        values.insert("start_display_at".into(), c.start_display_at.map(local_input).unwrap_or_default().into());
        values.insert("allow_return_later".into(), c.allow_return_later.into());
        Self(values)
    }

    fn text(&self, field: &str) -> &str {
        self.0.get(field).and_then(Json::as_str).unwrap_or_default()
    }

    /// The API's body. On create a blank field is left out; on edit it clears the value.
    /// The offer and channel are sent on create only (a campaign keeps them).
    fn body(&self, create: bool) -> Map<String, Json> {
        let mut body = Map::new();
        if create {
            let offer = self.text("offer_id");
            if !offer.is_empty() {
                // Not a number: sent as given, so the API's "must be an integer" says so.
                body.insert("offer_id".into(), offer.parse::<i64>().map_or_else(|_| Json::from(offer), Json::from));
            }
            body.insert("channel_name".into(), self.text("channel_name").into());
        }
        for field in TEXT_FIELDS.into_iter().chain(["start_display_at"]) {
            let text = self.text(field);
            match (text.is_empty(), field) {
                (true, _) if create => {}
                (true, _) => {
                    body.insert(field.into(), Json::Null);
                }
                (false, "start_display_at") => {
                    body.insert(field.into(), api_time(text).into());
                }
                (false, _) => {
                    body.insert(field.into(), text.into());
                }
            }
        }
        body.insert("allow_return_later".into(), self.0.get("allow_return_later").cloned().unwrap_or(false.into()));
        body
    }
}

/// The create (`campaign` None) or edit form.
#[expect(clippy::too_many_arguments, reason = "the page's parts, each shown as given")]
fn form_page(
    signed: &Signed,
    status: StatusCode,
    campaign: Option<&Campaign>,
    values: &Values,
    offers: &[Choice],
    errors: &FieldErrors,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let mut field_errors = Map::new();
    for field in ALL_FIELDS {
        if let Some(message) = errors.get(field) {
            field_errors.insert(field.to_owned(), message.into());
        }
    }
    let other: Vec<String> =
        errors.iter().filter(|(f, _)| !ALL_FIELDS.contains(f)).map(|(f, m)| format!("{f} {m}")).collect();
    let ctx = context! {
        c => campaign.map(|c| context! {
            id => c.id.0, xid => c.xid, offer_id => c.offer_id.0, offer_name => c.offer_name,
            channel_id => c.channel_id.0, channel_name => c.channel_name, status => c.offer_status,
        }),
        v => Value::from_serialize(&values.0),
        offers => offers.iter().map(|o| context! { id => o.id.to_string(), name => o.name }).collect::<Vec<_>>(),
        errors => Value::from_serialize(&field_errors),
        other => other,
        error => error,
        notice => notice,
        invalid => !errors.is_empty() || error.is_some(),
        ..signed.chrome(Nav::Channels)
    };
    view::html(status, view::render("portal/campaign.html", ctx))
}

async fn offer_choices(portal: &PortalState, signed: &Signed) -> Result<Vec<Choice>, Response> {
    choices::offers(&portal.db, signed.session.account).await.map_err(|e| view::store_failure(&e))
}

/// `GET /admin/campaigns/new`.
pub async fn new(State(portal): State<PortalState>, signed: Signed) -> Response {
    if !signed.access.can_edit() {
        return signed.refuse_writing();
    }
    let offers = match offer_choices(&portal, &signed).await {
        Ok(o) => o,
        Err(answer) => return answer,
    };
    form_page(&signed, StatusCode::OK, None, &Values::default(), &offers, &FieldErrors::new(), None, None)
}

/// A write's failure as the form again (422) with the posted values.
async fn refused(
    portal: &PortalState,
    signed: &Signed,
    campaign: Option<&Campaign>,
    values: &Values,
    errors: FieldErrors,
    error: Option<&str>,
) -> Response {
    let offers = match offer_choices(portal, signed).await {
        Ok(o) => o,
        Err(answer) => return answer,
    };
    form_page(signed, StatusCode::UNPROCESSABLE_ENTITY, campaign, values, &offers, &errors, error, None)
}

/// The API's answer to a unique `external_id` (the one unique index a campaign write can break).
fn taken(e: StoreError) -> Result<FieldErrors, StoreError> {
    match e {
        StoreError::Unique(_) => Ok(FieldErrors::single("external_id", "has already been taken")),
        other => Err(other),
    }
}

/// `POST /admin/campaigns`.
pub async fn create(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refusal) = signed.write_refusal(&form) {
        return refusal;
    }
    let values = Values::posted(&form);
    let NewCampaign { offer, channel_name, values: columns } = match campaign_input::new_campaign(&values.body(true)) {
        Ok(new) => new,
        Err(errors) => return refused(&portal, &signed, None, &values, errors, None).await,
    };
    let account = signed.session.account;
    match campaigns::create(&portal.db, account, offer, &channel_name, columns).await {
        Ok(Created::Campaign(id)) => view::redirect(&format!("/admin/campaigns/{}?done=created", id.0)),
        Ok(Created::OfferMissing) => {
            let errors = FieldErrors::single("offer_id", &format!("does not exist: {offer}"));
            refused(&portal, &signed, None, &values, errors, None).await
        }
        Ok(Created::ExternalIdTaken { campaign, existing, .. }) => {
            let text = format!(
                "This offer already has campaign {campaign} on channel {channel_name:?} with external id {existing:?}; \
                 edit that campaign instead."
            );
            refused(&portal, &signed, None, &values, FieldErrors::new(), Some(&text)).await
        }
        Err(e) => match taken(e) {
            Ok(errors) => refused(&portal, &signed, None, &values, errors, None).await,
            Err(e) => view::store_failure(&e),
        },
    }
}

async fn load(portal: &PortalState, signed: &Signed, raw: &str) -> Result<Campaign, Response> {
    let Some(id) = path_id(raw).map(EligibleChannelId) else {
        return Err(view::not_found("campaign", signed.chrome(Nav::Channels)));
    };
    match campaigns::find(&portal.db, signed.session.account, Lookup::Id(id)).await {
        Ok(mut found) => found.pop().ok_or_else(|| view::not_found("campaign", signed.chrome(Nav::Channels))),
        Err(e) => Err(view::store_failure(&e)),
    }
}

/// `GET /admin/campaigns/{id}`: the edit form (owners, editors) or the campaign (viewers).
pub async fn show(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let campaign = match load(&portal, &signed, &raw).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let notice = match param(query.as_deref(), "done").as_deref() {
        Some("created") => Some("The campaign was created."),
        Some("saved") => Some("The campaign was saved."),
        _ => None,
    };
    let values = Values::of(&campaign);
    form_page(&signed, StatusCode::OK, Some(&campaign), &values, &[], &FieldErrors::new(), None, notice)
}

/// `POST /admin/campaigns/{id}`: the edit form.
pub async fn update(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(refusal) = signed.write_refusal(&form) {
        return refusal;
    }
    let campaign = match load(&portal, &signed, &raw).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let values = Values::posted(&form);
    let columns = match campaign_input::campaign_changes(&campaign, &values.body(false)) {
        Ok(columns) => columns,
        Err(errors) => return refused(&portal, &signed, Some(&campaign), &values, errors, None).await,
    };
    match campaigns::update(&portal.db, signed.session.account, campaign.id, campaign.offer_id, columns).await {
        Ok(true) => view::redirect(&format!("/admin/campaigns/{}?done=saved", campaign.id.0)),
        Ok(false) => view::not_found("campaign", signed.chrome(Nav::Channels)),
        Err(e) => match taken(e) {
            Ok(errors) => refused(&portal, &signed, Some(&campaign), &values, errors, None).await,
            Err(e) => view::store_failure(&e),
        },
    }
}
