//! Where an offer applies. Empty lists mean unrestricted; a non-empty list restricts.

/// The store side of an offer's eligibility.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreRule {
    /// The offer's own merchant plus its eligible merchants.
    pub merchant_ids: Vec<i64>,
    pub store_list_ids: Vec<i64>,
}

impl StoreRule {
    /// A store qualifies when its merchant is allowed (or no merchant is named) and it is
    /// in one of the store lists (or no list is named). Store searches state the same rule
    /// in SQL (`kindling_store::offers::eligibility`); the two change together.
    pub fn allows(&self, store_merchant: i64, store_lists: &[i64]) -> bool {
        let merchant_ok = self.merchant_ids.is_empty() || self.merchant_ids.contains(&store_merchant);
        let list_ok = self.store_list_ids.is_empty() || self.store_list_ids.iter().any(|l| store_lists.contains(l));
        merchant_ok && list_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn restrictions_combine() {
        let open = StoreRule::default();
        assert!(open.allows(1, &[]));
        let merchant = StoreRule { merchant_ids: vec![1], store_list_ids: vec![] };
        assert!(merchant.allows(1, &[]) && !merchant.allows(2, &[]));
        let both = StoreRule { merchant_ids: vec![1], store_list_ids: vec![10] };
        assert!(both.allows(1, &[10, 11]));
        assert!(!both.allows(1, &[11]), "right merchant, wrong list");
        assert!(!both.allows(2, &[10]), "right list, wrong merchant");
    }

    proptest! {
        #[test]
        fn adding_a_restriction_never_widens(m in 0i64..5, lists in proptest::collection::vec(0i64..5, 0..3),
                                              allowed in proptest::collection::vec(0i64..5, 0..3), extra in 0i64..5) {
            let base = StoreRule { merchant_ids: vec![], store_list_ids: allowed.clone() };
            let narrower = StoreRule { merchant_ids: vec![extra], store_list_ids: allowed };
            prop_assert!(!narrower.allows(m, &lists) || base.allows(m, &lists));
        }
    }
}
