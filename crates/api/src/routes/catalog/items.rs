use crate::crud::{CrudResource, Parent, Scope, Search, Write, MANUFACTURER, MERCHANT};
use crate::extract::Enveloped;
use crate::table_view;
use kindling_domain::catalog::item::ItemInput;
use kindling_domain::FieldErrors;
use kindling_store::catalog::items::{self, Items};

impl Enveloped for ItemInput {
    const KEY: &'static str = "item";
}

/// Items are searched by name (substring) and POS code (exact); lists carry the spec's
/// `stores` key as well as `items`.
macro_rules! item_resource {
    ($resource:ty, $parents:expr) => {
        impl CrudResource for $resource {
            const SINGULAR: &'static str = "item";
            const PLURAL: &'static str = "items";
            const PLURAL_ALIASES: &'static [&'static str] = &["stores"];
            const ID_PARAM: &'static str = "item_id";
            const PARENTS: &'static [Parent] = $parents;
            const SEARCH: &'static [Search] = &[
                Search { param: "name", column: "name", exact: false },
                Search { param: "code", column: "code", exact: true },
            ];
            type Input = ItemInput;

            fn create(input: ItemInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
                input.into_new().map(|c| items::values(c).into())
            }

            fn update(input: ItemInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
                input.into_changes().map(|c| items::values(c).into())
            }
        }
    };
}

table_view!(
    /// A merchant's items: `/v1.0/merchants/{merchant_id}/items`.
    MerchantItems => Items
);
table_view!(
    /// A manufacturer's items: `/v1.0/manufacturers/{manufacturer_id}/items`.
    ManufacturerItems => Items
);

item_resource!(Items, &[]);
item_resource!(MerchantItems, &[MERCHANT]);
item_resource!(ManufacturerItems, &[MANUFACTURER]);
