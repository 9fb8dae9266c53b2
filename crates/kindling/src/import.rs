//! `kindling import stores|items FILE.csv`: bulk loads that validate every row with the same
//! rules as the API before writing anything, then write all rows in one transaction.

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use kindling_domain::catalog::item::ItemInput;
use kindling_domain::catalog::store::{LocationInput, StoreInput};
use kindling_domain::catalog::Contact;
use kindling_domain::{AccountId, FieldErrors};
use kindling_store::accounts;
use kindling_store::catalog::manufacturers::Manufacturers;
use kindling_store::catalog::merchants::Merchants;
use kindling_store::catalog::{items, stores};
use kindling_store::crud::{self, Assignments, Table};
use kindling_store::{Db, StoreError};
use std::collections::HashMap;
use std::path::Path;

/// Errors listed before giving up, so a broken file does not flood the terminal.
const MAX_REPORTED: usize = 20;

const STORE_COLUMNS: &[&str] = &[
    "name",
    "description",
    "is_active",
    "number",
    "phone",
    "site_id",
    "icon_url",
    "address",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "lat",
    "lng",
    "primary_name",
    "primary_phone",
    "primary_email",
    "secondary_name",
    "secondary_phone",
    "secondary_email",
];
const ITEM_COLUMNS: &[&str] = &["name", "code"];

/// Who owns imported items.
#[derive(Debug, Clone, Copy)]
pub enum ItemOwner {
    Account(i64),
    Merchant(i64),
    Manufacturer(i64),
}

struct Row {
    line: u64,
    fields: HashMap<String, String>,
}

impl Row {
    fn take(&mut self, column: &str) -> Option<String> {
        self.fields.remove(column).filter(|v| !v.trim().is_empty())
    }
}

fn read_rows(path: &Path, allowed: &[&str], required: &[&str]) -> anyhow::Result<Vec<Row>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let unknown: Vec<&String> = headers.iter().filter(|h| !allowed.contains(&h.as_str())).collect();
    if !unknown.is_empty() {
        bail!("line 1: unknown columns {unknown:?}; allowed: {}", allowed.join(", "));
    }
    if let Some(missing) = required.iter().find(|r| !headers.iter().any(|h| h == *r)) {
        bail!("line 1: missing required column {missing:?}");
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        let fields = headers.iter().cloned().zip(record.iter().map(str::to_owned)).collect();
        rows.push(Row { line, fields });
    }
    Ok(rows)
}

fn parse_bool(raw: Option<String>, column: &str, errors: &mut FieldErrors) -> Option<bool> {
    match raw?.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Some(true),
        "false" | "0" | "no" | "n" => Some(false),
        other => {
            errors.add(column, &format!("must be true or false, got {other:?}"));
            None
        }
    }
}

fn parse_float(raw: Option<String>, column: &str, errors: &mut FieldErrors) -> Option<f64> {
    let raw = raw?;
    raw.parse().map_err(|_| errors.add(column, &format!("must be a number, got {raw:?}"))).ok()
}

fn contact(row: &mut Row, prefix: &str) -> Option<Contact> {
    let contact = Contact {
        name: row.take(&format!("{prefix}_name")),
        phone: row.take(&format!("{prefix}_phone")),
        email: row.take(&format!("{prefix}_email")),
    };
    (contact != Contact::default()).then_some(contact)
}

fn store_values(mut row: Row) -> Result<Assignments, FieldErrors> {
    let mut errors = FieldErrors::new();
    let input = StoreInput {
        is_active: parse_bool(row.take("is_active"), "is_active", &mut errors),
        location: Some(LocationInput {
            lat: parse_float(row.take("lat"), "lat", &mut errors),
            lng: parse_float(row.take("lng"), "lng", &mut errors),
            address: row.take("address"),
            address2: row.take("address2"),
            city: row.take("city"),
            state: row.take("state"),
            zip: row.take("zip"),
            country: row.take("country"),
        }),
        primary: contact(&mut row, "primary"),
        secondary: contact(&mut row, "secondary"),
        name: row.take("name"),
        description: row.take("description"),
        number: row.take("number"),
        phone: row.take("phone"),
        site_id: row.take("site_id"),
        icon_url: row.take("icon_url"),
    };
    let changes = input.into_new();
    match (changes, errors.is_empty()) {
        (Ok(changes), true) => Ok(stores::values(changes)),
        (Ok(_), false) => Err(errors),
        (Err(more), _) => {
            for (field, message) in more.iter() {
                errors.add(field, message);
            }
            Err(errors)
        }
    }
}

fn item_values(mut row: Row) -> Result<Assignments, FieldErrors> {
    ItemInput { name: row.take("name"), code: row.take("code") }.into_new().map(items::values)
}

/// Validates every row, reporting each bad one by its line number, before anything is written.
fn validate(
    rows: Vec<Row>,
    to_values: fn(Row) -> Result<Assignments, FieldErrors>,
) -> anyhow::Result<Vec<(u64, Assignments)>> {
    let mut good = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    for row in rows {
        let line = row.line;
        match to_values(row) {
            Ok(values) => good.push((line, values)),
            Err(errors) => problems.push(format!("line {line}: {}", errors.summary())),
        }
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(MAX_REPORTED);
        problems.truncate(MAX_REPORTED);
        if more > 0 {
            problems.push(format!("... and {more} more"));
        }
        bail!("nothing imported; fix these rows:\n{}", problems.join("\n"));
    }
    Ok(good)
}

async fn write_all<T: Table>(
    db: &Db,
    account: AccountId,
    owner: Option<(&'static str, i64)>,
    rows: Vec<(u64, Assignments)>,
) -> anyhow::Result<usize> {
    let progress = ProgressBar::new(rows.len() as u64);
    progress.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({per_sec}, {eta} left)")?);
    let count = rows.len();
    let mut tx = db.begin().await?;
    for (line, mut values) in rows {
        values.extend(owner.map(|(column, id)| (column, id.into())));
        match crud::insert::<T>(&mut tx, account, values).await {
            Ok(_) => progress.inc(1),
            Err(StoreError::Unique(detail)) => bail!("nothing imported; line {line}: duplicate value ({detail})"),
            Err(e) => return Err(e).with_context(|| format!("nothing imported; line {line}")),
        }
    }
    tx.commit().await?;
    progress.finish_and_clear();
    Ok(count)
}

/// `id` comes from the command line, so it becomes `T`'s id here.
async fn owner_account<T: Table>(db: &Db, id: i64) -> anyhow::Result<AccountId> {
    crud::owner_of::<T>(db, T::Id::from(id)).await?.with_context(|| format!("no {} row with id {id}", T::TABLE))
}

pub async fn stores(db: &Db, path: &Path, merchant: i64) -> anyhow::Result<usize> {
    let account = owner_account::<Merchants>(db, merchant).await?;
    let rows = validate(read_rows(path, STORE_COLUMNS, &["name"])?, store_values)?;
    write_all::<stores::Stores>(db, account, Some(("merchant_id", merchant)), rows).await
}

pub async fn items(db: &Db, path: &Path, owner: ItemOwner) -> anyhow::Result<usize> {
    let (account, owner) = match owner {
        ItemOwner::Account(id) => {
            let found = accounts::get(db, AccountId(id)).await?;
            (found.map(|a| a.id).with_context(|| format!("no account with id {id}"))?, None)
        }
        ItemOwner::Merchant(id) => (owner_account::<Merchants>(db, id).await?, Some(("merchant_id", id))),
        ItemOwner::Manufacturer(id) => (owner_account::<Manufacturers>(db, id).await?, Some(("manufacturer_id", id))),
    };
    let rows = validate(read_rows(path, ITEM_COLUMNS, ITEM_COLUMNS)?, item_values)?;
    write_all::<items::Items>(db, account, owner, rows).await
}
