//! `kindling import stores|items|members FILE`: bulk loads that validate every row with the
//! same rules as the API before writing anything. Stores and items are written in one
//! transaction (all rows or none); members, which come by the million, are streamed (the file
//! is read twice, never held in memory) and written in batches (see `members`).

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use kindling_domain::catalog::item::ItemInput;
use kindling_domain::catalog::store::{LocationInput, StoreInput};
use kindling_domain::catalog::Contact;
use kindling_domain::member::{MemberInput, NewMember};
use kindling_domain::{AccountId, FieldErrors, Timestamp};
use kindling_store::catalog::manufacturers::Manufacturers;
use kindling_store::catalog::merchants::Merchants;
use kindling_store::catalog::{items, stores};
use kindling_store::crud::{self, Assignments, Table};
use kindling_store::{accounts, members};
use kindling_store::{Db, StoreError};
use std::collections::HashMap;
use std::io::BufRead;
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
        fail(problems)?;
    }
    Ok(good)
}

/// The error listing bad rows (the first `MAX_REPORTED` of them).
fn fail(mut problems: Vec<String>) -> anyhow::Result<()> {
    let more = problems.len().saturating_sub(MAX_REPORTED);
    problems.truncate(MAX_REPORTED);
    if more > 0 {
        problems.push(format!("... and {more} more"));
    }
    bail!("nothing imported; fix these rows:\n{}", problems.join("\n"))
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

const MEMBER_COLUMNS: &[&str] = &["identifier", "notification_mode"];
/// Rows per transaction of a members import: few commits, yet the write lock is released
/// every few hundred milliseconds, so servers on the same SQLite file keep writing.
const MEMBER_ROWS_PER_TRANSACTION: usize = 50 * members::INSERT_BATCH;

/// How a members file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A header row naming the columns (`identifier`, optional `notification_mode`).
    Csv,
    /// One JSON object per line: `{"identifier": "m-1", "notification_mode": "app"}`.
    Jsonl,
}

impl Format {
    /// `.jsonl` and `.ndjson` files are JSON Lines, anything else CSV.
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("jsonl") || ext.eq_ignore_ascii_case("ndjson") => Self::Jsonl,
            _ => Self::Csv,
        }
    }
}

/// What a members import did: rows inserted, and rows skipped because the account already
/// had (or the file repeated) their identifier.
pub struct MemberImport {
    pub imported: u64,
    pub skipped: u64,
}

type MemberRecord = (u64, Result<NewMember, String>);

/// The file's members one at a time, validated, each with its line number.
fn member_records(path: &Path, format: Format) -> anyhow::Result<Box<dyn Iterator<Item = MemberRecord>>> {
    let open = || std::fs::File::open(path).with_context(|| format!("opening {}", path.display()));
    Ok(match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(open()?);
            let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
            let unknown: Vec<&String> = headers.iter().filter(|h| !MEMBER_COLUMNS.contains(&h.as_str())).collect();
            if !unknown.is_empty() {
                bail!("line 1: unknown columns {unknown:?}; allowed: {}", MEMBER_COLUMNS.join(", "));
            }
            let column = |name: &str| headers.iter().position(|h| h == name);
            let identifier = column("identifier").context("line 1: missing required column \"identifier\"")?;
            let mode = column("notification_mode");
            Box::new(reader.into_records().map(move |record| match record {
                Ok(record) => {
                    let line = record.position().map_or(0, |p| p.line());
                    let field = |i: usize| record.get(i).filter(|v| !v.is_empty()).map(str::to_owned);
                    (line, new_member(field(identifier), mode.and_then(field)))
                }
                Err(e) => (e.position().map_or(0, |p| p.line()), Err(e.to_string())),
            }))
        }
        Format::Jsonl => {
            let lines = std::io::BufReader::new(open()?).lines();
            Box::new(
                lines
                    .enumerate()
                    .map(|(i, line)| (i as u64 + 1, line))
                    .filter(|(_, line)| !line.as_ref().is_ok_and(|l| l.trim().is_empty()))
                    .map(|(n, line)| (n, line.map_err(|e| e.to_string()).and_then(|l| json_member(&l)))),
            )
        }
    })
}

/// One JSON Lines member: an object with string `identifier` and optional `notification_mode`.
fn json_member(line: &str) -> Result<NewMember, String> {
    let serde_json::Value::Object(mut object) =
        serde_json::from_str(line).map_err(|e| format!("malformed JSON: {e}"))?
    else {
        return Err("expected a JSON object".into());
    };
    let mut take = |key: &str| match object.remove(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{key} must be a string")),
    };
    let (identifier, mode) = (take("identifier")?, take("notification_mode")?);
    if let Some(key) = object.keys().next() {
        return Err(format!("unknown key {key:?}; allowed: {}", MEMBER_COLUMNS.join(", ")));
    }
    new_member(identifier, mode)
}

/// The API's validation, plus NUL, which PostgreSQL cannot store (the API refuses it too).
fn new_member(identifier: Option<String>, notification_mode: Option<String>) -> Result<NewMember, String> {
    if identifier.iter().chain(&notification_mode).any(|v| v.contains('\0')) {
        return Err("values must not contain NUL characters".into());
    }
    MemberInput { identifier, notification_mode }.into_new().map_err(|e| e.summary())
}

/// Members of one account from a CSV or JSON Lines file. Every row is validated first (one
/// streaming pass; any bad row and nothing is written), then the file is read again and
/// written `members::INSERT_BATCH` rows per statement, `MEMBER_ROWS_PER_TRANSACTION` per
/// transaction. An identifier the account already has is skipped, not an error, so an
/// interrupted import is finished by running it again.
pub async fn members(db: &Db, path: &Path, account: i64, format: Format) -> anyhow::Result<MemberImport> {
    let account =
        accounts::get(db, AccountId(account)).await?.with_context(|| format!("no account with id {account}"))?.id;
    let mut problems = Vec::new();
    let mut total = 0u64;
    for (line, member) in member_records(path, format)? {
        match member {
            Ok(_) => total += 1,
            Err(e) => problems.push(format!("line {line}: {e}")),
        }
    }
    if !problems.is_empty() {
        fail(problems)?;
    }
    let progress = ProgressBar::new(total);
    progress.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({per_sec}, {eta} left)")?);
    let now = Timestamp::now();
    let mut imported = 0;
    let mut batch = Vec::with_capacity(members::INSERT_BATCH);
    let mut tx = db.begin().await?;
    let mut in_transaction = 0;
    for (line, member) in member_records(path, format)? {
        batch.push(member.map_err(|e| anyhow::anyhow!("line {line}: {e} (the file changed while importing)"))?);
        if batch.len() == members::INSERT_BATCH {
            imported += members::insert_missing(&mut tx, account, &batch, now).await?;
            progress.inc(batch.len() as u64);
            in_transaction += batch.len();
            batch.clear();
            if in_transaction >= MEMBER_ROWS_PER_TRANSACTION {
                tx.commit().await?;
                tx = db.begin().await?;
                in_transaction = 0;
            }
        }
    }
    imported += members::insert_missing(&mut tx, account, &batch, now).await?;
    tx.commit().await?;
    progress.finish_and_clear();
    Ok(MemberImport { imported, skipped: total - imported })
}
