use super::{contact_json, contacts, merchants};
use crate::crud::{Assign, Assignments, Table};
use crate::link_set::LinkSet;
use crate::{Db, FromRow, Result, Row};
use kindling_domain::catalog::manufacturer::{Manufacturer, ManufacturerChanges};
use kindling_domain::catalog::merchant::MerchantResponse;
use kindling_domain::catalog::store::StoreLocation;
use kindling_domain::{AccountId, FieldErrors, ManufacturerId, MerchantId};

pub struct Manufacturers;

/// Merchants eligible to sell a manufacturer's items.
pub const MERCHANTS: LinkSet<Manufacturers, merchants::Merchants> =
    LinkSet::new("manufacturer_merchants", "manufacturer_id", "merchant_id");

impl Table for Manufacturers {
    const TABLE: &'static str = "manufacturers";
    const COLUMNS: &'static str =
        "id, name, description, is_active, primary_contact, secondary_contact, redemption_identifier_type";
    type Record = Manufacturer;
    type Id = kindling_domain::ManufacturerId;

    fn id(manufacturer: &Manufacturer) -> Self::Id {
        manufacturer.id
    }

    async fn attach(db: &Db, account: AccountId, manufacturers: &mut [Manufacturer]) -> Result<()> {
        let ids: Vec<_> = manufacturers.iter().map(|m| m.id).collect();
        let mut links = MERCHANTS.ids_for(db, account, &ids).await?;
        let mut all: Vec<MerchantId> = links.values().flatten().copied().collect();
        all.sort_unstable();
        all.dedup();
        let merchants = merchants::by_ids(db, account, &all).await?;
        for manufacturer in manufacturers {
            manufacturer.merchant_ids = links.remove(&manufacturer.id).unwrap_or_default();
            manufacturer.merchants = merchants
                .iter()
                .filter(|m| manufacturer.merchant_ids.contains(&m.id))
                .map(|m| MerchantResponse { merchant: m.clone(), errors: FieldErrors::new() })
                .collect();
        }
        Ok(())
    }
}

impl FromRow for Manufacturer {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Manufacturer {
            id: ManufacturerId(row.int("id")?),
            name: row.text("name")?,
            description: row.opt_text("description")?,
            is_active: row.boolean("is_active")?,
            redemption_identifier_type: row.opt_text("redemption_identifier_type")?,
            contacts: contacts(row.opt_text("primary_contact")?, row.opt_text("secondary_contact")?),
            location: StoreLocation::default(),
            merchant_ids: Vec::new(),
            merchants: Vec::new(),
        })
    }
}

pub fn values(c: ManufacturerChanges) -> Assignments {
    Assign::new()
        .set("name", c.name)
        .set("description", c.description)
        .set("logo", c.logo)
        .set("is_active", c.is_active)
        .set("billing_arrangement", c.billing_arrangement)
        .set("redemption_identifier_type", c.redemption_identifier_type)
        .set("primary_contact", contact_json(c.primary))
        .set("secondary_contact", contact_json(c.secondary))
        .done()
}
