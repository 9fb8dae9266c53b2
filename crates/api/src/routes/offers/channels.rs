use crate::crud::{CrudResource, Scope, Write};
use crate::extract::Enveloped;
use kindling_domain::offers::channel::ChannelInput;
use kindling_domain::FieldErrors;
use kindling_store::offers::channels::{self, Channels};

impl Enveloped for ChannelInput {
    const KEY: &'static str = "channel";
}

impl CrudResource for Channels {
    const SINGULAR: &'static str = "channel";
    const PLURAL: &'static str = "channels";
    const ID_PARAM: &'static str = "channel_id";
    const IN_USE: &'static str = "is still linked to offers or credentials; remove it from them first";
    type Input = ChannelInput;

    fn create(input: ChannelInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_new().map(|c| channels::values(c).into())
    }

    fn update(input: ChannelInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
        input.into_changes().map(|c| channels::values(c).into())
    }
}
