use crate::crud::{CrudResource, Parent, Scope, Write, MANUFACTURER, MERCHANT};
use crate::extract::Enveloped;
use crate::table_view;
use kindling_domain::catalog::item_set::{ItemSetChanges, ItemSetInput};
use kindling_domain::{FieldErrors, ItemSetId};
use kindling_store::catalog::item_sets::{self, ItemSets};
use kindling_store::crud::RowId;

impl Enveloped for ItemSetInput {
    const KEY: &'static str = "item_set";
}

/// Columns, owners and membership of a create. An owner named by the path wins over the
/// body; an owner named only in the body must exist in the account.
fn create_write(changes: ItemSetChanges, scope: &Scope) -> Write<ItemSetId> {
    let mut write = Write::from(item_sets::values(&changes));
    let scoped = |column: &str| scope.iter().any(|owner| owner.column() == column);
    let owners = [changes.merchant_id.map(RowId::Merchant), changes.manufacturer_id.map(RowId::Manufacturer)];
    for owner in owners.into_iter().flatten() {
        if !scoped(owner.column()) {
            write.values.push((owner.column(), owner.value()));
            write.references.push((owner.column(), owner));
        }
    }
    if let Some(ids) = changes.item_ids {
        write.links.push((&item_sets::ITEMS, "item_ids", ids));
    }
    write
}

/// Updates change the name, type and membership; the owner is fixed at creation.
fn update_write(changes: ItemSetChanges) -> Write<ItemSetId> {
    let mut write = Write::from(item_sets::values(&changes));
    if let Some(ids) = changes.item_ids {
        write.links.push((&item_sets::ITEMS, "item_ids", ids));
    }
    write
}

macro_rules! item_set_resource {
    ($resource:ty, $parents:expr) => {
        impl CrudResource for $resource {
            const SINGULAR: &'static str = "item_set";
            const PLURAL: &'static str = "item_sets";
            const ID_PARAM: &'static str = "item_set_id";
            const PARENTS: &'static [Parent] = $parents;
            const IN_USE: &'static str = "is still attached to offers; remove it from them first";
            type Input = ItemSetInput;

            fn create(input: ItemSetInput, scope: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
                input.into_new().map(|c| create_write(c, scope))
            }

            fn update(input: ItemSetInput, _: &Scope) -> Result<Write<Self::Id>, FieldErrors> {
                input.into_changes().map(update_write)
            }
        }
    };
}

table_view!(
    /// A merchant's item sets: `/v1.0/merchants/{merchant_id}/item_sets`.
    MerchantItemSets => ItemSets
);
table_view!(
    /// A manufacturer's item sets: `/v1.0/manufacturers/{manufacturer_id}/item_sets`.
    ManufacturerItemSets => ItemSets
);

item_set_resource!(ItemSets, &[]);
item_set_resource!(MerchantItemSets, &[MERCHANT]);
item_set_resource!(ManufacturerItemSets, &[MANUFACTURER]);
