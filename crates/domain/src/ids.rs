//! Typed ids: an `OfferId` can never be passed where a `MemberId` is expected. The store
//! and api signatures take these (see docs/ARCHITECTURE.md, "Typed ids"); this doctest
//! keeps the guarantee honest:
//!
//! ```compile_fail
//! fn redeem_for(_member: kindling_domain::MemberId) {}
//! redeem_for(kindling_domain::OfferId(7)); // error[E0308]: mismatched types
//! ```
//!
//! ```
//! fn redeem_for(_member: kindling_domain::MemberId) {}
//! redeem_for(kindling_domain::MemberId(7));
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    )*};
}

typed_id! {
    /// The tenant: every row in the store belongs to exactly one account.
    AccountId,
    /// A member of a brand's audience (a user of the brand's app, site or emails).
    MemberId,
    /// A business whose offers are redeemed at its stores.
    MerchantId,
    /// One physical location of a merchant.
    StoreId,
    /// A named group of one merchant's stores.
    StoreListId,
    /// A brand whose products (items) are sold through merchants.
    ManufacturerId,
    /// A product as the point of sale knows it (name and item code).
    ItemId,
    /// A named group of items that qualify for or receive a discount.
    ItemSetId,
    /// A promotion: what a member gets, when, where and how often.
    OfferId,
    /// A distribution channel (an app, an email campaign) that offers run on.
    ChannelId,
    /// One offer on one channel (with its `xid`); the same entity is also a campaign.
    EligibleChannelId,
    /// A named group of members that restricts who may get an offer.
    MemberListId,
    /// A member's code for one or more offers, redeemed or voided exactly once.
    CredentialId,
    /// One row of a credential's history (issue, redeem, void) for one offer.
    OfferActivityId,
    /// A member's zidentifier for one offer on one channel.
    ZidentifierId,
    /// One counted visit of a member at a store.
    CheckInId,
    /// One item set attached to one offer (qualifying or discounted).
    EligibleItemSetId,
    /// One view of a landing page (or one posted through the Impressions API).
    ImpressionId,
    /// A counter the account keeps (its name is a number).
    CounterId,
    /// A named event the account keeps.
    EventId,
    /// A code the point of sale applies, registered from offers and campaigns.
    PosOfferCodeId,
    /// An offer saved to a member's wallet on a channel, with its own credential.
    OfferStateId,
    /// A person who signs in to the Admin Portal of one account.
    PortalUserId,
}
