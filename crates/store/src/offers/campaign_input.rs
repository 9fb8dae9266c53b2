//! A campaign's body (`POST/PUT /v1.0/campaigns`, and the portal's campaign form, which
//! builds the same body) checked and turned into what `campaigns::create` and `update`
//! write. One place, so the API and the portal refuse the same input with the same errors.

use super::campaigns::Campaign;
use super::offer::field_values;
use crate::crud::Assignments;
use crate::Value;
use kindling_domain::fields;
use kindling_domain::offers::campaign::{numbers, FIELDS};
use kindling_domain::{FieldErrors, OfferId};
use serde_json::{Map, Value as Json};

/// A campaign to create: its offer, the channel it names (found or created) and its fields.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub offer: OfferId,
    pub channel_name: String,
    pub values: Assignments,
}

/// The campaign fields of a body (`FIELDS`, and the store and store-list numbers).
fn values(body: &Map<String, Json>, errors: &mut FieldErrors) -> Assignments {
    let mut values = field_values(fields::parse(body, FIELDS, errors));
    for key in ["eligible_store_numbers", "eligible_storelist_numbers"] {
        match body.get(key) {
            None => {}
            Some(Json::Null) => values.push((key, Value::Text(None))),
            Some(list) => match numbers(list) {
                Some(list) => values.push((key, Json::from(list).to_string().into())),
                None => errors.add(key, "must be an array of store numbers"),
            },
        }
    }
    values
}

/// `POST /v1.0/campaigns`' body: `offer_id` and `channel_name` are required.
pub fn new_campaign(body: &Map<String, Json>) -> Result<NewCampaign, FieldErrors> {
    let mut errors = FieldErrors::new();
    let offer = match body.get("offer_id").map(kindling_domain::input::int_value) {
        Some(Some(id)) => Some(OfferId(id)),
        Some(None) => {
            errors.add("offer_id", "must be an integer");
            None
        }
        None => {
            errors.add("offer_id", "can't be blank");
            None
        }
    };
    // The cap counts characters (as every text field's does), not UTF-8 bytes.
    let channel_name = match body.get("channel_name") {
        Some(Json::String(s)) if s.trim().is_empty() => {
            errors.add("channel_name", "can't be blank");
            None
        }
        Some(Json::String(s)) if s.chars().count() > kindling_domain::input::MAX_TEXT => {
            errors.add("channel_name", "is too long (maximum is 255 characters)");
            None
        }
        // Channel names are stored as sent, so the name is matched as sent.
        Some(Json::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.add("channel_name", "must be a string");
            None
        }
        None => {
            errors.add("channel_name", "can't be blank");
            None
        }
    };
    let values = values(body, &mut errors);
    match (offer, channel_name) {
        (Some(offer), Some(channel_name)) if errors.is_empty() => Ok(NewCampaign { offer, channel_name, values }),
        _ => Err(errors),
    }
}

/// `PUT /v1.0/campaigns/{id}`' body: the campaign fields. A campaign is its offer's link
/// to one channel, so `offer_id` and `channel_name` name the row: a body may repeat them (a
/// client's round trip) but not change them.
pub fn campaign_changes(current: &Campaign, body: &Map<String, Json>) -> Result<Assignments, FieldErrors> {
    const MOVED: &str = "cannot change: a campaign is one offer's link to one channel (create another campaign)";
    let mut errors = FieldErrors::new();
    match body.get("offer_id") {
        None | Some(Json::Null) => {}
        Some(offer) if kindling_domain::input::int_value(offer) == Some(current.offer_id.0) => {}
        Some(_) => errors.add("offer_id", MOVED),
    }
    match body.get("channel_name") {
        None | Some(Json::Null) => {}
        Some(Json::String(name)) if *name == current.channel_name => {}
        Some(_) => errors.add("channel_name", MOVED),
    }
    let values = values(body, &mut errors);
    errors.into_result(values)
}
