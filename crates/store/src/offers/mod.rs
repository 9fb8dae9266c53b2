//! Offers, channels, member lists and the offer×channel rows (eligible channels/campaigns).

pub mod campaign_input;
pub mod campaigns;
pub mod channels;
pub mod eligibility;
pub mod eligible_channels;
pub mod eligible_item_sets;
pub mod member_lists;
pub mod offer;
pub mod passbook;
pub mod write;
