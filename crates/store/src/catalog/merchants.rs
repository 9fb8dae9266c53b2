use super::{contact_json, contacts};
use crate::crud::{Assign, Assignments, Table};
use crate::{Db, FromRow, Result, Row};
use kindling_domain::catalog::merchant::{Merchant, MerchantChanges, MerchantLocation, RedemptionIdentifierType};
use kindling_domain::{AccountId, MerchantId};

pub struct Merchants;

pub const COLUMNS: &str = "id, account_id, name, logo, is_active, billing_arrangement, supports_barcode, \
    redemption_identifier_type, primary_contact, secondary_contact, created_at, updated_at";

impl Table for Merchants {
    const TABLE: &'static str = "merchants";
    const COLUMNS: &'static str = COLUMNS;
    type Record = Merchant;
    type Id = kindling_domain::MerchantId;

    fn id(merchant: &Merchant) -> Self::Id {
        merchant.id
    }
}

impl FromRow for Merchant {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Merchant {
            id: MerchantId(row.int("id")?),
            account_id: AccountId(row.int("account_id")?),
            name: row.text("name")?,
            logo: row.opt_text("logo")?,
            is_active: row.boolean("is_active")?,
            billing_arrangement: row.opt_text("billing_arrangement")?,
            supports_barcode: row.boolean("supports_barcode")?,
            redemption_identifier_type: RedemptionIdentifierType::from_code(row.int("redemption_identifier_type")?)
                .unwrap_or_default(),
            contacts: contacts(row.opt_text("primary_contact")?, row.opt_text("secondary_contact")?),
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            location: MerchantLocation::default(),
            channels: Vec::new(),
            linked_by_channel: false,
        })
    }
}

pub fn values(changes: MerchantChanges) -> Assignments {
    Assign::new()
        .set("name", changes.name)
        .set("logo", changes.logo)
        .set("is_active", changes.is_active)
        .set("billing_arrangement", changes.billing_arrangement)
        .set("supports_barcode", changes.supports_barcode)
        .set("redemption_identifier_type", changes.redemption_identifier_type.map(|t| t.code()))
        .set("primary_contact", contact_json(changes.primary))
        .set("secondary_contact", contact_json(changes.secondary))
        .done()
}

/// Merchants by id, for embedding (a manufacturer's eligible merchants).
pub async fn by_ids(db: &Db, account: AccountId, ids: &[MerchantId]) -> Result<Vec<Merchant>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let statement = crate::query::select_listed(COLUMNS, "merchants", account, db.dialect(), "id", ids);
    let (sql, params) = crate::query::build(&statement, db.dialect())?;
    db.fetch_all(&sql, &params).await
}
