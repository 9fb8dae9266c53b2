//! Offer rules: what an offer's `offer_type`, `criteria` and value columns mean at the point
//! of sale. `offer_type` picks the reward; `criteria` refines it (documented in docs/POS.md);
//! unknown criteria keys are kept and ignored, an unknown type is refused.

use super::criteria::{missing, truthy, Criteria};
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
    Items {
        target: ItemMatch,
        count: Option<u32>,
        value: UnitValue,
    },
    Basket {
        eligible: ItemMatch,
        value: BasketValue,
    },
    /// Pays up to `balance` of what is left of the ticket.
    StoredValue {
        balance: Cents,
    },
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

/// Which target units an offer rewards first when the basket has more than it rewards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Select {
    /// The lowest unit prices first (the merchant's usual "get the cheaper one").
    #[default]
    Cheapest,
    MostExpensive,
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
    /// Which target units are rewarded first.
    pub select: Select,
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
/// Values that come from the offer's columns (`reward_item_value` for the amount-off
/// types) are checked by `build`.
pub fn validate(offer_type: i64, criteria: Option<&Map<String, Value>>) -> Result<(), RuleError> {
    let kind = OfferType::from_code(offer_type).ok_or(RuleError::UnknownType(offer_type))?;
    let c = Criteria::parse(criteria)?;
    match kind {
        OfferType::ItemPercentOff | OfferType::BasketPercentOff if c.percent.is_none() => {
            Err(missing("percent", "a percentage from 0 to 100 is required for this offer type"))
        }
        OfferType::ItemFixedPrice if c.price.is_none() => {
            Err(missing("price", "a price in cents is required for this offer type"))
        }
        _ => Ok(()),
    }
}

/// Builds the rule an evaluation uses from the offer's columns.
pub fn build(input: &RuleInput<'_>) -> Result<Rule, RuleError> {
    validate(input.offer_type, input.criteria)?;
    let kind = OfferType::from_code(input.offer_type).ok_or(RuleError::UnknownType(input.offer_type))?;
    let c = Criteria::parse(input.criteria)?;
    for (name, v) in [
        ("reward_item_value", input.reward_item_value),
        ("max_amount", input.max_amount),
        ("min_spend_amount", input.min_spend_amount),
        ("trigger_amount", input.trigger_amount),
    ] {
        if v.is_some_and(|v| v < 0) {
            return Err(missing(name, "must not be negative"));
        }
    }
    let redemption_codes = || {
        let mut codes = input.redemption.as_ref().map(|(codes, _)| codes.clone()).unwrap_or_default();
        codes.extend(c.item_codes.iter().cloned());
        codes
    };
    let has_targets = input.redemption.is_some() || !c.item_codes.is_empty();
    let targets = || if has_targets { ItemMatch::Codes(redemption_codes()) } else { ItemMatch::Any };
    let redemption_count = input.redemption.as_ref().map(|(_, n)| *n).filter(|n| *n > 0);
    let amount_off = || {
        c.amount_off
            .or(input.reward_item_value)
            .ok_or_else(|| missing("amount_off", "an amount in cents is required (or reward_item_value)"))
    };
    let reward = match kind {
        OfferType::ItemReward if !has_targets => Reward::PosDefined,
        OfferType::ItemReward => {
            let value = match c.value {
                Some(v) => v,
                None => input.reward_item_value.map_or(UnitValue::Free, UnitValue::FreeUpTo),
            };
            Reward::Items { target: targets(), count: Some(c.count.or(redemption_count).unwrap_or(1)), value }
        }
        OfferType::ItemAmountOff => Reward::Items {
            target: targets(),
            count: c.count.or(redemption_count),
            value: UnitValue::AmountOff(amount_off()?),
        },
        OfferType::ItemPercentOff => Reward::Items {
            target: targets(),
            count: c.count.or(redemption_count),
            value: UnitValue::Percent(c.percent.unwrap_or_default()),
        },
        OfferType::ItemFixedPrice => Reward::Items {
            target: targets(),
            count: c.count.or(redemption_count),
            value: UnitValue::FixedPrice(c.price.unwrap_or_default()),
        },
        OfferType::BasketAmountOff => Reward::Basket { eligible: targets(), value: BasketValue::Amount(amount_off()?) },
        OfferType::BasketPercentOff => {
            Reward::Basket { eligible: targets(), value: BasketValue::Percent(c.percent.unwrap_or_default()) }
        }
        OfferType::StoredValue => Reward::StoredValue { balance: input.remaining_value.unwrap_or(0).max(0) },
    };
    let level = c.level.unwrap_or(match reward {
        Reward::PosDefined | Reward::Items { .. } => Level::Item,
        Reward::Basket { .. } => Level::Basket,
        Reward::StoredValue { .. } => Level::Tender,
    });
    let flag = |key: &str| input.formatting.and_then(|f| f.get(key)).and_then(truthy);
    let best_deal = flag("highest_value_to_customer") == Some(true);
    let stacking = Stacking {
        level,
        group: c.group.clone().or_else(|| best_deal.then(|| BEST_DEAL_GROUP.to_owned())),
        mode: c.group_mode.unwrap_or(if best_deal { GroupMode::BestDeal } else { GroupMode::Stack }),
        exclusive: c.exclusive.unwrap_or(flag("multiple_offers_can_be_combined_on_an_order") == Some(false)),
        priority: c.priority.unwrap_or(0),
    };
    let min_spend = match (input.min_spend_amount, input.trigger_amount) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
    .filter(|v| *v > 0);
    Ok(Rule {
        offer_type: kind,
        min_spend,
        requires: input.required.as_ref().map(|(codes, n)| (ItemMatch::Codes(codes.clone()), (*n).max(1))),
        reward,
        max_amount: input.max_amount,
        repeat: c.repeat.unwrap_or(Some(1)),
        select: c.select.unwrap_or_default(),
        stacking,
    })
}

/// The group `highest_value_to_customer` offers share when criteria names none.
pub const BEST_DEAL_GROUP: &str = "highest_value_to_customer";
