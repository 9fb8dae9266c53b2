//! Counters, a plain table (`crud`).

use crate::crud::Table;
use crate::{FromRow, Result, Row};
use kindling_domain::counter::Counter;
use kindling_domain::CounterId;

pub struct Counters;

impl Table for Counters {
    const TABLE: &'static str = "counters";
    const COLUMNS: &'static str = "id, name";
    type Record = Counter;
    type Id = CounterId;

    fn id(counter: &Counter) -> Self::Id {
        counter.id
    }
}

impl FromRow for Counter {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Counter { id: CounterId(row.int("id")?), name: row.int("name")? })
    }
}
