//! The check-in policy: a member checks in at a store from where they stand, and each
//! check-in counts toward the store's `total_check_ins` for that member.
//!
//! - **Distance**: when the store has coordinates, the member's position must be within
//!   `MAX_DISTANCE_METERS` of them (great-circle distance, as store searches measure it). A
//!   store without coordinates cannot be checked against, so any position on the globe counts.
//! - **Cooldown**: at most one check-in per member per store every `COOLDOWN_SECONDS`;
//!   `can_check_in` is false until the last one is that old.
//!
//! A refused check-in records nothing.

use crate::offers::geo::distance_meters;
use crate::Timestamp;

/// How far from the store's coordinates a check-in may be made.
pub const MAX_DISTANCE_METERS: i64 = 500;
/// How long after a check-in the member may check in at the same store again.
pub const COOLDOWN_SECONDS: i64 = 60 * 60;

/// Why a check-in is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    TooFar { meters: i64 },
    TooSoon { next_at: Timestamp },
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Self::TooFar { meters } => {
                format!("Member is {meters} m from the store; check-ins must be within {MAX_DISTANCE_METERS} m of it")
            }
            Self::TooSoon { next_at } => {
                format!("Member has already checked in at this store; the next check-in is allowed at {next_at}")
            }
        }
    }
}

/// Whether the member may check in again after their last check-in at the store.
pub fn cooled_down(last: Option<Timestamp>, now: Timestamp) -> Result<(), Refusal> {
    match last {
        Some(last) if now.unix() < last.unix().saturating_add(COOLDOWN_SECONDS) => {
            Err(Refusal::TooSoon { next_at: Timestamp::from_unix(last.unix() + COOLDOWN_SECONDS) })
        }
        _ => Ok(()),
    }
}

/// Checks a check-in from `member_at` at a store located at `store_at` (if it has coordinates).
pub fn decide(
    member_at: (f64, f64),
    store_at: Option<(f64, f64)>,
    last: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), Refusal> {
    if let Some(store_at) = store_at {
        let meters = distance_meters(member_at, store_at);
        if meters > MAX_DISTANCE_METERS {
            return Err(Refusal::TooFar { meters });
        }
    }
    cooled_down(last, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORE: (f64, f64) = (39.7392, -104.9903);

    #[test]
    fn distance_and_cooldown() {
        let now = Timestamp::from_unix(1_700_000_000);
        assert_eq!(decide(STORE, Some(STORE), None, now), Ok(()));
        // About 0.004° of latitude is 445 m: inside; 0.005° is 556 m: outside.
        assert_eq!(decide((39.7432, -104.9903), Some(STORE), None, now), Ok(()));
        assert!(matches!(decide((39.7442, -104.9903), Some(STORE), None, now), Err(Refusal::TooFar { meters: 556 })));
        assert_eq!(decide((0.0, 0.0), None, None, now), Ok(()));
        let last = Timestamp::from_unix(now.unix() - COOLDOWN_SECONDS + 1);
        assert_eq!(
            decide(STORE, Some(STORE), Some(last), now),
            Err(Refusal::TooSoon { next_at: Timestamp::from_unix(now.unix() + 1) })
        );
        let last = Timestamp::from_unix(now.unix() - COOLDOWN_SECONDS);
        assert_eq!(decide(STORE, Some(STORE), Some(last), now), Ok(()));
    }
}
