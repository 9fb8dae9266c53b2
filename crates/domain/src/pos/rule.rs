//! Offer rules: what an offer's `offer_type`, `criteria` and value columns mean at the point
//! of sale. `offer_type` picks the reward; `criteria` refines it (documented in docs/POS.md);
//! unknown criteria keys are kept and ignored, an unknown type is refused.

use super::Cents;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The reward kinds Kindling knows, by their `offer_type` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfferType {
    /// 0: buy the required items, get the redemption items free (or capped at
    /// `reward_item_value`); no redemption items: the POS prices the code itself.
    ItemReward,
    /// 1: an amount off each rewarded unit.
    ItemAmountOff,
    /// 2: a percentage off each rewarded unit.
    ItemPercentOff,
    /// 3: rewarded units sold at a fixed price.
    ItemFixedPrice,
    /// 4: an amount off the eligible basket.
    BasketAmountOff,
    /// 5: a percentage off the eligible basket.
    BasketPercentOff,
    /// 6: stored value (`redeem_until_depleted`): pays up to the remaining balance.
    StoredValue,
}

/// Why an offer's rule cannot be built or saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// `offer_type` is not one of the known codes: a 422.
    UnknownType(i64),
    /// A criteria key the engine reads has a bad value: field name and message (a 422 too).
    Criteria(String, String),
}

/// Which items an offer looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemMatch {
    Any,
    /// POS item codes (`ic`), from the offer's item sets.
    Codes(BTreeSet<String>),
}

/// The value of one rewarded unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitValue {
    Free,
    /// Free, but never more than this per unit (`reward_item_value`).
    FreeUpTo(Cents),
    /// Basis points (1% = 100).
    Percent(u32),
    AmountOff(Cents),
    FixedPrice(Cents),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasketValue {
    Amount(Cents),
    /// Basis points.
    Percent(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reward {
    /// The POS prices the code itself (`pos_offer_code`): applies with amount 0.
    PosDefined,
    /// `count` units of `target` per application (`None`: every matching unit), each at `value`.
    Items { target: ItemMatch, count: Option<u32>, value: UnitValue },
    Basket { eligible: ItemMatch, value: BasketValue },
    /// Pays up to `balance` of what is left of the ticket.
    StoredValue { balance: Cents },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Item,
    Basket,
    Tender,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupMode {
    /// Every offer of the group applies, each on what the earlier ones left.
    Stack,
    /// Only the offer worth most to the customer applies.
    BestDeal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stacking {
    pub level: Level,
    pub group: Option<String>,
    pub mode: GroupMode,
    /// Competes as a best deal against all the other offers of its level.
    pub exclusive: bool,
    /// Higher first within a level; ties by offer id.
    pub priority: i32,
}

/// An offer's rule, ready to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub offer_type: OfferType,
    /// The spend (after item-level discounts) the ticket must reach.
    pub min_spend: Option<Cents>,
    /// Units that must be bought (and are not rewarded) per application.
    pub requires: Option<(ItemMatch, u32)>,
    pub reward: Reward,
    /// Cap on the offer's total discount on one ticket (`max_amount`).
    pub max_amount: Option<Cents>,
    /// Applications per ticket; `None` is as many as the basket allows.
    pub repeat: Option<u32>,
    pub stacking: Stacking,
}

/// The offer's columns the engine reads, with its item sets resolved to item codes.
#[derive(Debug, Clone, Default)]
pub struct RuleInput<'a> {
    pub offer_type: i64,
    pub criteria: Option<&'a Map<String, Value>>,
    pub formatting: Option<&'a Map<String, Value>>,
    pub reward_item_value: Option<Cents>,
    pub max_amount: Option<Cents>,
    pub min_spend_amount: Option<Cents>,
    pub trigger_amount: Option<Cents>,
    /// Required (qualifying) item codes and count: `required_item_set_id`/`required_item_count`.
    pub required: Option<(BTreeSet<String>, u32)>,
    /// Redemption (rewarded) item codes and count: `redemption_item_set_id`/`redemption_item_count`.
    pub redemption: Option<(BTreeSet<String>, u32)>,
    /// The stored-value balance left (credential or offer `initial_remaining_value`).
    pub remaining_value: Option<Cents>,
}

impl OfferType {
    pub const ALL: [OfferType; 7] = [
        OfferType::ItemReward,
        OfferType::ItemAmountOff,
        OfferType::ItemPercentOff,
        OfferType::ItemFixedPrice,
        OfferType::BasketAmountOff,
        OfferType::BasketPercentOff,
        OfferType::StoredValue,
    ];

    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The type's name in docs/POS.md and error messages.
    pub fn name(self) -> &'static str {
        match self {
            OfferType::ItemReward => "item_reward",
            OfferType::ItemAmountOff => "item_amount_off",
            OfferType::ItemPercentOff => "item_percent_off",
            OfferType::ItemFixedPrice => "item_fixed_price",
            OfferType::BasketAmountOff => "basket_amount_off",
            OfferType::BasketPercentOff => "basket_percent_off",
            OfferType::StoredValue => "stored_value",
        }
    }

    pub fn code(self) -> i64 {
        match self {
            OfferType::ItemReward => 0,
            OfferType::ItemAmountOff => 1,
            OfferType::ItemPercentOff => 2,
            OfferType::ItemFixedPrice => 3,
            OfferType::BasketAmountOff => 4,
            OfferType::BasketPercentOff => 5,
            OfferType::StoredValue => 6,
        }
    }
}

/// Checks an offer's type and the criteria keys the engine reads, at save time.
pub fn validate(_offer_type: i64, _criteria: Option<&Map<String, Value>>) -> Result<(), RuleError> {
    unimplemented!("engine: filled in by the pos-engine work")
}

/// Builds the rule an evaluation uses from the offer's columns.
pub fn build(_input: &RuleInput<'_>) -> Result<Rule, RuleError> {
    unimplemented!("engine: filled in by the pos-engine work")
}
