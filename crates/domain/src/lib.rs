//! Kindling's domain: the types and rules of the promotions platform, free of I/O.
//!
//! Everything here is pure so it can be unit- and property-tested without a database or a
//! network; the store and the HTTP API translate to and from these types.

// Unsafe code lives only in store::shm; here it cannot be allowed.
#![forbid(unsafe_code)]

pub mod account;
pub mod catalog;
pub mod counter;
pub mod credentials;
pub mod engine;
pub mod event;
pub mod field_errors;
pub mod fields;
pub mod ids;
pub mod impression;
pub mod input;
pub mod landing;
pub mod member;
pub mod offer_state;
pub mod offers;
pub mod paging;
pub mod portal;
pub mod pos;
pub mod pos_offer_code;
pub mod report;
pub mod secret;
pub mod serde_helpers;
pub mod time;

pub use field_errors::FieldErrors;
pub use ids::{
    AccountId, ChannelId, CheckInId, CounterId, CredentialId, EligibleChannelId, EligibleItemSetId, EventId,
    ImpressionId, ItemId, ItemSetId, ManufacturerId, MemberId, MemberListId, MerchantId, OfferActivityId, OfferId,
    OfferStateId, PortalUserId, PosOfferCodeId, StoreId, StoreListId, ZidentifierId,
};
pub use time::Timestamp;
