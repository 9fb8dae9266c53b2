//! Store check-ins: the counted visits of a member at a store, under the domain's policy
//! (`kindling_domain::engine::check_in`: distance and cooldown).

use crate::members::Members;
use crate::{crud, Db, Dialect, Exec, FromRow, Reader, Result, Row, StoreError, Tx};
use kindling_domain::engine::check_in::{self, Refusal};
use kindling_domain::{AccountId, MemberId, StoreId, Timestamp};

/// A store as one member sees it: the spec's `member_store`, plus what the policy needs.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberStore {
    pub id: StoreId,
    pub name: String,
    pub location: Option<(f64, f64)>,
    pub total_check_ins: i64,
    pub last_check_in: Option<Timestamp>,
}

impl MemberStore {
    /// Whether a check-in now would pass the cooldown (the distance depends on where the
    /// member will stand, so it is not part of this).
    pub fn can_check_in(&self, now: Timestamp) -> bool {
        check_in::cooled_down(self.last_check_in, now).is_ok()
    }
}

impl FromRow for MemberStore {
    fn from_row(row: &impl Row) -> Result<Self> {
        let location = match (row.opt_float("lat")?, row.opt_float("lng")?) {
            (Some(lat), Some(lng)) => Some((lat, lng)),
            _ => None,
        };
        Ok(Self {
            id: StoreId(row.int("id")?),
            name: row.text("name")?,
            location,
            total_check_ins: row.int("total_check_ins")?,
            last_check_in: row.opt_time("last_check_in")?,
        })
    }
}

/// The account's store with the member's check-ins there; `None` for a store not in the
/// account. The member is not checked here.
pub async fn member_store(
    exec: &mut impl Exec,
    account: AccountId,
    member: MemberId,
    store: StoreId,
) -> Result<Option<MemberStore>> {
    exec.fetch_optional(
        "SELECT s.id, s.name, s.lat, s.lng, \
         (SELECT COUNT(*) FROM check_ins c WHERE c.member_id = $3 AND c.store_id = s.id) AS total_check_ins, \
         (SELECT MAX(c.created_at) FROM check_ins c WHERE c.member_id = $3 AND c.store_id = s.id) AS last_check_in \
         FROM stores s WHERE s.account_id = $1 AND s.id = $2",
        &[account.into(), store.into(), member.into()],
    )
    .await
}

/// `member_store` on the shared pool.
pub async fn member_store_now(
    db: &Db,
    account: AccountId,
    member: MemberId,
    store: StoreId,
) -> Result<Option<MemberStore>> {
    member_store(&mut Reader(db), account, member, store).await
}

/// Why a check-in was not recorded.
#[derive(Debug)]
pub enum CheckInError {
    MemberNotFound,
    StoreNotFound,
    Refused(Refusal),
    Store(StoreError),
}

impl From<StoreError> for CheckInError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Records a check-in of `member` standing at `at`, if the policy allows it. On PostgreSQL
/// the member's row is locked first, so two concurrent check-ins of one member take turns
/// and the second sees the first (and is refused by the cooldown); SQLite's single writer
/// already runs them one after the other.
pub async fn check_in(
    db: &Db,
    account: AccountId,
    member: MemberId,
    store: StoreId,
    at: (f64, f64),
) -> std::result::Result<(), CheckInError> {
    db.transaction(move |tx| {
        Box::pin(async move {
            if !member_exists(tx, account, member).await? {
                return Err(CheckInError::MemberNotFound);
            }
            let now = Timestamp::now();
            let visit = member_store(tx, account, member, store).await?.ok_or(CheckInError::StoreNotFound)?;
            check_in::decide(at, visit.location, visit.last_check_in, now).map_err(CheckInError::Refused)?;
            tx.execute(
                "INSERT INTO check_ins (account_id, member_id, store_id, lat, lng, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[account.into(), member.into(), store.into(), at.0.into(), at.1.into(), now.unix().into()],
            )
            .await?;
            Ok(())
        })
    })
    .await
}

async fn member_exists(tx: &mut Tx, account: AccountId, member: MemberId) -> Result<bool> {
    if tx.dialect() == Dialect::Postgres {
        let locked: Option<i64> = tx
            .fetch_optional(
                "SELECT id FROM members WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE",
                &[account.into(), member.into()],
            )
            .await?;
        return Ok(locked.is_some());
    }
    crud::contains::<Members>(tx, account, member).await
}
