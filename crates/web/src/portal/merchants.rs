//! `/admin/merchants`: the account's merchants (paged, searched by name), and the create and
//! edit forms. Writes go through the API's own path: `MerchantInput::into_new` /
//! `into_changes` (the domain's validation) and `merchants::values` into `crud::insert` /
//! `crud::update`, as `POST/PUT /v1.0/merchants` do. Owners and editors write; viewers see
//! the pages without forms; store operators see none of them.

use super::pages::{param, ACCOUNT_PAGES};
use super::session::{Form, Signed};
use super::view::{self, Nav};
use super::PortalState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::catalog::merchant::{Merchant, MerchantInput};
use kindling_domain::paging::PageRequest;
use kindling_domain::{FieldErrors, MerchantId};
use kindling_store::catalog::merchants::{self, Merchants};
use kindling_store::crud::{self, Filter, Order};
use minijinja::{context, Value};

/// Merchants a page shows.
const PER_PAGE: u32 = 50;

/// A merchant id from the path; anything else names no merchant.
pub fn path_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

fn list_url(q: &str, page: i64) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        url.append_pair("q", q);
    }
    url.append_pair("page", &page.to_string());
    format!("/admin/merchants?{}", url.finish())
}

/// `GET /admin/merchants?q=&page=`: by name, 50 a page.
pub async fn list(State(portal): State<PortalState>, signed: Signed, RawQuery(query): RawQuery) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let q: String = param(query.as_deref(), "q").unwrap_or_default().trim().chars().take(255).collect();
    let page = param(query.as_deref(), "page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1).max(1);
    let filters: Vec<Filter> = if q.is_empty() { Vec::new() } else { vec![Filter::Contains("name", q.clone())] };
    let order = [("name", Order::Asc), ("id", Order::Asc)];
    let request = PageRequest { page, per_page: PER_PAGE };
    let found =
        match crud::list_ordered::<Merchants>(&portal.db, signed.session.account, &[], &filters, &order, request).await
        {
            Ok(found) => found,
            Err(e) => return view::store_failure(&e),
        };
    let pages = ((found.total_entries + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE)).max(1);
    let page = i64::from(page);
    let rows: Vec<_> = found
        .items
        .iter()
        .map(|m| {
            context! {
                id => m.id.0,
                name => m.name,
                identifier_type => identifier_label(m.redemption_identifier_type.code()),
                supports_barcode => m.supports_barcode,
            }
        })
        .collect();
    let ctx = context! {
        q => q,
        merchants => rows,
        total => found.total_entries,
        page => page,
        pages => pages,
        prev => (page > 1).then(|| list_url(&q, (page - 1).min(pages))),
        next => (page < pages).then(|| list_url(&q, page + 1)),
        ..signed.chrome(Nav::Merchants)
    };
    view::html(StatusCode::OK, view::render("portal/merchants.html", ctx))
}

fn identifier_label(code: i64) -> &'static str {
    match code {
        1 => "Long letters and digits (barcode scanners)",
        _ => "Short digits (keyed in)",
    }
}

/// The form's values: as posted, or as stored.
struct Values {
    name: String,
    redemption_identifier_type: String,
    supports_barcode: bool,
}

impl Values {
    fn of(m: &Merchant) -> Self {
        Self {
            name: m.name.clone(),
            redemption_identifier_type: m.redemption_identifier_type.code().to_string(),
            supports_barcode: m.supports_barcode,
        }
    }

    fn posted(form: &Form) -> Self {
        Self {
            name: form.get("name").unwrap_or_default().to_owned(),
            redemption_identifier_type: form.get("redemption_identifier_type").unwrap_or_default().trim().to_owned(),
            supports_barcode: form.get("supports_barcode").is_some(),
        }
    }

    /// The API's input for these values (an unparsable type is the domain's range error).
    fn input(&self) -> MerchantInput {
        let code = match self.redemption_identifier_type.as_str() {
            "" => None,
            raw => Some(raw.parse::<i64>().unwrap_or(-1)),
        };
        MerchantInput {
            name: Some(self.name.clone()),
            redemption_identifier_type: code,
            supports_barcode: Some(self.supports_barcode),
            ..MerchantInput::default()
        }
    }
}

/// The create (`id` None) or edit form, or a viewer's read-only page.
fn form_page(
    signed: &Signed,
    status: StatusCode,
    id: Option<i64>,
    values: &Values,
    errors: &FieldErrors,
    notice: Option<&str>,
) -> Response {
    let error = |field: &str| errors.get(field).map(str::to_owned);
    let ctx: Value = context! {
        id => id,
        v => context! {
            name => values.name,
            redemption_identifier_type => values.redemption_identifier_type,
            supports_barcode => values.supports_barcode,
        },
        identifier_types => [0, 1].iter().map(|c| context! { code => c.to_string(), label => identifier_label(*c) }).collect::<Vec<_>>(),
        errors => context! {
            name => error("name"),
            redemption_identifier_type => error("redemption_identifier_type"),
            supports_barcode => error("supports_barcode"),
        },
        invalid => !errors.is_empty(),
        notice => notice,
        ..signed.chrome(Nav::Merchants)
    };
    view::html(status, view::render("portal/merchant.html", ctx))
}

/// `GET /admin/merchants/new`.
pub async fn new(signed: Signed) -> Response {
    if !signed.access.can_edit() {
        return signed.refuse_writing();
    }
    let values = Values { name: String::new(), redemption_identifier_type: "0".into(), supports_barcode: false };
    form_page(&signed, StatusCode::OK, None, &values, &FieldErrors::new(), None)
}

/// `POST /admin/merchants` (`csrf`, `name`, `redemption_identifier_type`, `supports_barcode`).
pub async fn create(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.write_refusal(&form) {
        return refused;
    }
    let values = Values::posted(&form);
    let changes = match values.input().into_new() {
        Ok(changes) => changes,
        Err(errors) => return form_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, None, &values, &errors, None),
    };
    let account = signed.session.account;
    let written = portal
        .db
        .transaction(move |tx| {
            Box::pin(async move { crud::insert::<Merchants>(tx, account, merchants::values(changes)).await })
        })
        .await;
    match written {
        Ok(id) => view::redirect(&format!("/admin/merchants/{}?done=created", id.0)),
        Err(e) => view::store_failure(&e),
    }
}

async fn load(portal: &PortalState, signed: &Signed, raw: &str) -> Result<Merchant, Response> {
    let Some(id) = path_id(raw) else {
        return Err(view::not_found("merchant", signed.chrome(Nav::Merchants)));
    };
    match crud::get::<Merchants>(&portal.db, signed.session.account, &[], MerchantId(id)).await {
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err(view::not_found("merchant", signed.chrome(Nav::Merchants))),
        Err(e) => Err(view::store_failure(&e)),
    }
}

/// `GET /admin/merchants/{id}`: the edit form (owners, editors) or the merchant (viewers).
pub async fn show(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if !signed.access.sees_account() {
        return signed.forbidden(ACCOUNT_PAGES);
    }
    let merchant = match load(&portal, &signed, &raw).await {
        Ok(m) => m,
        Err(answer) => return answer,
    };
    let notice = match param(query.as_deref(), "done").as_deref() {
        Some("created") => Some("The merchant was created."),
        Some("saved") => Some("The merchant was saved."),
        _ => None,
    };
    form_page(&signed, StatusCode::OK, Some(merchant.id.0), &Values::of(&merchant), &FieldErrors::new(), notice)
}

/// `POST /admin/merchants/{id}`: the edit form.
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
    let merchant = match load(&portal, &signed, &raw).await {
        Ok(m) => m,
        Err(answer) => return answer,
    };
    let values = Values::posted(&form);
    let changes = match values.input().into_changes() {
        Ok(changes) => changes,
        Err(errors) => {
            return form_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, Some(merchant.id.0), &values, &errors, None)
        }
    };
    let (account, id) = (signed.session.account, merchant.id);
    let written = portal
        .db
        .transaction(move |tx| {
            Box::pin(async move { crud::update::<Merchants>(tx, account, &[], id, merchants::values(changes)).await })
        })
        .await;
    match written {
        Ok(true) => view::redirect(&format!("/admin/merchants/{}?done=saved", id.0)),
        Ok(false) => view::not_found("merchant", signed.chrome(Nav::Merchants)),
        Err(e) => view::store_failure(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_identifier_type_is_the_domains_error() {
        let values = Values { name: "Q".into(), redemption_identifier_type: "x".into(), supports_barcode: false };
        let errors = values.input().into_new().unwrap_err();
        assert!(errors.get("redemption_identifier_type").is_some());
        assert_eq!(list_url("a b", 2), "/admin/merchants?q=a+b&page=2");
    }
}
