//! The store and item importers (`kindling import stores|items`, and the portal's CSV upload
//! of stores, `upload_stores`): a CSV with a header row, every row validated with the API's rules before
//! anything is written, then all rows written in one transaction (all or none). Each problem
//! names its line (the header is line 1).

use super::items::{self, Items};
use super::stores::{self, Stores};
use crate::crud::{self, Assignments, Table};
use crate::{Db, StoreError, Tx};
use kindling_domain::catalog::item::ItemInput;
use kindling_domain::catalog::store::{LocationInput, StoreInput};
use kindling_domain::catalog::Contact;
use kindling_domain::{AccountId, FieldErrors, MerchantId};
use std::collections::HashMap;
use std::io::Read;

pub const STORE_COLUMNS: &[&str] = &[
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
pub const ITEM_COLUMNS: &[&str] = &["name", "code"];

/// One problem of a file, on its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why nothing was imported.
#[derive(Debug)]
pub enum ImportError {
    /// The file itself: unreadable, bad header, malformed CSV (one line).
    File(LineError),
    /// Rows that fail the API's rules, every one of them, in file order.
    Rows(Vec<LineError>),
    /// A row the database refused as a duplicate of a unique value (`site_id`, `number`).
    Duplicate { line: u64, detail: String },
    /// Any other store failure, while writing `line`.
    Store { line: u64, error: StoreError },
}

/// A data row: its line and its fields by column.
pub struct Row {
    line: u64,
    fields: HashMap<String, String>,
}

impl Row {
    fn take(&mut self, column: &str) -> Option<String> {
        self.fields.remove(column).filter(|v| !v.trim().is_empty())
    }
}

fn csv_error(e: &csv::Error) -> ImportError {
    ImportError::File(LineError { line: e.position().map_or(0, |p| p.line()), message: e.to_string() })
}

/// The rows of a CSV whose header names only `allowed` columns and every `required` one.
pub fn read_rows(input: impl Read, allowed: &[&str], required: &[&str]) -> Result<Vec<Row>, ImportError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers: Vec<String> = reader.headers().map_err(|e| csv_error(&e))?.iter().map(str::to_owned).collect();
    let header = |message: String| ImportError::File(LineError { line: 1, message });
    let unknown: Vec<&String> = headers.iter().filter(|h| !allowed.contains(&h.as_str())).collect();
    if !unknown.is_empty() {
        return Err(header(format!("unknown columns {unknown:?}; allowed: {}", allowed.join(", "))));
    }
    if let Some(missing) = required.iter().find(|r| !headers.iter().any(|h| h == *r)) {
        return Err(header(format!("missing required column {missing:?}")));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e))?;
        let line = record.position().map_or(0, |p| p.line());
        // No database column can hold a NUL (PostgreSQL refuses the statement).
        if record.iter().any(|field| field.contains('\0')) {
            return Err(ImportError::Rows(vec![LineError { line, message: "contains a NUL character".into() }]));
        }
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

/// A store row as the API's `StoreInput`, validated by `into_new`.
pub fn store_values(mut row: Row) -> Result<Assignments, FieldErrors> {
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

/// An item row as the API's `ItemInput`, validated by `into_new`.
pub fn item_values(mut row: Row) -> Result<Assignments, FieldErrors> {
    ItemInput { name: row.take("name"), code: row.take("code") }.into_new().map(items::values)
}

/// Validates every row; any bad one and the answer is all the bad ones, by line.
pub fn validate(
    rows: Vec<Row>,
    to_values: fn(Row) -> Result<Assignments, FieldErrors>,
) -> Result<Vec<(u64, Assignments)>, ImportError> {
    let mut good = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    for row in rows {
        let line = row.line;
        match to_values(row) {
            Ok(values) => good.push((line, values)),
            Err(errors) => problems.push(LineError { line, message: errors.summary() }),
        }
    }
    if problems.is_empty() {
        Ok(good)
    } else {
        Err(ImportError::Rows(problems))
    }
}

impl From<StoreError> for ImportError {
    /// A failure outside any line (starting or committing the transaction).
    fn from(error: StoreError) -> Self {
        Self::Store { line: 0, error }
    }
}

/// Inserts every row (plus the owner column) inside `tx`, calling `written` with the number
/// of rows after each (for a progress bar); the first failure is the answer, and the caller
/// rolls the whole transaction back.
pub async fn write_all<T: Table>(
    tx: &mut Tx,
    account: AccountId,
    owner: Option<(&'static str, i64)>,
    rows: Vec<(u64, Assignments)>,
    mut written: impl FnMut(u64) + Send,
) -> Result<usize, ImportError> {
    let count = rows.len();
    for (line, mut values) in rows {
        values.extend(owner.map(|(column, id)| (column, id.into())));
        match crud::insert::<T>(tx, account, values).await {
            Ok(_) => written(count as u64),
            Err(StoreError::Unique(detail)) => return Err(ImportError::Duplicate { line, detail }),
            Err(error) => return Err(ImportError::Store { line, error }),
        }
    }
    Ok(count)
}

/// `write_all` in an interactive transaction (`Db::begin`, for the command line): committed
/// only when every row was written.
async fn write_now<T: Table>(
    db: &Db,
    account: AccountId,
    owner: Option<(&'static str, i64)>,
    rows: Vec<(u64, Assignments)>,
    written: impl FnMut(u64) + Send,
) -> Result<usize, ImportError> {
    let mut tx = db.begin().await?;
    let count = write_all::<T>(&mut tx, account, owner, rows, written).await?;
    tx.commit().await?;
    Ok(count)
}

/// The stores of a CSV, validated (nothing written).
pub fn store_rows(input: impl Read) -> Result<Vec<(u64, Assignments)>, ImportError> {
    validate(read_rows(input, STORE_COLUMNS, &["name"])?, store_values)
}

/// Stores of `merchant` (a merchant of `account`, checked by the caller) from a CSV, for the
/// command line.
pub async fn stores(
    db: &Db,
    account: AccountId,
    merchant: MerchantId,
    input: impl Read,
    written: impl FnMut(u64) + Send,
) -> Result<usize, ImportError> {
    let rows = store_rows(input)?;
    write_now::<Stores>(db, account, Some(("merchant_id", merchant.0)), rows, written).await
}

/// The same import for a request handler (the portal's upload): the rows are written through
/// `Db::transaction`, as every request writes, all or none.
pub async fn upload_stores(
    db: &Db,
    account: AccountId,
    merchant: MerchantId,
    input: impl Read,
) -> Result<usize, ImportError> {
    let rows = store_rows(input)?;
    let owner = Some(("merchant_id", merchant.0));
    db.transaction(move |tx| Box::pin(async move { write_all::<Stores>(tx, account, owner, rows, |_| {}).await })).await
}

/// Items of `account`, or of the owner column's row (checked by the caller), from a CSV.
pub async fn items(
    db: &Db,
    account: AccountId,
    owner: Option<(&'static str, i64)>,
    input: impl Read,
    written: impl FnMut(u64) + Send,
) -> Result<usize, ImportError> {
    let rows = validate(read_rows(input, ITEM_COLUMNS, ITEM_COLUMNS)?, item_values)?;
    write_now::<Items>(db, account, owner, rows, written).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_is_refused_on_its_line() {
        let csv = "name,lat\nGood,1\nB\0d,2\n";
        let Err(ImportError::Rows(problems)) = read_rows(csv.as_bytes(), STORE_COLUMNS, &["name"]) else {
            panic!("refused")
        };
        assert_eq!(problems[0].to_string(), "line 3: contains a NUL character");
    }

    #[test]
    fn every_bad_row_is_reported_by_line() {
        let csv = "name,lat\nGood,1\n,2\nBad,north\n";
        let rows = read_rows(csv.as_bytes(), STORE_COLUMNS, &["name"]).unwrap();
        let Err(ImportError::Rows(problems)) = validate(rows, store_values) else { panic!("refused") };
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4]);
        assert!(problems[1].to_string().starts_with("line 4: "), "{}", problems[1]);
    }

    #[test]
    fn the_header_is_line_one() {
        let Err(ImportError::File(e)) = read_rows("name,colour\n".as_bytes(), STORE_COLUMNS, &["name"]) else {
            panic!("refused")
        };
        assert_eq!(e.line, 1);
        assert!(e.message.starts_with("unknown columns"));
    }
}
