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
        unimplemented!("engine: filled in by the pos-engine work")
    }
}

impl Reason {
    /// Every reason, in the order the rules are checked.
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

    /// Short words for the cashier.
    pub fn message(self) -> &'static str {
        unimplemented!("engine: filled in by the pos-engine work")
    }
}
