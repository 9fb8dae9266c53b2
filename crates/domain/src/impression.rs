//! Impressions: one view of an offer's landing page, or one posted through the API.

use crate::{AccountId, ChannelId, ImpressionId, MemberId, Timestamp};
use serde::Serialize;

/// As the spec's `impression` object shows it. `annotations` is a JSON text (the spec types
/// it as a string).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impression {
    pub id: ImpressionId,
    pub account_id: AccountId,
    pub annotations: String,
    pub cookie_id: String,
    pub offer_xid: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub member_id: Option<MemberId>,
    pub channel_id: Option<ChannelId>,
    pub channel_name: Option<String>,
    pub creative_name: Option<String>,
}
