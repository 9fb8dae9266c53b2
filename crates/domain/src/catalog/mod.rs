//! The catalog an offer points at: merchants and their stores and store lists,
//! manufacturers, items and item sets.

pub mod contact;
pub mod item;
pub mod item_set;
pub mod manufacturer;
pub mod merchant;
pub mod store;
pub mod store_list;

pub use contact::{Contact, Contacts};
