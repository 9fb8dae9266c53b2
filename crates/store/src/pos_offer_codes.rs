//! POS offer codes: read as a plain table (`crud`), written only by `register`, which the
//! offer and campaign writes call in their own transactions.

use crate::crud::{Assignments, Table};
use crate::{FromRow, Result, Row, Tx, Value};
use kindling_domain::pos_offer_code::{registrable, PosOfferCode};
use kindling_domain::{AccountId, OfferId, PosOfferCodeId, Timestamp};

pub struct PosOfferCodes;

impl Table for PosOfferCodes {
    const TABLE: &'static str = "pos_offer_codes";
    const COLUMNS: &'static str = "id, account_id, code, description";
    type Record = PosOfferCode;
    type Id = PosOfferCodeId;

    fn id(code: &PosOfferCode) -> Self::Id {
        code.id
    }
}

impl FromRow for PosOfferCode {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(PosOfferCode {
            id: PosOfferCodeId(row.int("id")?),
            account_id: AccountId(row.int("account_id")?),
            code: row.text("code")?,
            description: row.text("description")?,
        })
    }
}

/// Adds `code` to the account's POS offer codes unless it is there already, described by the
/// name of `offer` (the offer that carries it, or the campaign's offer) as it stands in `tx`,
/// after the caller's write. A blank or absent code registers nothing.
///
/// One statement that yields to an existing row (`ON CONFLICT DO NOTHING` on the unique
/// account × code index): two writers racing with one new code make one row, and neither
/// fails. A registered code is never removed by a later write, since receipts may name it.
pub async fn register(tx: &mut Tx, account: AccountId, code: Option<&str>, offer: OfferId) -> Result<()> {
    let Some(code) = registrable(code) else {
        return Ok(());
    };
    // `WHERE` keeps SQLite from reading `ON CONFLICT` as a join constraint of the SELECT.
    tx.execute(
        "INSERT INTO pos_offer_codes (account_id, code, description, created_at, updated_at) \
         SELECT o.account_id, $1, o.name, $2, $2 FROM offers o WHERE o.id = $3 AND o.account_id = $4 \
         ON CONFLICT (account_id, code) DO NOTHING",
        &[code.into(), Timestamp::now().unix().into(), offer.into(), account.into()],
    )
    .await
    .map(drop)
}

/// The `pos_offer_code` a write assigns (an offer's or a campaign's column), if any.
pub fn assigned(values: &Assignments) -> Option<String> {
    values.iter().find_map(|(column, value)| match (column, value) {
        (&"pos_offer_code", Value::Text(Some(code))) => Some(code.clone()),
        _ => None,
    })
}
