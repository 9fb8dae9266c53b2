//! The Admin Portal's people: who may sign in (an email, unique across all accounts), and
//! what each role may do. The rules live here so the pages and the CLI cannot disagree.

use crate::StoreId;
use std::fmt;

/// A portal user's role, as stored (`role` column) and typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything an editor may, and (later) the account's users and keys.
    Owner,
    /// Sees the whole account; redeems and voids codes at any of its stores.
    Editor,
    /// Sees the whole account; changes nothing.
    Viewer,
    /// Looks up codes and redeems them at their own stores; nothing else.
    StoreOperator,
}

impl Role {
    pub const ALL: [Self; 4] = [Self::Owner, Self::Editor, Self::Viewer, Self::StoreOperator];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
            Self::StoreOperator => "store_operator",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// How the pages name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Editor => "Editor",
            Self::Viewer => "Viewer",
            Self::StoreOperator => "Store operator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A store operator's stores: never empty, sorted, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSet(Vec<StoreId>);

impl StoreSet {
    pub fn new(stores: impl IntoIterator<Item = StoreId>) -> Option<Self> {
        let mut stores: Vec<StoreId> = stores.into_iter().collect();
        stores.sort_unstable();
        stores.dedup();
        (!stores.is_empty()).then_some(Self(stores))
    }

    pub fn contains(&self, store: StoreId) -> bool {
        self.0.binary_search(&store).is_ok()
    }

    pub fn ids(&self) -> &[StoreId] {
        &self.0
    }
}

/// What a signed-in user may do: a role, with the stores that bound a store operator. A
/// store operator without stores, or another role with stores, cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Owner,
    Editor,
    Viewer,
    StoreOperator(StoreSet),
}

/// Why a role and a list of stores do not make an `Access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessError {
    OperatorWithoutStores,
    StoresWithoutOperator,
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OperatorWithoutStores => "a store_operator needs at least one --store",
            Self::StoresWithoutOperator => "only a store_operator has stores (--store)",
        })
    }
}

impl Access {
    pub fn new(role: Role, stores: &[StoreId]) -> Result<Self, AccessError> {
        match role {
            Role::StoreOperator => {
                StoreSet::new(stores.iter().copied()).map(Self::StoreOperator).ok_or(AccessError::OperatorWithoutStores)
            }
            _ if !stores.is_empty() => Err(AccessError::StoresWithoutOperator),
            Role::Owner => Ok(Self::Owner),
            Role::Editor => Ok(Self::Editor),
            Role::Viewer => Ok(Self::Viewer),
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Self::Owner => Role::Owner,
            Self::Editor => Role::Editor,
            Self::Viewer => Role::Viewer,
            Self::StoreOperator(_) => Role::StoreOperator,
        }
    }

    /// The stores that bound this user, or `None` for every store of the account.
    pub fn stores(&self) -> Option<&StoreSet> {
        match self {
            Self::StoreOperator(stores) => Some(stores),
            _ => None,
        }
    }

    /// Whether the account-wide pages (dashboard, offers) are shown.
    pub fn sees_account(&self) -> bool {
        !matches!(self, Self::StoreOperator(_))
    }

    /// Whether this user may change anything of the account (offers, codes, ...).
    pub fn can_edit(&self) -> bool {
        matches!(self, Self::Owner | Self::Editor)
    }

    /// Whether this user may redeem a code at `store` (`None`: at no particular store).
    pub fn can_redeem_at(&self, store: Option<StoreId>) -> bool {
        match (self, store) {
            (Self::Owner | Self::Editor, _) => true,
            (Self::StoreOperator(stores), Some(store)) => stores.contains(store),
            (Self::StoreOperator(_), None) | (Self::Viewer, _) => false,
        }
    }

    /// Voiding takes a code back from the member, which a store operator may not do.
    pub fn can_void(&self) -> bool {
        self.can_edit()
    }
}

/// The longest email kept (RFC 5321's path limit).
const EMAIL_MAX: usize = 254;

/// A sign-in email as stored and compared: trimmed and lowercased, so `Ann@Example.com ` and
/// `ann@example.com` are one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// `None` unless it looks like `local@domain` (one `@`, no spaces or control
    /// characters, at most 254 characters): no mail is sent, so no more is checked.
    pub fn parse(raw: &str) -> Option<Self> {
        let email = raw.trim().to_lowercase();
        let (local, domain) = email.split_once('@')?;
        let plain =
            |s: &str| !s.is_empty() && !s.contains('@') && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        (email.len() <= EMAIL_MAX && plain(local) && plain(domain)).then_some(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The bounds of a password typed by a person (one made by `secret::new_password` fits).
pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// Why a password is refused, in words for the CLI.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(format!("the password must be at least {PASSWORD_MIN_CHARS} characters"));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(format!("the password must be at most {PASSWORD_MAX_BYTES} bytes"));
    }
    Ok(())
}

/// A portal session lasts 12 hours from sign-in; then the user signs in again.
pub const SESSION_LIFETIME_SECONDS: i64 = 12 * 60 * 60;

/// How long a browser stays known after it signed in (its device cookie): 90 days.
pub const DEVICE_LIFETIME_SECONDS: i64 = 90 * 24 * 60 * 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
        assert_eq!(Role::parse("Owner"), None);
    }

    #[test]
    fn a_store_operator_needs_stores_and_only_they_have_them() {
        assert_eq!(Access::new(Role::StoreOperator, &[]), Err(AccessError::OperatorWithoutStores));
        assert_eq!(Access::new(Role::Editor, &[StoreId(1)]), Err(AccessError::StoresWithoutOperator));
        let op = Access::new(Role::StoreOperator, &[StoreId(3), StoreId(1), StoreId(3)]).unwrap();
        assert_eq!(op.stores().unwrap().ids(), [StoreId(1), StoreId(3)]);
        assert_eq!(op.role(), Role::StoreOperator);
        assert_eq!(Access::new(Role::Owner, &[]), Ok(Access::Owner));
    }

    #[test]
    fn what_each_role_may_do() {
        let op = Access::new(Role::StoreOperator, &[StoreId(1)]).unwrap();
        assert!(op.can_redeem_at(Some(StoreId(1))));
        assert!(!op.can_redeem_at(Some(StoreId(2))) && !op.can_redeem_at(None));
        assert!(!op.can_void() && !op.can_edit() && !op.sees_account());
        for access in [Access::Owner, Access::Editor] {
            assert!(access.can_edit() && access.can_void() && access.sees_account());
            assert!(access.can_redeem_at(Some(StoreId(9))) && access.can_redeem_at(None));
        }
        let viewer = Access::Viewer;
        assert!(viewer.sees_account());
        assert!(!viewer.can_edit() && !viewer.can_void() && !viewer.can_redeem_at(Some(StoreId(1))));
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_plain() {
        assert_eq!(Email::parse("  Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in ["", "ann", "@example.com", "ann@", "a b@example.com", "a@b@c", "ann@exa\u{0}mple.com"] {
            assert_eq!(Email::parse(bad), None, "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_none());
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(check_password("short").is_err());
        assert!(check_password("twelve chars").is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
        assert!(check_password(&crate::secret::new_password()).is_ok());
    }
}
