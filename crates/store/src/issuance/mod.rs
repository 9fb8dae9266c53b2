//! High-throughput issuance (`POST /v1.0/members/offer_states/issue`): an offer state, the
//! wallet's kind (its own credential through `credentials::write::create_in`), issued by
//! campaign xid to a member named by id or by identifier. One transaction of few statements:
//! the campaign's offer, channel and window and the member in one read, then the credential's
//! own statements (with the state's window written into its insert), then the state's
//! insert. The answer is built from what was written; nothing is read back.
//!
//! Under load the operation's requests are issued in batches (`Issuer`, `issue_many`, see
//! `many`): the requests waiting at a moment share one transaction and a few multi-row
//! statements (`together`), each answered on its own.

mod together;

use crate::many::{self, Batch, BatchWrite};

/// The operation's queue (`many::Queue`): concurrent requests issued in batches.
pub type Issuer = many::Queue<Issue>;

use crate::credentials::write::{self, CredentialInput};
use crate::offer_states::{self, StateError, StateRow, MEMBER_NOT_FOUND};
use crate::{members, Db, FromRow, Result, Row, StoreError, Tx, Value};
use kindling_domain::member::Identifier;
use kindling_domain::offer_state;
use kindling_domain::{AccountId, ChannelId, MemberId, OfferId, OfferStateId, Timestamp};

pub const CAMPAIGN_NOT_FOUND: &str = "Campaign not found";

/// Who receives the offer. An identifier names the account's member with it, who is
/// created when there is none (issuing to members the platform has not seen yet is what
/// the operation is for).
#[derive(Debug, Clone)]
pub enum Recipient {
    Id(MemberId),
    Identifier(Identifier),
}

/// One issuance request.
#[derive(Debug, Clone)]
pub struct Issue {
    pub campaign_xid: String,
    pub recipient: Recipient,
    /// The state's own window; it must lie inside the offer's.
    pub activates_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub external_ref_id: Option<String>,
}

/// What the operation answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Issued {
    pub id: OfferStateId,
    pub member_id: MemberId,
    pub offer_id: OfferId,
    pub campaign_xid: String,
    pub activates_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub credential_identifier: String,
}

/// The campaign's facts and the member, as one read finds them.
struct Found {
    offer_id: OfferId,
    channel_id: ChannelId,
    offer_window: (Option<Timestamp>, Option<Timestamp>),
    member: Option<MemberId>,
}

impl FromRow for Found {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Self {
            offer_id: OfferId(row.int("offer_id")?),
            channel_id: ChannelId(row.int("channel_id")?),
            offer_window: (row.opt_time("activates_at")?, row.opt_time("expires_at")?),
            member: row.opt_int("member_id")?.map(MemberId),
        })
    }
}

/// The campaign (an eligible channel, by its account-unique xid) with its offer's window, and
/// the member that `$member` (SQL giving an id or `NULL`) finds. One statement per way of
/// naming the member: a statement with a parameter `NULL` at some calls (say, `COALESCE` of a
/// lookup by id and one by identifier) is planned anew by PostgreSQL at every call, since
/// its custom plans, with the `NULL` folded away, always look cheaper than a generic one.
macro_rules! find {
    ($member:literal) => {
        concat!(
            "SELECT e.offer_id, e.channel_id, o.activates_at, o.expires_at, ",
            $member,
            " AS member_id FROM eligible_channels e JOIN offers o ON o.id = e.offer_id \
             WHERE e.xid = $2 AND e.account_id = $1"
        )
    };
}

/// The campaign and the member by id (`$3`).
const FIND_BY_ID: &str = find!("(SELECT id FROM members WHERE id = $3 AND account_id = $1)");
/// The campaign and the member by identifier (`$3`).
const FIND_BY_IDENTIFIER: &str = find!("(SELECT id FROM members WHERE account_id = $1 AND identifier = $3)");
/// The campaign alone, for a batch (which finds its members by themselves).
const FIND_CAMPAIGN: &str = find!("CAST(NULL AS BIGINT)");

/// Issues each of `issues` (one account's) in one transaction, together when the rules allow
/// (see `together`), else one by one (`many::write_many`).
pub async fn issue_many(db: &Db, account: AccountId, issues: Vec<Issue>) -> Result<Batch<Issued, StateError>> {
    many::write_many(db, account, issues).await
}

impl BatchWrite for Issue {
    type Done = Issued;
    type Error = StateError;

    /// An issuance batch inserts rows of its own and locks no row another batch writes (its
    /// keys share-lock the offer and the channel, a lock counter updates do not wait for),
    /// so larger batches hold nothing longer that others wait for. 128 instead of 48 cost
    /// PostgreSQL, Kindling and wrk 6–21 % less CPU an issuance at 256 connections
    /// (docs/BENCHMARKS.md).
    const POSTGRES_MAX_BATCH: usize = 128;

    async fn together(
        tx: &mut Tx,
        account: AccountId,
        items: &[Self],
    ) -> Result<Option<Vec<std::result::Result<Issued, StateError>>>> {
        together::issue(tx, account, items).await
    }

    async fn alone(tx: &mut Tx, account: AccountId, item: Self) -> std::result::Result<Issued, StateError> {
        issue_in(tx, account, item).await
    }
}

/// Issues a state and its credential, alone (in its own transaction, see `many`); a
/// refusal writes nothing (not even the member an identifier would have created).
async fn issue_in(tx: &mut Tx, account: AccountId, issue: Issue) -> std::result::Result<Issued, StateError> {
    let now = Timestamp::now();
    let (find, member) = match &issue.recipient {
        Recipient::Id(id) => (FIND_BY_ID, Value::from(*id)),
        Recipient::Identifier(identifier) => (FIND_BY_IDENTIFIER, Value::from(identifier.as_str())),
    };
    let found: Option<Found> =
        tx.fetch_optional(find, &[account.into(), issue.campaign_xid.as_str().into(), member]).await?;
    let found = found.ok_or(StateError::NotFound(CAMPAIGN_NOT_FOUND))?;
    let own = (issue.activates_at, issue.expires_at);
    offer_state::check_window(own, found.offer_window).map_err(StateError::Window)?;
    let member = match (found.member, &issue.recipient) {
        (Some(member), _) => member,
        (None, Recipient::Id(_)) => return Err(StateError::NotFound(MEMBER_NOT_FOUND)),
        (None, Recipient::Identifier(identifier)) => {
            members::create_or_find(tx, account, identifier.as_str(), now).await?
        }
    };
    let input = CredentialInput {
        member_id: Some(member),
        channel_id: Some(found.channel_id),
        offer_ids: Some(vec![found.offer_id]),
        activates_at: own.0,
        expires_at: own.1,
        ..Default::default()
    };
    let credential = write::create_in(tx, account, input).await?;
    let credential_identifier = credential
        .identifier
        .ok_or_else(|| StoreError::Decode("a credential issued with an offer has no code".into()))?;
    let row = StateRow {
        member,
        offer: found.offer_id,
        channel: found.channel_id,
        credential: credential.id,
        window: own,
        external_ref_id: issue.external_ref_id.clone(),
    };
    let id = offer_states::insert(tx, account, row, now).await?;
    Ok(Issued {
        id,
        member_id: member,
        offer_id: found.offer_id,
        campaign_xid: issue.campaign_xid,
        activates_at: own.0,
        expires_at: own.1,
        credential_identifier,
    })
}
