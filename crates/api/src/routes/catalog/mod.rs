//! The catalog's resources, each a declaration on the shared CRUD and link-set patterns.

pub mod item_sets;
pub mod items;
pub mod manufacturers;
pub mod merchants;
pub mod store_lists;
pub mod stores;
