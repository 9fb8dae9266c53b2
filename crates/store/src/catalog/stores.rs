use super::{contact_json, contacts};
use crate::crud::{Assign, Assignments, Table};
use crate::{FromRow, Result, Row};
use kindling_domain::catalog::store::{Store, StoreChanges, StoreLocation};
use kindling_domain::{MerchantId, StoreId};

pub struct Stores;

/// Fields whose values are unique in the account (a duplicate is "has already been taken").
pub const UNIQUE_FIELDS: &[&str] = &["site_id", "number"];

impl Table for Stores {
    const TABLE: &'static str = "stores";
    const COLUMNS: &'static str = "id, merchant_id, name, site_id, number, description, is_active, phone, \
        address, address2, city, state, zip, country, lat, lng, icon_url, primary_contact, secondary_contact";
    type Record = Store;
    type Id = kindling_domain::StoreId;

    fn id(store: &Store) -> Self::Id {
        store.id
    }
}

impl FromRow for Store {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Store {
            id: StoreId(row.int("id")?),
            merchant_id: MerchantId(row.int("merchant_id")?),
            name: row.text("name")?,
            site_id: row.opt_text("site_id")?,
            number: row.opt_text("number")?,
            description: row.opt_text("description")?,
            is_active: row.boolean("is_active")?,
            phone: row.opt_text("phone")?,
            location: StoreLocation {
                address: row.opt_text("address")?,
                address2: row.opt_text("address2")?,
                city: row.opt_text("city")?,
                state: row.opt_text("state")?,
                zip: row.opt_text("zip")?,
                country: row.opt_text("country")?,
                lat: row.opt_float("lat")?,
                lng: row.opt_float("lng")?,
            },
            icon_url: row.opt_text("icon_url")?,
            contacts: contacts(row.opt_text("primary_contact")?, row.opt_text("secondary_contact")?),
            nearby: None,
        })
    }
}

pub fn values(c: StoreChanges) -> Assignments {
    Assign::new()
        .set("name", c.name)
        .set("description", c.description)
        .set("is_active", c.is_active)
        .set("number", c.number)
        .set("phone", c.phone)
        .set("site_id", c.site_id)
        .set("icon_url", c.icon_url)
        .set("address", c.address)
        .set("address2", c.address2)
        .set("city", c.city)
        .set("state", c.state)
        .set("zip", c.zip)
        .set("country", c.country)
        .set("lat", c.lat)
        .set("lng", c.lng)
        .set("primary_contact", contact_json(c.primary))
        .set("secondary_contact", contact_json(c.secondary))
        .done()
}
