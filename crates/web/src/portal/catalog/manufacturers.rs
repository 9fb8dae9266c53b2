//! `/admin/manufacturers`: the account's manufacturers (makers of items that offers may
//! reward), written as `POST/PUT /v1.0/manufacturers` write them: `ManufacturerInput`,
//! `manufacturers::values`, `crud::insert` / `crud::update`. The form has the name, the
//! description and whether it is active; contacts, logo, billing and eligible merchants stay
//! with the API.

use super::{row, CatalogPage, Field, Kind, ListSpec, Values};
use super::{saved, Refusal};
use kindling_domain::catalog::manufacturer::{Manufacturer, ManufacturerInput};
use kindling_domain::AccountId;
use kindling_store::catalog::manufacturers::{self, Manufacturers};
use kindling_store::crud;
use kindling_store::{Db, StoreError};
use minijinja::Value;

const LIST: ListSpec = ListSpec {
    base: "/admin/manufacturers",
    title: "Manufacturers",
    singular: "manufacturer",
    plural: "manufacturers",
    columns: &["Name", "Active", "Eligible merchants"],
};

/// `/admin/manufacturers`.
pub struct Page;

impl CatalogPage for Page {
    type Table = Manufacturers;
    const LIST: ListSpec = LIST;

    async fn rows(_: &Db, _: AccountId, records: &[Manufacturer]) -> Result<Vec<Value>, StoreError> {
        Ok(records
            .iter()
            .map(|m| {
                let active = if m.is_active { "yes" } else { "no" }.to_owned();
                row(m.id.0, vec![m.name.clone(), active, m.merchant_ids.len().to_string()])
            })
            .collect())
    }

    fn name(record: &Manufacturer) -> &str {
        &record.name
    }

    async fn edit_form(_: &Db, _: AccountId, record: &Manufacturer) -> Result<(Vec<Field>, Values), StoreError> {
        Ok((fields(), values_of(record)))
    }

    async fn save(db: &Db, account: AccountId, m: &Manufacturer, values: &Values, _: &Values) -> Result<(), Refusal> {
        let changes = input(values, true).into_changes().map_err(Refusal::Fields)?;
        let id = m.id;
        let written = db
            .transaction(move |tx| {
                Box::pin(async move {
                    crud::update::<Manufacturers>(tx, account, &[], id, manufacturers::values(changes)).await
                })
            })
            .await;
        saved(written)
    }

    async fn new_form(_: &Db, _: AccountId) -> Result<(Vec<Field>, Values), StoreError> {
        let mut values = Values::default();
        values.set("is_active", "true");
        Ok((fields(), values))
    }

    /// `name`, `description`, `is_active`.
    async fn insert(db: &Db, account: AccountId, values: &Values) -> Result<i64, Refusal> {
        let changes = input(values, false).into_new().map_err(Refusal::Fields)?;
        let id = db
            .transaction(move |tx| {
                Box::pin(
                    async move { crud::insert::<Manufacturers>(tx, account, manufacturers::values(changes)).await },
                )
            })
            .await?;
        Ok(id.0)
    }
}

fn fields() -> Vec<Field> {
    vec![
        Field::new("name", "Name", Kind::Text),
        Field::new("description", "Description", Kind::Textarea),
        Field::new("is_active", "Active", Kind::Checkbox),
    ]
}

fn values_of(m: &Manufacturer) -> Values {
    let mut values = Values::default();
    values.set("name", m.name.clone());
    values.set("description", m.description.clone().unwrap_or_default());
    values.set("is_active", if m.is_active { "true" } else { "" });
    values
}

/// The API's input; on an edit an emptied description is written empty.
fn input(values: &Values, edit: bool) -> ManufacturerInput {
    ManufacturerInput {
        name: if edit { Some(values.get("name").to_owned()) } else { values.opt("name") },
        description: if edit { Some(values.get("description").to_owned()) } else { values.opt("description") },
        is_active: Some(values.ticked("is_active")),
        ..ManufacturerInput::default()
    }
}
