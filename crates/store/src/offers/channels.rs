use crate::crud::{Assign, Assignments, Table};
use crate::{FromRow, Result, Row};
use kindling_domain::offers::channel::{Channel, ChannelChanges};
use kindling_domain::ChannelId;

pub struct Channels;

impl Table for Channels {
    const TABLE: &'static str = "channels";
    const COLUMNS: &'static str = "id, name, allow_sms_keyword, allow_hmac, conversion_callback_url";
    type Record = Channel;
    type Id = kindling_domain::ChannelId;

    fn id(channel: &Channel) -> Self::Id {
        channel.id
    }
}

impl FromRow for Channel {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Channel {
            id: ChannelId(row.int("id")?),
            name: row.text("name")?,
            allow_sms_keyword: row.boolean("allow_sms_keyword")?,
            allow_hmac: row.boolean("allow_hmac")?,
            conversion_callback_url: row.opt_text("conversion_callback_url")?,
        })
    }
}

pub fn values(c: ChannelChanges) -> Assignments {
    Assign::new()
        .set("name", c.name)
        .set("allow_sms_keyword", c.allow_sms_keyword)
        .set("allow_hmac", c.allow_hmac)
        .set("conversion_callback_url", c.conversion_callback_url)
        .done()
}
