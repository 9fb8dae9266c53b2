//! Offers and their distribution: channels, member lists, campaigns, eligibility links,
//! item sets, passbook settings and the store searches that depend on active offers.

pub mod campaigns;
pub mod channels;
pub mod eligible_item_sets;
pub mod links;
pub mod member_lists;
pub mod offer;
pub mod passbook;
pub mod stores;
