//! `kindling import stores|items|members FILE`: bulk loads that validate every row with the
//! same rules as the API before writing anything. Stores and items are written in one
//! transaction (all rows or none); members, which come by the million, are streamed (the file
//! is read twice, never held in memory) and written in batches (see `members`).

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use kindling_domain::member::{MemberInput, NewMember};
use kindling_domain::{AccountId, MerchantId, Timestamp};
use kindling_store::catalog::import::{self, ImportError};
use kindling_store::catalog::manufacturers::Manufacturers;
use kindling_store::catalog::merchants::Merchants;
use kindling_store::crud::{self, Table};
use kindling_store::Db;
use kindling_store::{accounts, members};
use std::io::BufRead;
use std::path::Path;

/// Errors listed before giving up, so a broken file does not flood the terminal.
const MAX_REPORTED: usize = 20;

/// Who owns imported items.
#[derive(Debug, Clone, Copy)]
pub enum ItemOwner {
    Account(i64),
    Merchant(i64),
    Manufacturer(i64),
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

/// The store crate's importer answer as the command's error text.
fn imported(done: Result<usize, ImportError>) -> anyhow::Result<usize> {
    match done {
        Ok(count) => Ok(count),
        Err(ImportError::File(e)) => bail!("{e}"),
        Err(ImportError::Rows(problems)) => fail(problems.iter().map(ToString::to_string).collect()).map(|()| 0),
        Err(ImportError::Duplicate { line, detail }) => {
            bail!("nothing imported; line {line}: duplicate value ({detail})")
        }
        Err(ImportError::Store { line, error }) => Err(error).with_context(|| format!("nothing imported; line {line}")),
    }
}

/// A progress bar on stderr (drawn only when it is a terminal); `tick` counts a written row.
fn progress() -> anyhow::Result<ProgressBar> {
    let progress = ProgressBar::new(0);
    progress.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({per_sec}, {eta} left)")?);
    Ok(progress)
}

fn tick(bar: &ProgressBar, rows: u64) {
    bar.set_length(rows);
    bar.inc(1);
}

fn open(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))
}

/// `id` comes from the command line, so it becomes `T`'s id here.
async fn owner_account<T: Table>(db: &Db, id: i64) -> anyhow::Result<AccountId> {
    crud::owner_of::<T>(db, T::Id::from(id)).await?.with_context(|| format!("no {} row with id {id}", T::TABLE))
}

pub async fn stores(db: &Db, path: &Path, merchant: i64) -> anyhow::Result<usize> {
    let account = owner_account::<Merchants>(db, merchant).await?;
    let bar = progress()?;
    let done = import::stores(db, account, MerchantId(merchant), open(path)?, |rows| tick(&bar, rows)).await;
    bar.finish_and_clear();
    imported(done)
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
    let bar = progress()?;
    let done = import::items(db, account, owner, open(path)?, |rows| tick(&bar, rows)).await;
    bar.finish_and_clear();
    imported(done)
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
            imported += members::insert_missing(&mut tx, account, &batch, now).await?.len() as u64;
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
    imported += members::insert_missing(&mut tx, account, &batch, now).await?.len() as u64;
    tx.commit().await?;
    progress.finish_and_clear();
    Ok(MemberImport { imported, skipped: total - imported })
}
