//! Reports: offer activity, redemptions, the merchant and account-level redemption reports
//! and unique impressions, read from the records the credential writes, the point of sale
//! and landing pages leave (`offer_activities`, `redemptions` with their tickets'
//! `pos_transactions` and `pos_transaction_items`, `impressions`). Every statement is scoped to
//! the account and aggregates in SQL; a report is a fixed number of statements whatever its
//! size. docs/API-DESIGN.md ("Reports") gives the rules.

pub mod activity;
pub mod impressions;
pub mod merchant;
pub mod redemptions;

use crate::{Exec, Result};
use kindling_domain::{AccountId, Timestamp};

/// The account's time zone (business dates and day buckets follow it; UTC when unset).
pub async fn time_zone(exec: &mut impl Exec, account: AccountId) -> Result<Option<String>> {
    let zone = exec
        .fetch_optional::<String>(
            "SELECT COALESCE(time_zone, '') AS time_zone FROM accounts WHERE id = $1",
            &[account.into()],
        )
        .await?;
    Ok(zone.filter(|z| !z.is_empty()))
}

/// `2030-01-02T00:00:00Z`: a business date where the spec types it as a date-time (§5 #15:
/// a date alone in a date-time field breaks the generated client).
pub fn midnight(date: &str) -> String {
    format!("{date}T00:00:00Z")
}

/// The date (`YYYY-MM-DD`) of a day bucket numbered from the epoch in local days.
pub fn day_label(day: i64) -> String {
    Timestamp::from_unix(day.saturating_mul(86_400)).to_string().chars().take(10).collect()
}
