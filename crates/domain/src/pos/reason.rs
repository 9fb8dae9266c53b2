//! Why an offer did not apply: stable codes the POS and the API report.

/// The first rule an offer failed. `code()` is stable (snake_case) and documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    NotFound,
    NotActiveYet,
    Expired,
    AlreadyRedeemed,
    Voided,
    StoreNotEligible,
    MemberNotEligible,
    TotalLimit,
    MemberLimit,
    DayLimit,
    HeldByOtherTransaction,
    SpendBelowThreshold,
    RequiredItemsMissing,
    NoEligibleItems,
    ExcludedByStacking,
    UnsupportedOfferType,
    BalanceDepleted,
}

impl Reason {
    /// The stable code (snake_case), e.g. `required_items_missing`.
    pub fn code(self) -> &'static str {
        match self {
            Reason::NotFound => "not_found",
            Reason::NotActiveYet => "not_active_yet",
            Reason::Expired => "expired",
            Reason::AlreadyRedeemed => "already_redeemed",
            Reason::Voided => "voided",
            Reason::StoreNotEligible => "store_not_eligible",
            Reason::MemberNotEligible => "member_not_eligible",
            Reason::TotalLimit => "total_limit",
            Reason::MemberLimit => "member_limit",
            Reason::DayLimit => "day_limit",
            Reason::HeldByOtherTransaction => "held_by_other_transaction",
            Reason::SpendBelowThreshold => "spend_below_threshold",
            Reason::RequiredItemsMissing => "required_items_missing",
            Reason::NoEligibleItems => "no_eligible_items",
            Reason::ExcludedByStacking => "excluded_by_stacking",
            Reason::UnsupportedOfferType => "unsupported_offer_type",
            Reason::BalanceDepleted => "balance_depleted",
        }
    }

    /// Short words for the cashier's screen.
    pub fn message(self) -> &'static str {
        match self {
            Reason::NotFound => "Code not found",
            Reason::NotActiveYet => "Offer not active yet",
            Reason::Expired => "Offer expired",
            Reason::AlreadyRedeemed => "Code already redeemed",
            Reason::Voided => "Code voided",
            Reason::StoreNotEligible => "Not valid at this store",
            Reason::MemberNotEligible => "Not valid for this member",
            Reason::TotalLimit => "Offer fully redeemed",
            Reason::MemberLimit => "Member limit reached",
            Reason::DayLimit => "Daily limit reached",
            Reason::HeldByOtherTransaction => "Code locked by another transaction",
            Reason::SpendBelowThreshold => "Minimum spend not reached",
            Reason::RequiredItemsMissing => "Required items missing",
            Reason::NoEligibleItems => "No eligible items",
            Reason::ExcludedByStacking => "Cannot be combined with another offer",
            Reason::UnsupportedOfferType => "Offer not supported at the register",
            Reason::BalanceDepleted => "No balance left",
        }
    }

    /// Every reason, in the order the engine and the store check them.
    pub const ALL: [Reason; 17] = [
        Reason::NotFound,
        Reason::NotActiveYet,
        Reason::Expired,
        Reason::AlreadyRedeemed,
        Reason::Voided,
        Reason::StoreNotEligible,
        Reason::MemberNotEligible,
        Reason::TotalLimit,
        Reason::MemberLimit,
        Reason::DayLimit,
        Reason::HeldByOtherTransaction,
        Reason::SpendBelowThreshold,
        Reason::RequiredItemsMissing,
        Reason::NoEligibleItems,
        Reason::ExcludedByStacking,
        Reason::UnsupportedOfferType,
        Reason::BalanceDepleted,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let codes: std::collections::BTreeSet<_> = Reason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Reason::ALL.len());
        assert!(codes.iter().all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')));
        assert_eq!(Reason::HeldByOtherTransaction.code(), "held_by_other_transaction");
        assert!(Reason::ALL.iter().all(|r| !r.message().is_empty()));
    }
}
