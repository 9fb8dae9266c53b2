//! `/admin/stores`: the account's stores (paged, searched by name) and their create and edit
//! forms, written as `POST /v1.0/merchants/{merchant_id}/stores` and `PUT
//! /v1.0/merchants/stores/{store_id}` write them: `StoreInput::into_new` / `into_changes`,
//! `stores::values`, `crud::insert` / `crud::update`, a duplicate `site_id` or `number` "has
//! already been taken". The CSV upload is `upload.rs`.

use super::{merge, number, row, CatalogPage, Field, Kind, ListSpec, Values};
use super::{saved, Refusal};
use crate::portal::merchants::path_id;
use kindling_domain::catalog::store::{LocationInput, Store, StoreInput};
use kindling_domain::AccountId;
use kindling_domain::{FieldErrors, MerchantId};
use kindling_store::catalog::stores::{self, Stores, UNIQUE_FIELDS};
use kindling_store::crud::{self, RowId};
use kindling_store::portal::{catalog, choices};
use kindling_store::Db;
use kindling_store::StoreError;
use minijinja::Value;

const LIST: ListSpec = ListSpec {
    base: "/admin/stores",
    title: "Stores",
    singular: "store",
    plural: "stores",
    columns: &["Name", "Merchant", "Site id", "Number", "City", "Active"],
};

/// `/admin/stores`, with the upload's link.
pub struct Page;

impl CatalogPage for Page {
    type Table = Stores;
    const LIST: ListSpec = LIST;
    const ACTIONS: &'static [(&'static str, &'static str)] = &[("/admin/stores/upload", "Upload CSV")];

    async fn rows(db: &Db, account: AccountId, records: &[Store]) -> Result<Vec<Value>, StoreError> {
        let merchants = catalog::merchant_names(db, account, records.iter().map(|s| s.merchant_id)).await?;
        Ok(records
            .iter()
            .map(|s| {
                let cells = vec![
                    s.name.clone(),
                    merchants.get(&s.merchant_id.0).cloned().unwrap_or_default(),
                    s.site_id.clone().unwrap_or_default(),
                    s.number.clone().unwrap_or_default(),
                    s.location.city.clone().unwrap_or_default(),
                    if s.is_active { "yes" } else { "no" }.to_owned(),
                ];
                row(s.id.0, cells)
            })
            .collect())
    }

    fn name(record: &Store) -> &str {
        &record.name
    }

    /// The merchant is not on the edit form: it owns the store for good.
    async fn edit_form(_: &Db, _: AccountId, record: &Store) -> Result<(Vec<Field>, Values), StoreError> {
        Ok((fields(None), values_of(record)))
    }

    async fn save(db: &Db, account: AccountId, store: &Store, values: &Values, stored: &Values) -> Result<(), Refusal> {
        let mut errors = FieldErrors::new();
        let changes = match input(values, Some(stored), &mut errors).into_changes() {
            Ok(changes) if errors.is_empty() => changes,
            Ok(_) => return Err(Refusal::Fields(errors)),
            Err(more) => return Err(Refusal::Fields(merge(errors, more))),
        };
        let id = store.id;
        let written = db
            .transaction(move |tx| {
                Box::pin(async move { crud::update::<Stores>(tx, account, &[], id, stores::values(changes)).await })
            })
            .await;
        match written {
            Err(StoreError::Unique(detail)) => Err(Refusal::Fields(taken(&detail))),
            written => saved(written),
        }
    }

    async fn new_form(db: &Db, account: AccountId) -> Result<(Vec<Field>, Values), StoreError> {
        let merchants = choices::merchants(db, account).await?;
        let mut values = Values::default();
        values.set("is_active", "true");
        Ok((fields(Some(merchants)), values))
    }

    /// `merchant_id` and the store's fields.
    async fn insert(db: &Db, account: AccountId, values: &Values) -> Result<i64, Refusal> {
        let mut errors = FieldErrors::new();
        let merchant = path_id(values.get("merchant_id").trim()).map(MerchantId);
        if merchant.is_none() {
            errors.add("merchant_id", "can't be blank");
        }
        let (changes, merchant) = match (input(values, None, &mut errors).into_new(), merchant) {
            (Ok(changes), Some(merchant)) if errors.is_empty() => (changes, merchant),
            (Ok(_), _) => return Err(Refusal::Fields(errors)),
            (Err(more), _) => return Err(Refusal::Fields(merge(errors, more))),
        };
        let mut values_out = stores::values(changes);
        values_out.push(("merchant_id", merchant.into()));
        let written = db
            .transaction(move |tx| {
                Box::pin(async move {
                    // The merchant is checked in the write's transaction, as the API's path does.
                    if !crud::exists(tx, account, RowId::Merchant(merchant)).await? {
                        return Ok(None);
                    }
                    crud::insert::<Stores>(tx, account, values_out).await.map(Some)
                })
            })
            .await;
        match written {
            Ok(Some(id)) => Ok(id.0),
            Ok(None) => Err(Refusal::Fields(FieldErrors::single("merchant_id", "does not exist in this account"))),
            Err(StoreError::Unique(detail)) => Err(Refusal::Fields(taken(&detail))),
            Err(e) => Err(Refusal::Store(e)),
        }
    }
}

/// Text fields of the form: (form name, label, the domain's field name).
const TEXT: [(&str, &str, &str); 10] = [
    ("site_id", "Site id", "site_id"),
    ("number", "Store number", "number"),
    ("phone", "Phone", "phone"),
    ("address", "Address", "location.address"),
    ("address2", "Address line 2", "location.address2"),
    ("city", "City", "location.city"),
    ("state", "State", "location.state"),
    ("zip", "ZIP code", "location.zip"),
    ("country", "Country", "location.country"),
    ("icon_url", "Icon URL", "icon_url"),
];

/// The form's fields; the merchant is chosen on create only (it owns the store for good).
fn fields(merchants: Option<Vec<choices::Choice>>) -> Vec<Field> {
    let mut fields = Vec::new();
    if let Some(merchants) = merchants {
        fields.push(Field::new("merchant_id", "Merchant", Kind::Select).choices(merchants));
    }
    fields.push(Field::new("name", "Name", Kind::Text));
    fields.extend(TEXT.iter().map(|(name, label, key)| Field::new(name, label, Kind::Text).errors_as(key)));
    fields.push(
        Field::new("lat", "Latitude", Kind::Number).errors_as("location.lat").hint("Decimal degrees, -90 to 90."),
    );
    fields.push(
        Field::new("lng", "Longitude", Kind::Number).errors_as("location.lng").hint("Decimal degrees, -180 to 180."),
    );
    fields.push(Field::new("description", "Description", Kind::Textarea));
    fields.push(Field::new("is_active", "Active", Kind::Checkbox));
    fields
}

fn values_of(s: &Store) -> Values {
    let mut v = Values::default();
    let l = &s.location;
    let texts = [
        ("name", Some(&s.name)),
        ("site_id", s.site_id.as_ref()),
        ("number", s.number.as_ref()),
        ("phone", s.phone.as_ref()),
        ("address", l.address.as_ref()),
        ("address2", l.address2.as_ref()),
        ("city", l.city.as_ref()),
        ("state", l.state.as_ref()),
        ("zip", l.zip.as_ref()),
        ("country", l.country.as_ref()),
        ("icon_url", s.icon_url.as_ref()),
        ("description", s.description.as_ref()),
    ];
    for (name, value) in texts {
        v.set(name, value.cloned().unwrap_or_default());
    }
    v.set("lat", l.lat.map(|x| x.to_string()).unwrap_or_default());
    v.set("lng", l.lng.map(|x| x.to_string()).unwrap_or_default());
    v.set("is_active", if s.is_active { "true" } else { "" });
    v
}

/// The API's input for the posted values. On an edit (`stored`), a text field emptied is
/// written empty, except the unique `site_id` and `number` and the coordinates, which a blank
/// leaves as they were (as an API body that omits them does).
fn input(values: &Values, stored: Option<&Values>, errors: &mut FieldErrors) -> StoreInput {
    let text = |name: &'static str| match (values.opt(name), stored) {
        (Some(v), _) => Some(v),
        (None, Some(old)) if !old.get(name).is_empty() && !UNIQUE_FIELDS.contains(&name) => Some(String::new()),
        (None, _) => None,
    };
    StoreInput {
        name: if stored.is_some() { Some(values.get("name").to_owned()) } else { values.opt("name") },
        description: text("description"),
        is_active: Some(values.ticked("is_active")),
        number: text("number"),
        phone: text("phone"),
        primary: None,
        secondary: None,
        site_id: text("site_id"),
        icon_url: text("icon_url"),
        location: Some(LocationInput {
            address: text("address"),
            address2: text("address2"),
            city: text("city"),
            state: text("state"),
            zip: text("zip"),
            country: text("country"),
            lat: number(values, "lat", "location.lat", errors),
            lng: number(values, "lng", "location.lng", errors),
        }),
    }
}

/// A unique-index refusal as the API words it, on its field.
fn taken(detail: &str) -> FieldErrors {
    FieldErrors::single(crud::unique_field(detail, UNIQUE_FIELDS).unwrap_or("base"), "has already been taken")
}
