//! `/admin/stores/upload`: stores of one merchant from a CSV file, through the importer that
//! `kindling import stores` runs (`store::catalog::import`, its `upload_stores` writing
//! through `Db::transaction` as requests do): the same columns, every
//! line checked with the API's rules first, all lines written in one transaction or none.
//! The page shows how many stores were created, or every problem with its line.

use super::{chrome, failure};
use crate::portal::merchants::path_id;
use crate::portal::session::{Form, Signed};
use crate::portal::view;
use crate::portal::PortalState;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::MerchantId;
use kindling_store::catalog::import::{self, ImportError, LineError};
use kindling_store::catalog::stores::UNIQUE_FIELDS;
use kindling_store::crud::{self, RowId};
use kindling_store::portal::choices::{self, Choice};
use minijinja::context;

/// Problems a page lists (the count says how many there were in all).
const SHOWN: usize = 100;

/// What the page shows besides the form.
#[derive(Default)]
struct Outcome {
    merchant_id: Option<i64>,
    created: Option<usize>,
    problems: Vec<LineError>,
    merchant_error: Option<&'static str>,
    file_error: Option<String>,
}

async fn page(portal: &PortalState, signed: &Signed, status: StatusCode, outcome: Outcome) -> Response {
    let merchants: Vec<Choice> = match choices::merchants(&portal.db, signed.session.account).await {
        Ok(m) => m,
        Err(e) => return failure(&e),
    };
    let problems: Vec<_> =
        outcome.problems.iter().take(SHOWN).map(|p| context! { line => p.line, message => p.message }).collect();
    let ctx = context! {
        merchants => merchants.iter().map(|m| context! { id => m.id, name => m.name }).collect::<Vec<_>>(),
        merchant_id => outcome.merchant_id,
        created => outcome.created,
        problems => problems,
        problem_count => outcome.problems.len(),
        merchant_error => outcome.merchant_error,
        file_error => outcome.file_error,
        ..chrome(signed, "/admin/stores")
    };
    view::html(status, view::render("portal/store_upload.html", ctx))
}

/// `GET /admin/stores/upload`.
pub async fn form(State(portal): State<PortalState>, signed: Signed) -> Response {
    if !signed.access.can_edit() {
        return signed.refuse_writing();
    }
    page(&portal, &signed, StatusCode::OK, Outcome::default()).await
}

/// The posted parts: the text fields as a form, the file's bytes, and whether the body
/// could not be read whole (too large, or not multipart).
struct Posted {
    form: Form,
    file: Option<Vec<u8>>,
    broken: bool,
}

async fn read(multipart: Option<Multipart>) -> Posted {
    // Pairs, encoded once read (the encoder is not `Send`, so it is not held across reads).
    let mut text: Vec<(String, String)> = Vec::new();
    let mut file = None;
    let Some(mut multipart) = multipart else {
        return Posted { form: Form::parse(b""), file, broken: true };
    };
    let broken = loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let is_file = name == "file";
                match field.bytes().await {
                    Ok(bytes) if is_file => file = Some(bytes.to_vec()),
                    Ok(bytes) => {
                        text.push((name, String::from_utf8_lossy(&bytes).into_owned()));
                    }
                    Err(_) => break true,
                }
            }
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(text).finish();
    Posted { form: Form::parse(encoded.as_bytes()), file, broken }
}

/// `POST /admin/stores/upload` (multipart: `csrf`, `merchant_id`, `file`).
pub async fn upload(
    State(portal): State<PortalState>,
    signed: Signed,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let posted = read(multipart.ok()).await;
    if let Some(refused) = signed.write_refusal(&posted.form) {
        return refused;
    }
    let account = signed.session.account;
    let merchant = posted.form.get("merchant_id").and_then(|raw| path_id(raw.trim()));
    let mut outcome = Outcome { merchant_id: merchant, ..Outcome::default() };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let file = match posted.file.filter(|f| !f.is_empty()) {
        _ if posted.broken => {
            outcome.file_error = Some("could not be read whole (is it larger than the server takes?)".into());
            None
        }
        None => {
            outcome.file_error = Some("can't be blank".into());
            None
        }
        file => file,
    };
    let merchant = match merchant {
        None => None,
        Some(id) => match crud::exists_now(&portal.db, account, RowId::Merchant(MerchantId(id))).await {
            Ok(true) => Some(MerchantId(id)),
            Ok(false) => None,
            Err(e) => return failure(&e),
        },
    };
    if merchant.is_none() {
        outcome.merchant_error =
            Some(if outcome.merchant_id.is_some() { "does not exist in this account" } else { "can't be blank" });
    }
    let (Some(merchant), Some(file)) = (merchant, file) else {
        return page(&portal, &signed, unprocessable, outcome).await;
    };
    match import::upload_stores(&portal.db, account, merchant, file.as_slice()).await {
        Ok(count) => {
            outcome.created = Some(count);
            page(&portal, &signed, StatusCode::OK, outcome).await
        }
        Err(ImportError::Store { error, .. }) => failure(&error),
        Err(refused) => {
            outcome.problems = match refused {
                ImportError::File(problem) => vec![problem],
                ImportError::Rows(problems) => problems,
                ImportError::Duplicate { line, detail } => {
                    let field = crud::unique_field(&detail, UNIQUE_FIELDS).unwrap_or("a value");
                    vec![LineError {
                        line,
                        message: format!("{field} has already been taken (by a store or an earlier line)"),
                    }]
                }
                ImportError::Store { .. } => Vec::new(),
            };
            page(&portal, &signed, unprocessable, outcome).await
        }
    }
}
