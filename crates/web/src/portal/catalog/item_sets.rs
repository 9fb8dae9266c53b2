//! `/admin/item_sets`: named groups of items that offers reward or require, written as `POST
//! /v1.0/item_sets` and `PUT /v1.0/item_sets/{id}` write them: `ItemSetInput`,
//! `item_sets::values` plus the owner's column, `crud::insert` / `crud::update`, and the
//! link set `item_sets::ITEMS` replaced in the same transaction (a merchant's set takes only
//! that merchant's items, a manufacturer's only that manufacturer's).

use super::items::{insert_owned, owner, owner_fields, owner_label};
use super::{merge, replace_links, row, CatalogPage, Field, Kind, ListSpec, Refusal, Values};
use kindling_domain::catalog::item_set::{ItemSet, ItemSetInput};
use kindling_domain::AccountId;
use kindling_domain::FieldErrors;
use kindling_store::catalog::item_sets::{self, ItemSets, ITEMS};
use kindling_store::crud;
use kindling_store::portal::{catalog, choices};
use kindling_store::{Db, StoreError};
use minijinja::Value;

const LIST: ListSpec = ListSpec {
    base: "/admin/item_sets",
    title: "Item sets",
    singular: "item set",
    plural: "item sets",
    columns: &["Name", "Owner", "Type", "Items"],
};

/// `/admin/item_sets`.
pub struct Page;

impl CatalogPage for Page {
    type Table = ItemSets;
    const LIST: ListSpec = LIST;

    async fn rows(db: &Db, account: AccountId, records: &[ItemSet]) -> Result<Vec<Value>, StoreError> {
        let merchants = catalog::merchant_names(db, account, records.iter().filter_map(|s| s.merchant_id)).await?;
        // The store names a set's manufacturer in its record already (`manufacturer_name`).
        let manufacturers = records
            .iter()
            .filter_map(|s| Some((s.manufacturer_id?.0, s.manufacturer_name.clone().unwrap_or_default())))
            .collect();
        Ok(records
            .iter()
            .map(|s| {
                let owner = owner_label(s.merchant_id, s.manufacturer_id, &merchants, &manufacturers);
                row(s.id.0, vec![s.name.clone(), owner, s.set_type.to_string(), s.item_ids.len().to_string()])
            })
            .collect())
    }

    fn name(record: &ItemSet) -> &str {
        &record.name
    }

    /// The set's own fields and the items its owner may put in it.
    async fn edit_form(db: &Db, account: AccountId, set: &ItemSet) -> Result<(Vec<Field>, Values), StoreError> {
        let items = catalog::items_for(db, account, set.merchant_id, set.manufacturer_id).await?;
        let values = values_of(set, &items);
        Ok((edit_fields(items), values))
    }

    /// `name`, `set_type`, `item_ids` ticked and `item_ids_more` typed: the set and its whole
    /// membership, in one transaction.
    async fn save(db: &Db, account: AccountId, set: &ItemSet, values: &Values, _: &Values) -> Result<(), Refusal> {
        let mut errors = FieldErrors::new();
        let ids = values.all_ids("item_ids", &mut errors);
        let input = ItemSetInput {
            name: Some(values.get("name").to_owned()),
            set_type: set_type(values, &mut errors),
            item_ids: Some(ids),
            ..ItemSetInput::default()
        };
        let changes = match input.into_changes() {
            Ok(changes) if errors.is_empty() => changes,
            Ok(_) => return Err(Refusal::Fields(errors)),
            Err(more) => return Err(Refusal::Fields(merge(errors, more))),
        };
        let id = set.id;
        db.transaction(move |tx| {
            Box::pin(async move {
                if !crud::update::<ItemSets>(tx, account, &[], id, item_sets::values(&changes)).await? {
                    return Err(Refusal::NotFound);
                }
                let ids = changes.item_ids.unwrap_or_default();
                replace_links(tx, account, &ITEMS, id, "item_ids", &ids).await
            })
        })
        .await
    }

    async fn new_form(db: &Db, account: AccountId) -> Result<(Vec<Field>, Values), StoreError> {
        let mut fields = own_fields();
        fields.extend(owner_fields(db, account).await?);
        let mut values = Values::default();
        values.set("set_type", "0");
        Ok((fields, values))
    }

    /// `name`, `set_type` and at most one owner; items are ticked on the set's page.
    async fn insert(db: &Db, account: AccountId, values: &Values) -> Result<i64, Refusal> {
        let mut errors = FieldErrors::new();
        let owner = owner(values, &mut errors);
        let input = ItemSetInput {
            name: values.opt("name"),
            set_type: set_type(values, &mut errors),
            ..ItemSetInput::default()
        };
        let changes = match input.into_new() {
            Ok(changes) if errors.is_empty() => changes,
            Ok(_) => return Err(Refusal::Fields(errors)),
            Err(more) => return Err(Refusal::Fields(merge(errors, more))),
        };
        let mut columns = item_sets::values(&changes);
        columns.extend(owner.map(|o| (o.column(), o.value())));
        insert_owned::<ItemSets>(db, account, owner, columns).await
    }
}

fn own_fields() -> Vec<Field> {
    vec![
        Field::new("name", "Name", Kind::Text),
        Field::new("set_type", "Set type", Kind::Number)
            .hint("A number the offer rules read; 0 unless told otherwise."),
    ]
}

/// `set_type` as the API's input takes it (a number; anything else is the domain's error).
fn set_type(values: &Values, errors: &mut FieldErrors) -> Option<i64> {
    let raw = values.opt("set_type")?;
    raw.trim().parse::<i64>().map_err(|_| errors.add("set_type", "must be a whole number")).ok()
}

fn edit_fields(items: Vec<choices::Choice>) -> Vec<Field> {
    let mut fields = own_fields();
    fields.push(Field::new("item_ids", "Items", Kind::Checks).choices(items));
    fields
}

fn values_of(set: &ItemSet, items: &[choices::Choice]) -> Values {
    let mut values = Values::default();
    values.set("name", set.name.clone());
    values.set("set_type", set.set_type.to_string());
    let ids: Vec<i64> = set.item_ids.iter().map(|i| i.0).collect();
    values.linked(&ids, items);
    values
}
