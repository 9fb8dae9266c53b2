//! `/admin/store_lists`: a merchant's named groups of stores (which offers may be limited
//! to). Written as `POST /v1.0/merchants/{merchant_id}/store_lists` and `PUT
//! /v1.0/merchants/store_lists/{id}` plus `POST .../{id}/stores` write them:
//! `StoreListInput`, `store_lists::values`, `crud::insert` / `crud::update`, and the link set
//! `store_lists::STORES` replaced in the same transaction (only the list's merchant's stores).

use super::{merge, replace_links, row, CatalogPage, Field, Kind, ListSpec, Refusal, Values};
use crate::portal::merchants::path_id;
use kindling_domain::catalog::store_list::{StoreList, StoreListInput};
use kindling_domain::AccountId;
use kindling_domain::{FieldErrors, MerchantId};
use kindling_store::catalog::store_lists::{self, StoreLists, STORES};
use kindling_store::crud::{self, RowId};
use kindling_store::portal::{catalog, choices};
use kindling_store::{Db, StoreError};
use minijinja::Value;

const LIST: ListSpec = ListSpec {
    base: "/admin/store_lists",
    title: "Store lists",
    singular: "store list",
    plural: "store lists",
    columns: &["Name", "Merchant", "Stores"],
};

/// `/admin/store_lists`.
pub struct Page;

impl CatalogPage for Page {
    type Table = StoreLists;
    const LIST: ListSpec = LIST;

    async fn rows(db: &Db, account: AccountId, records: &[StoreList]) -> Result<Vec<Value>, StoreError> {
        let merchants = catalog::merchant_names(db, account, records.iter().map(|l| l.merchant_id)).await?;
        Ok(records
            .iter()
            .map(|l| {
                let merchant = merchants.get(&l.merchant_id.0).cloned().unwrap_or_default();
                row(l.id.0, vec![l.name.clone(), merchant, l.store_ids.len().to_string()])
            })
            .collect())
    }

    fn name(record: &StoreList) -> &str {
        &record.name
    }

    /// The name and the list's merchant's stores.
    async fn edit_form(db: &Db, account: AccountId, list: &StoreList) -> Result<(Vec<Field>, Values), StoreError> {
        let stores = catalog::stores_of(db, account, list.merchant_id).await?;
        let values = values_of(list, &stores);
        Ok((edit_fields(stores), values))
    }

    /// `name`, `store_ids` ticked and `store_ids_more` typed: the name and the whole set of
    /// stores, in one transaction.
    async fn save(db: &Db, account: AccountId, list: &StoreList, values: &Values, _: &Values) -> Result<(), Refusal> {
        let mut errors = FieldErrors::new();
        let ids = values.all_ids("store_ids", &mut errors);
        let name = match (StoreListInput { name: Some(values.get("name").to_owned()) }.into_changes()) {
            Ok(name) if errors.is_empty() => name,
            Ok(_) => return Err(Refusal::Fields(errors)),
            Err(more) => return Err(Refusal::Fields(merge(errors, more))),
        };
        let id = list.id;
        db.transaction(move |tx| {
            Box::pin(async move {
                if !crud::update::<StoreLists>(tx, account, &[], id, store_lists::values(name)).await? {
                    return Err(Refusal::NotFound);
                }
                replace_links(tx, account, &STORES, id, "store_ids", &ids).await
            })
        })
        .await
    }

    async fn new_form(db: &Db, account: AccountId) -> Result<(Vec<Field>, Values), StoreError> {
        let merchants = choices::merchants(db, account).await?;
        Ok((new_fields(merchants), Values::default()))
    }

    /// `merchant_id`, `name`.
    async fn insert(db: &Db, account: AccountId, values: &Values) -> Result<i64, Refusal> {
        let mut errors = FieldErrors::new();
        let merchant = path_id(values.get("merchant_id").trim()).map(MerchantId);
        if merchant.is_none() {
            errors.add("merchant_id", "can't be blank");
        }
        let (name, merchant) = match (StoreListInput { name: values.opt("name") }.into_new(), merchant) {
            (Ok(name), Some(merchant)) if errors.is_empty() => (name, merchant),
            (Ok(_), _) => return Err(Refusal::Fields(errors)),
            (Err(more), _) => return Err(Refusal::Fields(merge(errors, more))),
        };
        let mut columns = store_lists::values(name);
        columns.push(("merchant_id", merchant.into()));
        let written = db
            .transaction(move |tx| {
                Box::pin(async move {
                    if !crud::exists(tx, account, RowId::Merchant(merchant)).await? {
                        return Ok(None);
                    }
                    crud::insert::<StoreLists>(tx, account, columns).await.map(Some)
                })
            })
            .await?;
        written
            .map(|id| id.0)
            .ok_or_else(|| Refusal::Fields(FieldErrors::single("merchant_id", "does not exist in this account")))
    }
}

/// The create form: the merchant (fixed afterwards) and the name; stores are ticked on the
/// list's page, once its merchant is known.
fn new_fields(merchants: Vec<choices::Choice>) -> Vec<Field> {
    vec![Field::new("merchant_id", "Merchant", Kind::Select).choices(merchants), Field::new("name", "Name", Kind::Text)]
}

/// The edit form: the name and the merchant's stores.
fn edit_fields(stores: Vec<choices::Choice>) -> Vec<Field> {
    vec![Field::new("name", "Name", Kind::Text), Field::new("store_ids", "Stores", Kind::Checks).choices(stores)]
}

fn values_of(list: &StoreList, stores: &[choices::Choice]) -> Values {
    let mut values = Values::default();
    values.set("name", list.name.clone());
    let ids: Vec<i64> = list.store_ids.iter().map(|s| s.0).collect();
    values.linked(&ids, stores);
    values
}
