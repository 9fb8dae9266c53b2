//! Deletion requests. A request voids the member's open credentials at once (through the
//! credential void, so activities, callbacks and limits stay consistent; an offer state
//! holding one shows "voided") and records when the member is to be anonymized: the
//! account's `privacy_retention_days` (default 7) after the request. The request row is the
//! job's schedule, so a restart loses nothing; a worker claims due rows with a lease and
//! anonymizes each in one transaction, which also stamps the row done, so it runs once.

use super::{find, PrivacyError, Subject};
use crate::credentials::write::{self, WriteError};
use crate::{Db, Dialect, FromRow, Result, Row, Tx};
use kindling_domain::credentials::CredentialStatus;
use kindling_domain::{secret, AccountId, CredentialId, MemberId, Timestamp};
use sea_query::{Cond, Expr, Order, Query};

/// How long a member is kept after a deletion request when the account sets nothing.
pub const DEFAULT_RETENTION_DAYS: i64 = 7;
const DAY: i64 = 24 * 60 * 60;

/// Voids the member's open credentials, and their offer states, as of `now`.
async fn void_open_credentials(
    tx: &mut Tx,
    account: AccountId,
    member: MemberId,
    now: Timestamp,
) -> Result<(), PrivacyError> {
    let open: Vec<i64> = tx
        .fetch_all(
            "SELECT id FROM credentials WHERE account_id = $1 AND member_id = $2 AND status = 'open' ORDER BY id",
            &[account.into(), member.into()],
        )
        .await?;
    for id in open.into_iter().map(CredentialId) {
        // Locked and read again (on PostgreSQL the read waits for a concurrent redeem or
        // transfer and sees its result): a code redeemed or moved to another member since
        // the list was read is not this request's to void.
        let current = crate::crud::lock::<crate::credentials::Credentials>(tx, account, &[], id).await?;
        if !current.is_some_and(|c| c.status == CredentialStatus::Open && c.member_id == member) {
            continue;
        }
        tx.execute(
            "UPDATE offer_states SET voided_at = $3, updated_at = $3 WHERE credential_id = $1 AND account_id = $2 \
             AND member_id = $4 AND voided_at IS NULL",
            &[id.into(), account.into(), now.unix().into(), member.into()],
        )
        .await?;
        match write::void_in(tx, account, id).await {
            // Voided or deleted by a concurrent request since it was read: nothing left to do.
            Ok(()) | Err(WriteError::Invalid(_) | WriteError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `POST /privacy/member/delete_request`: voids the member's open credentials now and
/// schedules the anonymization. A second request of the same member voids what was issued
/// since and keeps the first request's schedule.
pub async fn request(db: &Db, account: AccountId, subject: Subject) -> Result<(), PrivacyError> {
    db.transaction(move |tx| {
        Box::pin(async move {
            let now = Timestamp::now();
            let member = find(tx, account, &subject).await?;
            let retention: Option<i64> = tx
                .fetch_optional(
                    "SELECT COALESCE(privacy_retention_days, $2) FROM accounts WHERE id = $1",
                    &[account.into(), DEFAULT_RETENTION_DAYS.into()],
                )
                .await?;
            let days = retention.unwrap_or(DEFAULT_RETENTION_DAYS).max(0);
            tx.execute(
                "INSERT INTO member_deletion_requests (account_id, member_id, requested_at, anonymize_after) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (member_id) DO NOTHING",
                &[
                    account.into(),
                    member.into(),
                    now.unix().into(),
                    now.plus_seconds(days.saturating_mul(DAY)).unix().into(),
                ],
            )
            .await?;
            void_open_credentials(tx, account, member, now).await
        })
    })
    .await
}

/// A request claimed for anonymization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub id: i64,
    pub account_id: AccountId,
    pub member_id: MemberId,
}

impl FromRow for Due {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            account_id: AccountId(row.int("account_id")?),
            member_id: MemberId(row.int("member_id")?),
        })
    }
}

/// The member's callbacks, sent or not: a conversion's URL may carry their identifier
/// (`sf_uid`), a credential callback's body the credential's annotations, and an attempt's
/// error the URL. Those not yet delivered are given up ("the member was anonymized"); every
/// one keeps its row (for the delivery log's counts) without the URL, body or errors.
async fn scrub_callbacks(tx: &mut Tx, account: AccountId, member: MemberId, now: Timestamp) -> Result<()> {
    const GONE: &str = "the member was anonymized";
    tx.execute(
        "UPDATE callback_outbox SET failed_at = $3, last_error = $4 WHERE account_id = $1 AND member_id = $2 \
         AND delivered_at IS NULL AND failed_at IS NULL",
        &[account.into(), member.into(), now.unix().into(), GONE.into()],
    )
    .await?;
    tx.execute(
        "UPDATE callback_outbox SET url = '', body = NULL, \
         last_error = CASE WHEN last_error IS NULL THEN NULL ELSE $3 END \
         WHERE account_id = $1 AND member_id = $2",
        &[account.into(), member.into(), GONE.into()],
    )
    .await?;
    // The attempts after their callbacks, in the order the retention job's purge (a callback,
    // then its attempts by cascade) takes them, so the two cannot deadlock.
    tx.execute(
        "UPDATE callback_attempts SET error = $3 WHERE error IS NOT NULL AND outbox_id IN \
         (SELECT id FROM callback_outbox WHERE account_id = $1 AND member_id = $2)",
        &[account.into(), member.into(), GONE.into()],
    )
    .await
    .map(drop)
}

/// Claims up to `limit` requests due at `now` and not leased by another worker, until
/// `now + lease_seconds`; only `accounts`' when given (tests share one PostgreSQL database).
/// The conditions are checked again on each row as it is updated, so two workers never both
/// claim one request (the callback outbox claims the same way).
pub async fn claim(
    db: &Db,
    now: Timestamp,
    lease_seconds: i64,
    limit: i64,
    accounts: Option<&[AccountId]>,
) -> Result<Vec<Due>> {
    let due = || {
        let mut due = Cond::all()
            .add(Expr::col("anonymized_at").is_null())
            .add(Expr::col("anonymize_after").lte(now.unix()))
            .add(Cond::any().add(Expr::col("lease_until").is_null()).add(Expr::col("lease_until").lte(now.unix())));
        if let Some(accounts) = accounts {
            due = due.add(db.dialect().in_list("account_id", accounts));
        }
        due
    };
    let oldest = Query::select()
        .column("id")
        .from("member_deletion_requests")
        .cond_where(due())
        .order_by("id", Order::Asc)
        .limit(limit.max(0) as u64)
        .to_owned();
    let statement = Query::update()
        .table("member_deletion_requests")
        .value("lease_until", now.plus_seconds(lease_seconds).unix())
        .cond_where(due())
        .and_where(Expr::col("id").in_subquery(oldest))
        .returning(Query::returning().columns(["id", "account_id", "member_id"]))
        .to_owned();
    let (sql, params) = crate::query::build(&statement, db.dialect())?;
    db.write_returning_all(&sql, &params).await
}

/// Anonymizes a claimed request's member, once: `false` when it was already done. The
/// identifier becomes `deleted-<random>`; impressions lose their cookie, creative and
/// annotations; credentials their annotations; offer states their external reference;
/// zidentifiers, check-ins (positions) and member-list memberships are removed; credentials
/// issued since the request are voided. Redemptions, activities and points stay, now of an
/// anonymous member, so reports and limits keep their counts.
pub async fn anonymize(db: &Db, due: Due, now: Timestamp) -> Result<bool, PrivacyError> {
    db.transaction(move |tx| {
        Box::pin(async move {
            let (account, member) = (due.account_id, due.member_id);
            let claimed = tx
                .execute(
                    "UPDATE member_deletion_requests SET anonymized_at = $2 WHERE id = $1 AND anonymized_at IS NULL",
                    &[due.id.into(), now.unix().into()],
                )
                .await?;
            if claimed == 0 {
                return Ok(false);
            }
            if tx.dialect() == Dialect::Postgres {
                // The member's codes first, in id order, then the member's row (the scrub's
                // first write): a redemption locks its code and then, for a per-member
                // limit, the member, so taking the member first could deadlock with it.
                tx.execute(
                    "SELECT id FROM credentials WHERE account_id = $1 AND member_id = $2 ORDER BY id FOR NO KEY UPDATE",
                    &[account.into(), member.into()],
                )
                .await?;
            }
            let token = format!("deleted-{}", &secret::new_token()[..24]);
            let at = now.unix();
            let scrub: [(&str, Vec<crate::Value>); 7] = [
                (
                    "UPDATE members SET identifier = $3, updated_at = $4 WHERE account_id = $1 AND id = $2",
                    vec![account.into(), member.into(), token.as_str().into(), at.into()],
                ),
                (
                    "UPDATE impressions SET cookie_id = '', creative_name = NULL, annotations = '{}', updated_at = $3 \
                     WHERE account_id = $1 AND member_id = $2",
                    vec![account.into(), member.into(), at.into()],
                ),
                (
                    "UPDATE credentials SET annotations = '{}', updated_at = $3 WHERE account_id = $1 AND member_id = $2",
                    vec![account.into(), member.into(), at.into()],
                ),
                (
                    "UPDATE offer_states SET external_ref_id = NULL, updated_at = $3 WHERE account_id = $1 AND member_id = $2",
                    vec![account.into(), member.into(), at.into()],
                ),
                ("DELETE FROM zidentifiers WHERE account_id = $1 AND member_id = $2", vec![account.into(), member.into()]),
                ("DELETE FROM check_ins WHERE account_id = $1 AND member_id = $2", vec![account.into(), member.into()]),
                (
                    "DELETE FROM member_list_members WHERE account_id = $1 AND member_id = $2",
                    vec![account.into(), member.into()],
                ),
            ];
            for (sql, params) in scrub {
                tx.execute(sql, &params).await?;
            }
            scrub_callbacks(tx, account, member, now).await?;
            // After the scrub, so the void callbacks carry no annotations.
            void_open_credentials(tx, account, member, now).await?;
            Ok(true)
        })
    })
    .await
}
