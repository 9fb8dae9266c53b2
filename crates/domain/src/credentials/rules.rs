//! The one ordered list of rules that decides whether a credential may be issued, is
//! eligible (`GET /credentials/eligible`), or may be redeemed. The store gathers the facts
//! (inside the redemption's transaction, under the offer's row lock); this decides.
//!
//! Order: what the request lacks (channel, member), the credential's lock, then per offer:
//! found and on the channel, approved, inside its window, member eligible (lists, limits),
//! store eligible. A missing offer is reported before any rule that needs the offer.

use crate::offers::eligibility::StoreRule;
use crate::offers::offer::{is_active, is_offering, Window};
use crate::offers::status::OfferStatus;
use crate::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Creating a credential or attaching offers: past `stop_offering_at` is refused.
    Issue,
    /// `GET /credentials/eligible`: as issuing, with no side effects.
    Check,
    /// Redeeming: the offer must still be active; `stop_offering_at` no longer matters.
    Redeem,
}

/// Redemption limits of an offer (`None` = unlimited) and on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub total: Option<i64>,
    pub per_member: Option<i64>,
    pub per_member_per_day: Option<i64>,
    pub per_channel: Option<i64>,
}

impl Limits {
    /// Whether a limit counts a member's own redemptions (all time or per day).
    pub fn per_member_set(&self) -> bool {
        self.per_member.is_some() || self.per_member_per_day.is_some()
    }
}

/// Redemptions already counted (voided ones excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub total: i64,
    pub member: i64,
    pub member_today: i64,
    pub channel: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfferFacts {
    pub id: i64,
    pub name: String,
    pub status: OfferStatus,
    pub window: Window,
    /// Whether the offer is linked to the request's channel.
    pub on_channel: bool,
    pub member_list_ids: Vec<i64>,
    pub store_rule: StoreRule,
    pub limits: Limits,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Facts<'a> {
    pub purpose: Purpose,
    pub channel_id: Option<i64>,
    pub member_id: Option<i64>,
    /// The offer ids asked for; those not in `offers` were not found in the account.
    pub requested: &'a [i64],
    pub offers: &'a [OfferFacts],
    /// The member lists the member belongs to.
    pub member_lists: &'a [i64],
    /// The store's merchant and store lists, when a store was named.
    pub store: Option<(i64, &'a [i64])>,
    pub locked: bool,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    ChannelMissing,
    MemberMissing,
    Locked,
    OffersNotFound(Vec<i64>),
    NotApproved(String),
    NotActive(i64),
    MemberNotEligible { offer: String, reason: &'static str },
    StoreNotEligible(String),
}

impl Refusal {
    /// The guide's exact message.
    pub fn message(&self) -> String {
        match self {
            Self::ChannelMissing => "channel_id is required".into(),
            Self::MemberMissing => "Member can't be blank".into(),
            Self::Locked => "This credential is currently locked for processing. Please try again later.".into(),
            Self::OffersNotFound(ids) => {
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!("Offer not found or not eligible by channel, with id: {}", ids.join(", "))
            }
            Self::NotApproved(name) => format!("offer {name} must be approved to generate a credential"),
            Self::NotActive(id) => format!("Offer with ID {id} is no longer active"),
            Self::MemberNotEligible { offer, .. } => format!("Member must be eligible for offer: {offer}"),
            Self::StoreNotEligible(name) => format!("Store must be eligible for offer: {name}"),
        }
    }

    /// The machine-readable `status` of `GET /credentials/eligible`.
    pub fn status(&self) -> &'static str {
        match self {
            Self::ChannelMissing => "channel_required",
            Self::MemberMissing => "member_required",
            Self::Locked => "locked",
            Self::OffersNotFound(_) => "offer_not_found",
            Self::NotApproved(_) => "offer_not_approved",
            Self::NotActive(_) => "offer_not_active",
            Self::MemberNotEligible { reason, .. } => reason,
            Self::StoreNotEligible(_) => "store_not_eligible",
        }
    }
}

fn limit_reason(limits: &Limits, counts: &Counts) -> Option<&'static str> {
    let reached = |limit: Option<i64>, count: i64| limit.is_some_and(|l| count >= l);
    if reached(limits.total, counts.total) {
        Some("max_redemptions")
    } else if reached(limits.per_channel, counts.channel) {
        Some("max_per_channel")
    } else if reached(limits.per_member, counts.member) {
        Some("max_per_member")
    } else if reached(limits.per_member_per_day, counts.member_today) {
        Some("max_per_member_per_day")
    } else {
        None
    }
}

pub fn check(f: &Facts<'_>) -> Result<(), Refusal> {
    if f.channel_id.is_none() {
        return Err(Refusal::ChannelMissing);
    }
    if f.member_id.is_none() {
        return Err(Refusal::MemberMissing);
    }
    if f.locked {
        return Err(Refusal::Locked);
    }
    let missing: Vec<i64> =
        f.requested.iter().copied().filter(|id| !f.offers.iter().any(|o| o.id == *id && o.on_channel)).collect();
    if !missing.is_empty() {
        return Err(Refusal::OffersNotFound(missing));
    }
    for offer in f.offers {
        if offer.status != OfferStatus::Approved {
            return Err(Refusal::NotApproved(offer.name.clone()));
        }
        let live = match f.purpose {
            Purpose::Issue | Purpose::Check => is_offering(offer.status, &offer.window, f.now),
            Purpose::Redeem => is_active(offer.status, &offer.window, f.now),
        };
        if !live {
            return Err(Refusal::NotActive(offer.id));
        }
        if !offer.member_list_ids.is_empty() && !offer.member_list_ids.iter().any(|l| f.member_lists.contains(l)) {
            return Err(Refusal::MemberNotEligible { offer: offer.name.clone(), reason: "member_not_in_list" });
        }
        if let Some(reason) = limit_reason(&offer.limits, &offer.counts) {
            return Err(Refusal::MemberNotEligible { offer: offer.name.clone(), reason });
        }
        if let Some((merchant, lists)) = f.store {
            if !offer.store_rule.allows(merchant, lists) {
                return Err(Refusal::StoreNotEligible(offer.name.clone()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn offer() -> OfferFacts {
        OfferFacts {
            id: 1701,
            name: "Buy a Burger".into(),
            status: OfferStatus::Approved,
            window: Window::default(),
            on_channel: true,
            member_list_ids: vec![],
            store_rule: StoreRule::default(),
            limits: Limits::default(),
            counts: Counts::default(),
        }
    }

    fn facts<'a>(offers: &'a [OfferFacts], requested: &'a [i64]) -> Facts<'a> {
        Facts {
            purpose: Purpose::Issue,
            channel_id: Some(456),
            member_id: Some(1009),
            requested,
            offers,
            member_lists: &[],
            store: None,
            locked: false,
            now: Timestamp::from_unix(1_000),
        }
    }

    #[test]
    fn each_rule_with_the_guides_message() {
        let ok = [offer()];
        assert_eq!(check(&facts(&ok, &[1701])), Ok(()));
        assert_eq!(
            check(&Facts { channel_id: None, ..facts(&ok, &[1701]) }).unwrap_err().message(),
            "channel_id is required"
        );
        assert_eq!(
            check(&Facts { member_id: None, ..facts(&ok, &[1701]) }).unwrap_err().message(),
            "Member can't be blank"
        );
        assert!(check(&Facts { locked: true, ..facts(&ok, &[1701]) })
            .unwrap_err()
            .message()
            .starts_with("This credential is currently locked"));
        assert_eq!(
            check(&facts(&ok, &[1701, 5])).unwrap_err().message(),
            "Offer not found or not eligible by channel, with id: 5"
        );
        let off_channel = [OfferFacts { on_channel: false, ..offer() }];
        assert_eq!(check(&facts(&off_channel, &[1701])).unwrap_err().status(), "offer_not_found");
        let pending = [OfferFacts { status: OfferStatus::Pending, ..offer() }];
        assert_eq!(
            check(&facts(&pending, &[1701])).unwrap_err().message(),
            "offer Buy a Burger must be approved to generate a credential"
        );
        let expired = [OfferFacts {
            window: Window { expires_at: Some(Timestamp::from_unix(999)), ..Window::default() },
            ..offer()
        }];
        assert_eq!(check(&facts(&expired, &[1701])).unwrap_err().message(), "Offer with ID 1701 is no longer active");
        let listed = [OfferFacts { member_list_ids: vec![7], ..offer() }];
        assert_eq!(
            check(&facts(&listed, &[1701])).unwrap_err().message(),
            "Member must be eligible for offer: Buy a Burger"
        );
        assert_eq!(check(&Facts { member_lists: &[7], ..facts(&listed, &[1701]) }), Ok(()));
        let stores =
            [OfferFacts { store_rule: StoreRule { merchant_ids: vec![], store_list_ids: vec![3] }, ..offer() }];
        let lists = [4];
        assert_eq!(
            check(&Facts { store: Some((1, &lists)), ..facts(&stores, &[1701]) }).unwrap_err().message(),
            "Store must be eligible for offer: Buy a Burger"
        );
    }

    #[test]
    fn stop_offering_blocks_issue_not_redeem() {
        let stopped = [OfferFacts {
            window: Window { stop_offering_at: Some(Timestamp::from_unix(500)), ..Window::default() },
            ..offer()
        }];
        assert_eq!(check(&facts(&stopped, &[1701])).unwrap_err().status(), "offer_not_active");
        assert_eq!(check(&Facts { purpose: Purpose::Redeem, ..facts(&stopped, &[1701]) }), Ok(()));
    }

    #[test]
    fn limits_name_their_reason() {
        let with = |limits: Limits, counts: Counts| [OfferFacts { limits, counts, ..offer() }];
        let cases = [
            (
                Limits { total: Some(100), ..Default::default() },
                Counts { total: 100, ..Default::default() },
                "max_redemptions",
            ),
            (
                Limits { per_channel: Some(5), ..Default::default() },
                Counts { channel: 5, ..Default::default() },
                "max_per_channel",
            ),
            (
                Limits { per_member: Some(2), ..Default::default() },
                Counts { member: 2, ..Default::default() },
                "max_per_member",
            ),
            (
                Limits { per_member_per_day: Some(1), ..Default::default() },
                Counts { member_today: 1, ..Default::default() },
                "max_per_member_per_day",
            ),
        ];
        for (limits, counts, reason) in cases {
            let offers = with(limits, counts);
            assert_eq!(check(&facts(&offers, &[1701])).unwrap_err().status(), reason);
        }
    }

    proptest! {
        #[test]
        fn under_every_limit_is_eligible(limit in 1i64..1000, used in 0i64..1000) {
            let offers = [OfferFacts { limits: Limits { total: Some(limit), ..Default::default() }, counts: Counts { total: used, ..Default::default() }, ..offer() }];
            prop_assert_eq!(check(&facts(&offers, &[1701])).is_ok(), used < limit);
        }
    }
}
