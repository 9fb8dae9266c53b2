//! The callback outbox: rows written in the same transaction as the event they announce,
//! claimed by delivery workers (a lease makes concurrent workers on many processes skip rows
//! another has claimed), and marked delivered or failed with every attempt logged.

use crate::{Db, FromRow, Result, Row, Tx, Value};
use kindling_domain::{AccountId, ChannelId, MemberId, Timestamp};
use sea_query::{Cond, Expr, Order, Query};

/// How long a callback is retried before it is given up.
pub const RETRY_WINDOW_SECONDS: i64 = 24 * 60 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A channel's `conversion_callback_url`, requested with GET.
    Conversion,
    /// The account's `credential_callback_url`, POSTed the credential as JSON.
    Credential,
    /// A channel's `conversion_callback_url` with sample values, sent from the portal.
    Test,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conversion => "conversion",
            Self::Credential => "credential",
            Self::Test => "test",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Conversion, Self::Credential, Self::Test].into_iter().find(|k| k.as_str() == raw)
    }
}

/// A POST of `body` (a GET without one) to `url`; `member`: whom it is about (a credential
/// callback's member), so their anonymization scrubs it.
pub async fn enqueue(
    tx: &mut Tx,
    account: AccountId,
    kind: Kind,
    member: Option<MemberId>,
    url: &str,
    body: Option<String>,
    now: Timestamp,
) -> Result<()> {
    insert(tx, account, kind, (None, member), url, body, now).await
}

/// A GET of `url` for `channel` (its conversion or test callback), so the channel's delivery
/// log can list it; `member`: whom it is about (a conversion's), so their anonymization
/// scrubs it.
pub async fn enqueue_for_channel(
    tx: &mut Tx,
    account: AccountId,
    kind: Kind,
    channel: ChannelId,
    member: Option<MemberId>,
    url: &str,
    now: Timestamp,
) -> Result<()> {
    insert(tx, account, kind, (Some(channel), member), url, None, now).await
}

async fn insert(
    tx: &mut Tx,
    account: AccountId,
    kind: Kind,
    (channel, member): (Option<ChannelId>, Option<MemberId>),
    url: &str,
    body: Option<String>,
    now: Timestamp,
) -> Result<()> {
    let method = if body.is_some() { "POST" } else { "GET" };
    tx.execute(
        "INSERT INTO callback_outbox (account_id, kind, method, url, body, next_attempt_at, give_up_at, created_at, \
         channel_id, member_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $8, $9)",
        &[
            account.0.into(),
            kind.as_str().into(),
            method.into(),
            url.into(),
            body.into(),
            now.unix().into(),
            now.plus_seconds(RETRY_WINDOW_SECONDS).unix().into(),
            channel.map(|c| c.0).into(),
            member.map(|m| m.0).into(),
        ],
    )
    .await
    .map(drop)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub account_id: AccountId,
    pub method: String,
    pub url: String,
    pub body: Option<String>,
    /// Including the attempt being made now.
    pub attempts: i64,
    pub give_up_at: Timestamp,
}

impl FromRow for Job {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            id: row.int("id")?,
            account_id: AccountId(row.int("account_id")?),
            method: row.text("method")?,
            url: row.text("url")?,
            body: row.opt_text("body")?,
            attempts: row.int("attempts")?,
            give_up_at: row.time("give_up_at")?,
        })
    }
}

/// Claims the oldest due callback of each of up to `limit` accounts, skipping the `busy`
/// accounts (whose callbacks this worker is delivering now), until `now + lease`. One per
/// account keeps an account's callbacks in order within a worker, and its slow target from
/// holding up anyone else's. The outer condition is checked again on each row as it is
/// updated, so two workers never both claim one row.
pub async fn claim(db: &Db, now: Timestamp, lease_seconds: i64, limit: i64, busy: &[AccountId]) -> Result<Vec<Job>> {
    let due = || {
        Cond::all()
            .add(Expr::col("next_attempt_at").lte(now.unix()))
            .add(Expr::col("delivered_at").is_null())
            .add(Expr::col("failed_at").is_null())
    };
    let mut oldest = Query::select()
        .expr(Expr::col("id").min())
        .from("callback_outbox")
        .cond_where(due())
        .group_by_col("account_id")
        .order_by_expr(Expr::col("id").min(), Order::Asc)
        .limit(limit.max(0) as u64)
        .to_owned();
    // The busy accounts are one list parameter, whatever their number.
    if !busy.is_empty() {
        oldest.and_where(db.dialect().not_in_list("account_id", busy));
    }
    let statement = Query::update()
        .table("callback_outbox")
        .value("next_attempt_at", now.plus_seconds(lease_seconds).unix())
        .value("attempts", Expr::col("attempts").add(1))
        .cond_where(due())
        .and_where(Expr::col("id").in_subquery(oldest))
        .returning(Query::returning().columns(["id", "account_id", "method", "url", "body", "attempts", "give_up_at"]))
        .to_owned();
    let (sql, params) = crate::query::build(&statement, db.dialect())?;
    db.write_returning_all(&sql, &params).await
}

/// What one delivery attempt came to.
pub enum Outcome {
    Delivered { status: i64 },
    Retry { status: Option<i64>, error: String, next_attempt_at: Timestamp },
    GaveUp { status: Option<i64>, error: String },
}

/// Records an attempt and its outcome. A retry or a give-up is written only while the row is
/// still this attempt's (its `attempts` unchanged, neither delivered nor given up): when the
/// lease ran out mid-attempt and another worker claimed the row again, that worker's
/// schedule stands. A delivery is written whoever holds the row (the callback did arrive).
pub async fn record(db: &Db, job: &Job, at: Timestamp, duration_ms: i64, outcome: Outcome) -> Result<()> {
    let (status, error, update): (Option<i64>, Option<String>, (String, Vec<Value>)) = match outcome {
        Outcome::Delivered { status } => (
            Some(status),
            None,
            (
                "UPDATE callback_outbox SET delivered_at = $2 WHERE id = $1 AND delivered_at IS NULL".into(),
                vec![job.id.into(), at.unix().into()],
            ),
        ),
        Outcome::Retry { status, error, next_attempt_at } => (
            status,
            Some(error.clone()),
            (
                "UPDATE callback_outbox SET next_attempt_at = $2, last_error = $3 WHERE id = $1 AND attempts = $4 \
                 AND delivered_at IS NULL AND failed_at IS NULL"
                    .into(),
                vec![job.id.into(), next_attempt_at.unix().into(), error.into(), job.attempts.into()],
            ),
        ),
        Outcome::GaveUp { status, error } => (
            status,
            Some(error.clone()),
            (
                "UPDATE callback_outbox SET failed_at = $2, last_error = $3 WHERE id = $1 AND attempts = $4 \
                 AND delivered_at IS NULL AND failed_at IS NULL"
                    .into(),
                vec![job.id.into(), at.unix().into(), error.into(), job.attempts.into()],
            ),
        ),
    };
    let attempt = [job.id.into(), at.unix().into(), status.into(), error.into(), duration_ms.into()];
    db.transaction(move |tx| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO callback_attempts (outbox_id, attempted_at, status_code, error, duration_ms) \
                 VALUES ($1, $2, $3, $4, $5)",
                &attempt,
            )
            .await?;
            tx.execute(&update.0, &update.1).await.map(drop)
        })
    })
    .await
}

/// Deletes up to `limit` callbacks enqueued at or before `before` that were delivered or given
/// up, oldest first, with their attempts (`ON DELETE CASCADE`); pending ones stay, whatever
/// their age. Only `accounts`' when given (tests share one PostgreSQL database). Returns how
/// many.
pub async fn purge(db: &Db, before: Timestamp, limit: i64, accounts: Option<&[AccountId]>) -> Result<u64> {
    let mut finished = Query::select()
        .column("id")
        .from("callback_outbox")
        .and_where(Expr::col("created_at").lte(before.unix()))
        .cond_where(Cond::any().add(Expr::col("delivered_at").is_not_null()).add(Expr::col("failed_at").is_not_null()))
        .order_by("created_at", Order::Asc)
        .limit(limit.max(0) as u64)
        .to_owned();
    if let Some(accounts) = accounts {
        finished.and_where(db.dialect().in_list("account_id", accounts));
    }
    let statement =
        Query::delete().from_table("callback_outbox").and_where(Expr::col("id").in_subquery(finished)).to_owned();
    let (sql, params) = crate::query::build(&statement, db.dialect())?;
    db.execute(&sql, &params).await
}

/// Callbacks not yet delivered nor given up, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    pub pending: i64,
    /// When the oldest pending callback was enqueued.
    pub oldest_created_at: Option<Timestamp>,
}

/// The outbox backlog at scrape time. The pending rows are exactly those of the partial
/// index `callback_outbox_due`, so this reads the backlog, not the delivered history. Two
/// scalar reads, not one snapshot: a gauge may see a row enqueued between them.
pub async fn backlog(db: &Db) -> Result<Backlog> {
    const PENDING: &str = "delivered_at IS NULL AND failed_at IS NULL";
    let count = format!("SELECT COUNT(*) FROM callback_outbox WHERE {PENDING}");
    let pending = db.fetch_optional::<i64>(&count, &[]).await?.unwrap_or(0);
    // Enqueue times are Unix seconds, never 0, so 0 stands for "none pending".
    let oldest = format!("SELECT COALESCE(MIN(created_at), 0) FROM callback_outbox WHERE {PENDING}");
    let oldest = db.fetch_optional::<i64>(&oldest, &[]).await?.unwrap_or(0);
    Ok(Backlog { pending, oldest_created_at: (oldest > 0).then(|| Timestamp::from_unix(oldest)) })
}
