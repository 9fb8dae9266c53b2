//! A channel's page in the portal: its test callback, queued in the callback outbox like a
//! redemption's conversion callback (so the worker delivers it, vetting its address the same
//! way), and its delivery log, the outbox rows sent for it.

use crate::credentials::outbox::{self, Kind};
use crate::{Db, FromRow, Result, Row};
use kindling_domain::credentials::callback;
use kindling_domain::{AccountId, ChannelId, Timestamp};

/// What asking for a test callback came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestCallback {
    /// Queued to this URL (the template with test values).
    Queued(String),
    /// The channel has no `conversion_callback_url`.
    NoUrl,
    NotFound,
}

struct CallbackUrl(Option<String>);

impl FromRow for CallbackUrl {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self(row.opt_text("conversion_callback_url")?))
    }
}

/// Queues a GET of the channel's callback template filled with `callback::test_values`, in
/// one transaction with the read of the template.
pub async fn queue_test_callback(
    db: &Db,
    account: AccountId,
    channel: ChannelId,
    now: Timestamp,
) -> Result<TestCallback> {
    db.transaction(move |tx| {
        Box::pin(async move {
            let found: Option<CallbackUrl> = tx
                .fetch_optional(
                    "SELECT conversion_callback_url FROM channels WHERE id = $1 AND account_id = $2",
                    &[channel.into(), account.into()],
                )
                .await?;
            let template = match found {
                None => return Ok(TestCallback::NotFound),
                Some(CallbackUrl(None)) => return Ok(TestCallback::NoUrl),
                Some(CallbackUrl(Some(template))) => template,
            };
            let url = callback::expand(&template, &callback::test_values(&now.to_string()));
            outbox::enqueue_for_channel(tx, account, Kind::Test, channel, None, &url, now).await?;
            Ok(TestCallback::Queued(url))
        })
    })
    .await
}

/// Where a callback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Waiting,
    Delivered,
    GaveUp,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Delivered => "delivered",
            Self::GaveUp => "given up",
        }
    }
}

/// One row of a channel's delivery log.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub kind: Option<Kind>,
    pub url: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// The latest attempt's HTTP status, if it got one.
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    /// When it was delivered or given up, or when it is tried next.
    pub settled_at: Option<Timestamp>,
    pub next_attempt_at: Timestamp,
}

impl FromRow for Delivery {
    fn from_row(row: &impl Row) -> Result<Self> {
        let delivered = row.opt_time("delivered_at")?;
        let failed = row.opt_time("failed_at")?;
        let status = match (delivered, failed) {
            (Some(_), _) => DeliveryStatus::Delivered,
            (None, Some(_)) => DeliveryStatus::GaveUp,
            (None, None) => DeliveryStatus::Waiting,
        };
        Ok(Self {
            id: row.int("id")?,
            kind: Kind::parse(&row.text("kind")?),
            url: row.text("url")?,
            status,
            attempts: row.int("attempts")?,
            last_status_code: row.opt_int("last_status_code")?,
            last_error: row.opt_text("last_error")?,
            created_at: row.time("created_at")?,
            settled_at: delivered.or(failed),
            next_attempt_at: row.time("next_attempt_at")?,
        })
    }
}

/// One page of a channel's delivery log, newest first, and the log's length: two
/// statements in one read snapshot (the latest attempt's status is a subquery per row,
/// over `callback_attempts_outbox`).
pub async fn deliveries(
    db: &Db,
    account: AccountId,
    channel: ChannelId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Delivery>, i64)> {
    let mut tx = db.begin_read().await?;
    let total: Option<i64> = tx
        .fetch_optional(
            "SELECT COUNT(*) FROM callback_outbox WHERE channel_id = $1 AND account_id = $2",
            &[channel.into(), account.into()],
        )
        .await?;
    let rows: Vec<Delivery> = tx
        .fetch_all(
            "SELECT o.id, o.kind, o.url, o.attempts, o.last_error, o.created_at, o.next_attempt_at, o.delivered_at, \
             o.failed_at, (SELECT a.status_code FROM callback_attempts a WHERE a.outbox_id = o.id \
                ORDER BY a.id DESC LIMIT 1) AS last_status_code \
             FROM callback_outbox o WHERE o.channel_id = $1 AND o.account_id = $2 \
             ORDER BY o.id DESC LIMIT $3 OFFSET $4",
            &[channel.into(), account.into(), limit.into(), offset.into()],
        )
        .await?;
    tx.commit().await?;
    Ok((rows, total.unwrap_or(0)))
}
