//! The offer lifecycle: pending → approved ⇄ suspended, and anything → archived (final).

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OfferStatus {
    Pending,
    Approved,
    Suspended,
    Archived,
}

impl OfferStatus {
    pub const ALL: [Self; 4] = [Self::Pending, Self::Approved, Self::Suspended, Self::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Suspended => "suspended",
            Self::Archived => "archived",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether an offer in `self` may move to `next`. Staying put is always allowed.
    pub fn can_become(self, next: Self) -> bool {
        use OfferStatus::*;
        self == next
            || matches!(
                (self, next),
                (Pending, Approved)
                    | (Pending, Archived)
                    | (Approved, Suspended)
                    | (Approved, Archived)
                    | (Suspended, Approved)
                    | (Suspended, Archived)
            )
    }

    /// The error for a refused transition.
    pub fn transition_error(self, next: Self) -> String {
        format!("can't change from {self} to {next}")
    }
}

impl fmt::Display for OfferStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::OfferStatus::*;
    use super::*;

    #[test]
    fn lifecycle() {
        assert!(Pending.can_become(Approved));
        assert!(Approved.can_become(Suspended) && Suspended.can_become(Approved));
        assert!(!Archived.can_become(Approved) && !Archived.can_become(Pending));
        assert!(!Approved.can_become(Pending));
        assert!(!Suspended.can_become(Pending));
        assert!(OfferStatus::ALL.iter().all(|s| s.can_become(*s)));
        assert!(OfferStatus::ALL.iter().all(|s| *s == Archived || s.can_become(Archived)));
    }
}
