//! Loyalty points: one balance per member per channel, changed only by transfers.
//!
//! A transfer adds `points` (negative to spend) and is named by the caller's `txid`, unique
//! in the account: the store records the first transfer of a txid and answers every replay
//! with that first result, so a retried request never credits twice. No transfer may leave
//! a balance below zero.

use serde::Serialize;

/// The most points one transfer may move either way, so no sum of transfers overflows.
pub const MAX_TRANSFER: i64 = 1_000_000_000;
/// The longest `identifier` or `txid` accepted (as for other identifiers).
pub const MAX_TEXT: usize = 255;

/// A transfer's parameters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub points: i64,
    pub txid: String,
}

/// How the point of sale names the transfers of a settled ticket (`pos:...`) and of its void
/// (`void:pos:...`), in the same txid namespace as clients' transfers; a client's txid may
/// not start so, or a client could take a ticket's txid first and leave it unsettleable.
pub const POS_TXID_PREFIXES: [&str; 2] = ["pos:", "void:"];

/// Why a transfer's parameters are refused (a 400).
pub fn transfer(points: i64, txid: &str) -> Result<Transfer, String> {
    if points == 0 || points.unsigned_abs() > MAX_TRANSFER.unsigned_abs() {
        return Err(format!("points must be a non-zero integer between -{MAX_TRANSFER} and {MAX_TRANSFER}"));
    }
    let txid = text("txid", txid)?;
    if POS_TXID_PREFIXES.iter().any(|prefix| txid.starts_with(prefix)) {
        return Err("txid must not start with pos: or void: (the point of sale's own transfers)".into());
    }
    Ok(Transfer { points, txid: txid.to_owned() })
}

/// A required text parameter, trimmed: not blank, at most `MAX_TEXT` characters.
pub fn text<'a>(name: &str, raw: &'a str) -> Result<&'a str, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(format!("{name} is required"));
    }
    if trimmed.chars().count() > MAX_TEXT {
        return Err(format!("{name} is too long (maximum is {MAX_TEXT} characters)"));
    }
    Ok(trimmed)
}

/// The spec's `points_card_status` (`{message}`), with the balance also as a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardStatus {
    pub message: String,
    pub balance: i64,
}

impl CardStatus {
    pub fn balance(balance: i64) -> Self {
        Self { message: format!("Card balance: {balance} points"), balance }
    }

    pub fn transferred(points: i64, balance: i64) -> Self {
        Self { message: format!("Transferred {points} points; card balance: {balance} points"), balance }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_are_bounded_and_named() {
        assert_eq!(transfer(-5, " tx-1 "), Ok(Transfer { points: -5, txid: "tx-1".into() }));
        assert!(transfer(0, "tx").is_err());
        assert!(transfer(MAX_TRANSFER + 1, "tx").is_err());
        assert!(transfer(-MAX_TRANSFER, "tx").is_ok());
        assert_eq!(transfer(1, "  "), Err("txid is required".into()));
        assert!(transfer(1, &"x".repeat(256)).is_err());
        assert!(transfer(1, "pos:7:8:9").is_err() && transfer(1, " void:pos:7:8:9").is_err());
        assert!(transfer(1, "POS-7").is_ok() && transfer(1, "repos:1").is_ok());
        assert_eq!(CardStatus::transferred(20, 120).message, "Transferred 20 points; card balance: 120 points");
    }
}
