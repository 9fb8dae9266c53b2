//! An offer's Apple Wallet settings. The p12 certificate and password are stored for pass
//! signing but never shown: the answer carries `null` for both.

use crate::{query, Db, FromRow, Result, Row, Value};
use kindling_domain::{AccountId, OfferId, Timestamp};
use sea_query::{InsertStatement, OnConflict};
use serde_json::{json, Value as Json};

pub const SETTINGS: [&str; 6] =
    ["p12_certificate", "p12_password", "team_identifier", "pass_type_id_name", "logo", "icon"];

#[derive(Debug, Clone, PartialEq)]
pub struct Passbook {
    pub id: i64,
    pub offer_id: OfferId,
    pub team_identifier: Option<String>,
    pub pass_type_id_name: Option<String>,
    pub logo: Option<String>,
    pub icon: Option<String>,
}

impl FromRow for Passbook {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            offer_id: OfferId(row.int("offer_id")?),
            team_identifier: row.opt_text("team_identifier")?,
            pass_type_id_name: row.opt_text("pass_type_id_name")?,
            logo: row.opt_text("logo")?,
            icon: row.opt_text("icon")?,
        })
    }
}

impl Passbook {
    pub fn view(&self) -> Json {
        json!({
            "p12_certificate": null, "p12_password": null, "pass_type_id_name": self.pass_type_id_name,
            "serial_number": self.id, "team_identifier": self.team_identifier, "bg_color": null, "fg_color": null,
            "label_color": null, "bg_image": null, "logo": self.logo, "icon": self.icon,
        })
    }
}

const COLUMNS: &str = "id, offer_id, team_identifier, pass_type_id_name, logo, icon";

pub async fn for_offers(db: &Db, account: AccountId, offers: &[OfferId]) -> Result<Vec<Passbook>> {
    if offers.is_empty() {
        return Ok(Vec::new());
    }
    let statement = query::select_listed(COLUMNS, "passbook_configurations", account, db.dialect(), "offer_id", offers);
    let (sql, params) = query::build(&statement, db.dialect())?;
    db.fetch_all(&sql, &params).await
}

pub async fn get(db: &Db, account: AccountId, offer: OfferId) -> Result<Option<Passbook>> {
    Ok(for_offers(db, account, &[offer]).await?.pop())
}

/// The insert of a configuration with the settings given.
fn insert(account: AccountId, offer: OfferId, settings: &[(&'static str, Option<String>)]) -> InsertStatement {
    let now = Timestamp::now().unix();
    let values = [
        ("account_id", account.into()),
        ("offer_id", offer.into()),
        ("created_at", now.into()),
        ("updated_at", now.into()),
    ];
    let settings = settings.iter().map(|(column, value)| (*column, Value::from(value.clone())));
    query::insert("passbook_configurations", values.into_iter().chain(settings))
}

/// Creates the offer's configuration; a second one fails with `StoreError::Unique`.
pub async fn create(
    db: &Db,
    account: AccountId,
    offer: OfferId,
    settings: &[(&'static str, Option<String>)],
) -> Result<()> {
    let (sql, params) = query::build(&insert(account, offer, settings), db.dialect())?;
    db.execute(&sql, &params).await.map(drop)
}

/// Updates the settings given, creating the configuration if there is none, in one
/// statement: concurrent calls cannot both find none and both insert.
pub async fn upsert(
    db: &Db,
    account: AccountId,
    offer: OfferId,
    settings: &[(&'static str, Option<String>)],
) -> Result<()> {
    let changed = std::iter::once("updated_at").chain(settings.iter().map(|(c, _)| *c));
    let statement = insert(account, offer, settings)
        .on_conflict(OnConflict::column("offer_id").update_columns(changed).to_owned())
        .to_owned();
    let (sql, params) = query::build(&statement, db.dialect())?;
    db.execute(&sql, &params).await.map(drop)
}

pub async fn delete(db: &Db, account: AccountId, offer: OfferId) -> Result<bool> {
    Ok(db
        .execute(
            "DELETE FROM passbook_configurations WHERE account_id = $1 AND offer_id = $2",
            &[account.0.into(), offer.into()],
        )
        .await?
        > 0)
}
