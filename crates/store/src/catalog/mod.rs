//! Catalog tables: merchants, stores, store lists, manufacturers, items, item sets.

pub mod import;
pub mod item_sets;
pub mod items;
pub mod manufacturers;
pub mod merchants;
pub mod store_lists;
pub mod stores;

use kindling_domain::catalog::{Contact, Contacts};

fn contacts(primary: Option<String>, secondary: Option<String>) -> Contacts {
    Contacts { primary: Contact::from_json(primary.as_deref()), secondary: Contact::from_json(secondary.as_deref()) }
}

fn contact_json(contact: Option<Contact>) -> Option<String> {
    contact.map(|c| c.to_json())
}
