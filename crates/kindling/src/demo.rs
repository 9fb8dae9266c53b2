//! `kindling demo`: a demo account with a member, a merchant and its store, a channel and an
//! approved offer on it, so the first curl lines already issue and redeem a code; the offer's
//! burger and fries item sets give it a price at the point of sale (store site `DEMO-1`).

use kindling_domain::catalog::item::ItemChanges;
use kindling_domain::catalog::item_set::ItemSetChanges;
use kindling_domain::catalog::merchant::MerchantInput;
use kindling_domain::catalog::store::{LocationInput, StoreInput};
use kindling_domain::member::MemberInput;
use kindling_domain::offers::channel::ChannelInput;
use kindling_domain::{AccountId, ItemId, ItemSetId};
use kindling_store::catalog::item_sets::{self, ItemSets};
use kindling_store::catalog::items::{self, Items};
use kindling_store::catalog::merchants::{self, Merchants};
use kindling_store::catalog::stores::{self, Stores};
use kindling_store::crud;
use kindling_store::link_set::LinkOp;
use kindling_store::members::{self, Members};
use kindling_store::offers::channels::{self, Channels};
use kindling_store::offers::offer::{Offers, CHANNELS};
use kindling_store::Db;

pub struct Seeded {
    pub member: kindling_domain::MemberId,
    pub channel: kindling_domain::ChannelId,
    pub offer: kindling_domain::OfferId,
    /// The offer's landing page on the channel: `/{xid}`.
    pub xid: String,
}

fn invalid(e: kindling_domain::FieldErrors) -> anyhow::Error {
    anyhow::anyhow!("demo data is invalid: {}", e.summary())
}

pub async fn seed(db: &Db, account: AccountId) -> anyhow::Result<Seeded> {
    let mut tx = db.begin().await?;
    let member_input = MemberInput { identifier: Some("demo-member".into()), notification_mode: None };
    let member =
        crud::insert::<Members>(&mut tx, account, members::new_values(member_input.into_new().map_err(invalid)?))
            .await?;
    let merchant_input = MerchantInput { name: Some("Demo Burger".into()), ..Default::default() };
    let merchant =
        crud::insert::<Merchants>(&mut tx, account, merchants::values(merchant_input.into_new().map_err(invalid)?))
            .await?;
    let store_input = StoreInput {
        name: Some("Demo Burger Downtown".into()),
        site_id: Some("DEMO-1".into()),
        location: Some(LocationInput {
            city: Some("Denver".into()),
            lat: Some(39.7392),
            lng: Some(-104.9903),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut store_values = stores::values(store_input.into_new().map_err(invalid)?);
    store_values.push(("merchant_id", merchant.into()));
    crud::insert::<Stores>(&mut tx, account, store_values).await?;
    // A burger and fries in item sets, so the offer prices a basket at the point of sale.
    let mut sets = Vec::new();
    for (name, code) in [("Burger", "BURGER"), ("Medium Fries", "FRIES")] {
        let mut values = items::values(ItemChanges { name: Some(name.into()), code: Some(code.into()) });
        values.push(("merchant_id", merchant.into()));
        let item: ItemId = crud::insert::<Items>(&mut tx, account, values).await?;
        let changes = ItemSetChanges { name: Some(format!("{name}s")), set_type: Some(0), ..Default::default() };
        let mut values = item_sets::values(&changes);
        values.push(("merchant_id", merchant.into()));
        let set: ItemSetId = crud::insert::<ItemSets>(&mut tx, account, values).await?;
        item_sets::ITEMS.apply(&mut tx, account, set, LinkOp::Replace, &[item]).await?;
        sets.push(set);
    }
    let channel_input = ChannelInput { name: Some("App".into()), ..Default::default() };
    let channel =
        crud::insert::<Channels>(&mut tx, account, channels::values(channel_input.into_new().map_err(invalid)?))
            .await?;
    let offer = crud::insert::<Offers>(
        &mut tx,
        account,
        vec![
            ("name", "Buy a Burger, Get Free Medium Fries".into()),
            ("status", "approved".into()),
            ("offer_type", 0.into()),
            ("quest_only", false.into()),
            ("is_reward", false.into()),
            ("merchant_id", merchant.into()),
            ("required_item_set_id", sets[0].into()),
            ("required_item_count", 1.into()),
            ("redemption_item_set_id", sets[1].into()),
            ("redemption_item_count", 1.into()),
            ("pos_offer_code", "FREEFRIES".into()),
            ("criteria", "{}".into()),
            ("formatting", "{}".into()),
        ],
    )
    .await?;
    CHANNELS.apply(&mut tx, account, offer, LinkOp::Replace, &[channel]).await?;
    kindling_store::pos_offer_codes::register(&mut tx, account, Some("FREEFRIES"), offer).await?;
    tx.commit().await?;
    let xid = kindling_store::offers::eligible_channels::find(db, account, offer, channel)
        .await?
        .map(|linked| linked.xid)
        .ok_or_else(|| anyhow::anyhow!("the demo offer's channel link was not written"))?;
    Ok(Seeded { member, channel, offer, xid })
}
