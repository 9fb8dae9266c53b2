//! Counters (`counter` {id, name}, the name an integer) and events (`event` {id, name}):
//! plain CRUD through the generic handlers.

use crate::crud::{CrudResource, Scope, Write};
use crate::extract::Enveloped;
use kindling_domain::counter::CounterInput;
use kindling_domain::event::EventInput;
use kindling_domain::FieldErrors;
use kindling_store::counters::Counters;
use kindling_store::crud::Assign;
use kindling_store::events::Events;

impl Enveloped for CounterInput {
    const KEY: &'static str = "counter";
}

impl CrudResource for Counters {
    const SINGULAR: &'static str = "counter";
    const PLURAL: &'static str = "counters";
    const ID_PARAM: &'static str = "counter_id";
    type Input = CounterInput;

    fn create(input: CounterInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_new().map(|name| Assign::new().set("name", name).done().into())
    }

    fn update(input: CounterInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_changes().map(|name| Assign::new().set("name", name).done().into())
    }
}

impl Enveloped for EventInput {
    const KEY: &'static str = "event";
}

impl CrudResource for Events {
    const SINGULAR: &'static str = "event";
    const PLURAL: &'static str = "events";
    const ID_PARAM: &'static str = "event_id";
    type Input = EventInput;

    fn create(input: EventInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_new().map(|name| Assign::new().set("name", name).done().into())
    }

    fn update(input: EventInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_changes().map(|name| Assign::new().set("name", name).done().into())
    }
}
