//! Events, a plain table (`crud`).

use crate::crud::Table;
use crate::{FromRow, Result, Row};
use kindling_domain::event::Event;
use kindling_domain::EventId;

pub struct Events;

impl Table for Events {
    const TABLE: &'static str = "events";
    const COLUMNS: &'static str = "id, name";
    type Record = Event;
    type Id = EventId;

    fn id(event: &Event) -> Self::Id {
        event.id
    }
}

impl FromRow for Event {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Event { id: EventId(row.int("id")?), name: row.text("name")? })
    }
}
