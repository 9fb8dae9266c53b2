//! `/admin/items`: the account's items (what a POS ticket lists, by code), written as `POST
//! /v1.0/items`, `/v1.0/merchants/{id}/items` or `/v1.0/manufacturers/{id}/items` and `PUT
//! /v1.0/items/{id}` write them: `ItemInput`, `items::values`, `crud::insert` /
//! `crud::update`. The owner (the account, a merchant or a manufacturer) is chosen on create.

use super::{merge, row, CatalogPage, Field, Kind, ListSpec, Values};
use super::{saved, Refusal};
use crate::portal::merchants::path_id;
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

    async fn new_form(db: &Db, account: AccountId) -> Result<(Vec<Field>, Values), StoreError> {
        let mut fields = fields();
        fields.extend(owner_fields(db, account).await?);
        Ok((fields, Values::default()))
    }

    /// `name`, `code` and at most one owner.
    async fn insert(db: &Db, account: AccountId, values: &Values) -> Result<i64, Refusal> {
        let mut errors = FieldErrors::new();
        let owner = owner(values, &mut errors);
        let changes = match (ItemInput { name: values.opt("name"), code: values.opt("code") }).into_new() {
            Ok(changes) if errors.is_empty() => changes,
            Ok(_) => return Err(Refusal::Fields(errors)),
            Err(more) => return Err(Refusal::Fields(merge(errors, more))),
        };
        let mut columns = items::values(changes);
        columns.extend(owner.map(|o| (o.column(), o.value())));
        insert_owned::<Items>(db, account, owner, columns).await
    }
}

/// The owner's two selects (at most one chosen; neither is the account).
pub async fn owner_fields(db: &Db, account: AccountId) -> Result<Vec<Field>, StoreError> {
    let merchants = choices::merchants(db, account).await?;
    let manufacturers = catalog::manufacturers(db, account).await?;
    Ok(vec![
        Field::new("merchant_id", "Merchant", Kind::Select)
            .choices(merchants)
            .hint("Leave both owners empty for an item of the whole account."),
        Field::new("manufacturer_id", "Manufacturer", Kind::Select).choices(manufacturers),
    ])
}

/// Inserts `columns` into `T` once `owner` (if any) is found to be the account's, in one
/// transaction; an unknown owner is its field's error.
pub async fn insert_owned<T: crud::Table>(
    db: &Db,
    account: AccountId,
    owner: Option<RowId>,
    columns: Vec<(&'static str, kindling_store::Value)>,
) -> Result<i64, Refusal> {
    let written = db
        .transaction(move |tx| {
            Box::pin(async move {
                if let Some(owner) = owner {
                    if !crud::exists(tx, account, owner).await? {
                        return Ok(Err(owner));
                    }
                }
                crud::insert::<T>(tx, account, columns).await.map(Ok)
            })
        })
        .await?;
    written
        .map(Into::into)
        .map_err(|owner| Refusal::Fields(FieldErrors::single(owner.column(), "does not exist in this account")))
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

fn values_of(item: &Item) -> Values {
    let mut values = Values::default();
    values.set("name", item.name.clone());
    values.set("code", item.code.clone());
    values
}
