//! `/admin/items`: the account's items (what a POS ticket lists, by code), written as `POST
//! /v1.0/items`, `/v1.0/merchants/{id}/items` or `/v1.0/manufacturers/{id}/items` and `PUT
//! /v1.0/items/{id}` write them: `ItemInput`, `items::values`, `crud::insert` /
//! `crud::update`. The owner (the account, a merchant or a manufacturer) is chosen on create.

use super::{failed, failure, form_page, merge, row, writable, CatalogPage, Field, Kind, ListSpec, Values};
use super::{form_spec, saved, Refusal};
use crate::portal::merchants::path_id;
use crate::portal::session::{Form, Signed};
use crate::portal::view;
use crate::portal::PortalState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::catalog::item::{Item, ItemInput};
use kindling_domain::AccountId;
use kindling_domain::{FieldErrors, ManufacturerId, MerchantId};
use kindling_store::catalog::items::{self, Items};
use kindling_store::crud::{self, RowId};
use kindling_store::portal::{catalog, choices};
use kindling_store::{Db, StoreError};
use minijinja::Value;

const LIST: ListSpec = ListSpec {
    base: "/admin/items",
    title: "Items",
    singular: "item",
    plural: "items",
    columns: &["Name", "Code", "Owner"],
};

/// How a record's owner reads: a merchant's or manufacturer's name, or the account.
pub fn owner_label(
    merchant: Option<MerchantId>,
    manufacturer: Option<ManufacturerId>,
    merchants: &std::collections::HashMap<i64, String>,
    manufacturers: &std::collections::HashMap<i64, String>,
) -> String {
    match (merchant, manufacturer) {
        (Some(m), _) => format!("Merchant: {}", merchants.get(&m.0).cloned().unwrap_or_default()),
        (None, Some(m)) => format!("Manufacturer: {}", manufacturers.get(&m.0).cloned().unwrap_or_default()),
        (None, None) => "The account".to_owned(),
    }
}

/// `/admin/items`.
pub struct Page;

impl CatalogPage for Page {
    type Table = Items;
    const LIST: ListSpec = LIST;

    async fn rows(db: &Db, account: AccountId, records: &[Item]) -> Result<Vec<Value>, StoreError> {
        let merchants = catalog::merchant_names(db, account, records.iter().filter_map(|i| i.merchant_id));
        let manufacturers = catalog::manufacturer_names(db, account, records.iter().filter_map(|i| i.manufacturer_id));
        let (merchants, manufacturers) = (merchants.await?, manufacturers.await?);
        Ok(records
            .iter()
            .map(|i| {
                let owner = owner_label(i.merchant_id, i.manufacturer_id, &merchants, &manufacturers);
                row(i.id.0, vec![i.name.clone(), i.code.clone(), owner])
            })
            .collect())
    }

    fn name(record: &Item) -> &str {
        &record.name
    }

    async fn edit_form(_: &Db, _: AccountId, record: &Item) -> Result<(Vec<Field>, Values), StoreError> {
        Ok((fields(), values_of(record)))
    }

    /// `name` and `code`.
    async fn save(db: &Db, account: AccountId, item: &Item, values: &Values, _: &Values) -> Result<(), Refusal> {
        let input = ItemInput { name: Some(values.get("name").to_owned()), code: Some(values.get("code").to_owned()) };
        let changes = input.into_changes().map_err(Refusal::Fields)?;
        let id = item.id;
        let written = db
            .transaction(move |tx| {
                Box::pin(async move { crud::update::<Items>(tx, account, &[], id, items::values(changes)).await })
            })
            .await;
        saved(written)
    }
}

/// The owner's two selects (at most one chosen; neither is the account).
pub async fn owner_fields(portal: &PortalState, signed: &Signed) -> Result<Vec<Field>, Response> {
    let account = signed.session.account;
    let merchants = choices::merchants(&portal.db, account).await.map_err(failed)?;
    let manufacturers = catalog::manufacturers(&portal.db, account).await.map_err(failed)?;
    Ok(vec![
        Field::new("merchant_id", "Merchant", Kind::Select)
            .choices(merchants)
            .hint("Leave both owners empty for an item of the whole account."),
        Field::new("manufacturer_id", "Manufacturer", Kind::Select).choices(manufacturers),
    ])
}

/// The chosen owner as its row id; both chosen, or an id that is not a number, is an error.
pub fn owner(values: &Values, errors: &mut FieldErrors) -> Option<RowId> {
    let id = |name: &str, errors: &mut FieldErrors| match values.get(name).trim() {
        "" => None,
        raw => path_id(raw).or_else(|| {
            errors.add(name, "is not a choice");
            None
        }),
    };
    match (id("merchant_id", errors), id("manufacturer_id", errors)) {
        (Some(_), Some(_)) => {
            errors.add("manufacturer_id", "must be empty when a merchant is chosen");
            None
        }
        (Some(m), None) => Some(RowId::Merchant(MerchantId(m))),
        (None, Some(m)) => Some(RowId::Manufacturer(ManufacturerId(m))),
        (None, None) => None,
    }
}

fn fields() -> Vec<Field> {
    vec![Field::new("name", "Name", Kind::Text), Field::new("code", "POS code", Kind::Text)]
}

/// `GET /admin/items/new`.
pub async fn new(State(portal): State<PortalState>, signed: Signed) -> Response {
    if !signed.access.can_edit() {
        return super::refuse(&signed);
    }
    let mut fields = fields();
    match owner_fields(&portal, &signed).await {
        Ok(owners) => fields.extend(owners),
        Err(answer) => return answer,
    }
    form_page(
        &signed,
        StatusCode::OK,
        &form_spec::<Page>(None, None),
        &fields,
        &Values::default(),
        &FieldErrors::new(),
        None,
    )
}

/// `POST /admin/items` (`name`, `code`, `merchant_id` or `manufacturer_id`).
pub async fn create(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = writable(&signed, &form) {
        return refused;
    }
    let mut fields = fields();
    match owner_fields(&portal, &signed).await {
        Ok(owners) => fields.extend(owners),
        Err(answer) => return answer,
    }
    let values = Values::posted(&form, &fields);
    let refuse = |errors: &FieldErrors| {
        form_page(
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_spec::<Page>(None, None),
            &fields,
            &values,
            errors,
            None,
        )
    };
    let mut errors = FieldErrors::new();
    let owner = owner(&values, &mut errors);
    let changes = match (ItemInput { name: values.opt("name"), code: values.opt("code") }).into_new() {
        Ok(changes) if errors.is_empty() => changes,
        Ok(_) => return refuse(&errors),
        Err(more) => return refuse(&merge(errors, more)),
    };
    let mut columns = items::values(changes);
    columns.extend(owner.map(|o| (o.column(), o.value())));
    let account = signed.session.account;
    let written = portal
        .db
        .transaction(move |tx| {
            Box::pin(async move {
                if let Some(owner) = owner {
                    if !crud::exists(tx, account, owner).await? {
                        return Ok(Err(owner));
                    }
                }
                crud::insert::<Items>(tx, account, columns).await.map(Ok)
            })
        })
        .await;
    match written {
        Ok(Ok(id)) => view::redirect(&format!("/admin/items/{}?done=created", id.0)),
        Ok(Err(owner)) => refuse(&FieldErrors::single(owner.column(), "does not exist in this account")),
        Err(e) => failure(&e),
    }
}

fn values_of(item: &Item) -> Values {
    let mut values = Values::default();
    values.set("name", item.name.clone());
    values.set("code", item.code.clone());
    values
}
