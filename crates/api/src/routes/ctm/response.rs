//! CTM responses as the core-ops spec spells them (`reciept_messages`, `ammount`,
//! `availible_offers`, `TxCredential`), every field its schema's type (amounts and
//! quantities are strings in `add_offers`), plus `evaluation`: the engine's full
//! explanation, line by line, which the spec has no place for. Typed structs borrowing the
//! evaluation, serialized once: show is the register's hot path.

use super::request::Basket;
use kindling_domain::pos::{Applied, Evaluation, Portion, Rejected};
use kindling_domain::AccountId;
use kindling_store::pos::{Considered, Shown};
use serde::Serialize;

/// The auth code the POS keeps for an applied offer and sends back in `redeemed_offers`.
pub fn auth_code(code: &str, offer: i64) -> String {
    format!("{code}:{offer}")
}

fn dollars(cents: i64) -> String {
    format!("{}${}.{:02}", if cents < 0 { "-" } else { "" }, cents.abs() / 100, cents.abs() % 100)
}

#[derive(Serialize)]
pub struct ShowResponse<'a> {
    account_id: i64,
    offers: Vec<i64>,
    loyalty_id: &'a str,
    reusable: bool,
    transaction: Transaction<'a>,
    /// The first code's member's wallet states.
    availible_offers: Vec<WalletEntry>,
    reusable_offers: ReusableOffers,
    store_default_language: &'static str,
    account_default_language: &'static str,
    evaluation: Explanation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<i64>,
}

#[derive(Serialize)]
struct WalletEntry {
    offer_state_id: i64,
    offer_id: i64,
    eligible_channel_id: Option<i64>,
    activation_date: String,
    expiration_date: String,
    external_ref_id: String,
}

#[derive(Serialize)]
struct ReusableOffers {
    redemption_limit: i64,
    redeem_until_depleted: bool,
}

#[derive(Serialize)]
struct Transaction<'a> {
    errors: Vec<ErrorEntry<'a>>,
    display_messages: Vec<DisplayMessage>,
    reciept_messages: Vec<ReceiptMessage>,
    credentials: Vec<CredentialEntry<'a>>,
    add_offers: Vec<OfferEntry<'a>>,
    remove_offers: Vec<OfferEntry<'a>>,
    availible_offers: Vec<AvailableOffer<'a>>,
}

#[derive(Serialize)]
struct ErrorEntry<'a> {
    message: &'a str,
    pos_offer_code: &'a str,
    pos_offer_code_type: &'static str,
    validation_id: &'static str,
    code: &'static str,
    priority: i64,
}

#[derive(Serialize)]
struct DisplayMessage {
    message: String,
    priority: i64,
}

#[derive(Serialize)]
struct ReceiptMessage {
    message: String,
    barcode_format: &'static str,
    priority: i64,
    reciept_type: i64,
}

#[derive(Serialize)]
struct CredentialEntry<'a> {
    valid: bool,
    #[serde(rename = "TxCredential")]
    tx_credential: TxCredential<'a>,
}

#[derive(Serialize)]
struct TxCredential<'a> {
    rpe_identifier: &'a str,
    display: &'a str,
    external_identifier: &'a str,
    external_identifier_type: &'static str,
}

#[derive(Serialize)]
struct OfferEntry<'a> {
    credential_identifier: &'a str,
    rpe_auth_code: String,
    pos_offer_code: &'a str,
    pos_offer_code_type: &'static str,
    quantity: String,
    ammount: String,
    name: &'a str,
    qualifying_items: Vec<QualifyingItem<'a>>,
    tip: &'static str,
    identifier: String,
    auth: String,
}

#[derive(Serialize)]
struct QualifyingItem<'a> {
    line_number: &'a str,
    entry_id: &'a str,
    item_code: &'a str,
    qualification_type: &'static str,
}

#[derive(Serialize)]
struct AvailableOffer<'a> {
    offer_id: String,
    name: &'a str,
    valid_now: bool,
    invalid_reason: &'static str,
    expiration_date: String,
}

#[derive(Serialize)]
struct Explanation<'a> {
    applied: Vec<AppliedEntry<'a>>,
    rejected: Vec<RejectedEntry<'a>>,
    lines: Vec<LineEntry<'a>>,
    subtotal: i64,
    discount: i64,
    total: i64,
}

#[derive(Serialize)]
struct AppliedEntry<'a> {
    offer_id: i64,
    credential: Option<&'a str>,
    amount: i64,
    applications: u32,
    rewarded: Vec<PortionEntry<'a>>,
    qualifiers: Vec<PortionEntry<'a>>,
}

#[derive(Serialize)]
struct PortionEntry<'a> {
    line: &'a str,
    units: i64,
    amount: i64,
}

#[derive(Serialize)]
struct RejectedEntry<'a> {
    offer_id: i64,
    credential: Option<&'a str>,
    reason: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct LineEntry<'a> {
    line: &'a str,
    amount: i64,
    discount: i64,
}

struct Names<'a>(&'a Considered);

impl<'a> Names<'a> {
    fn name(&self, offer: i64) -> &'a str {
        self.0.offers.get(&offer).map_or("", |o| o.name.as_str())
    }

    fn pos_code(&self, offer: i64) -> &'a str {
        self.0.offers.get(&offer).and_then(|o| o.pos_offer_code.as_deref()).unwrap_or("")
    }
}

/// One `add_offers`/`remove_offers` entry: the offer as the code brought it, with what it gave.
fn entry<'a>(
    code: Option<&'a str>,
    offer: i64,
    names: &Names<'a>,
    applications: u32,
    amount: i64,
    qualifying_items: Vec<QualifyingItem<'a>>,
) -> OfferEntry<'a> {
    let code = code.unwrap_or("");
    let auth = auth_code(code, offer);
    OfferEntry {
        credential_identifier: code,
        rpe_auth_code: auth.clone(),
        pos_offer_code: names.pos_code(offer),
        pos_offer_code_type: "",
        quantity: applications.to_string(),
        ammount: amount.to_string(),
        name: names.name(offer),
        qualifying_items,
        tip: "0",
        identifier: offer.to_string(),
        auth,
    }
}

fn offer_entry<'a>(applied: &'a Applied, names: &Names<'a>, basket: &'a Basket) -> OfferEntry<'a> {
    let mut items = Vec::with_capacity(applied.rewarded.len() + applied.qualifiers.len());
    for (portions, kind) in [(&applied.rewarded, "1"), (&applied.qualifiers, "2")] {
        for portion in portions {
            let line = basket.line(&portion.line);
            items.push(QualifyingItem {
                line_number: line.map_or("", |l| l.line_number.as_str()),
                entry_id: line.map_or("", |l| l.entry_id.as_str()),
                item_code: line.map_or("", |l| l.item_code.as_str()),
                qualification_type: kind,
            });
        }
    }
    let code = applied.credential.as_deref();
    entry(code, applied.offer_id, names, applied.applications, applied.amount, items)
}

fn removed_entry<'a>(rejected: &'a Rejected, names: &Names<'a>) -> OfferEntry<'a> {
    entry(rejected.credential.as_deref(), rejected.offer_id, names, 0, 0, Vec::new())
}

fn portions(p: &[Portion]) -> Vec<PortionEntry<'_>> {
    p.iter().map(|p| PortionEntry { line: &p.line, units: p.units, amount: p.amount }).collect()
}

/// The engine's explanation: for every offer, the lines, units and amounts it applied to,
/// or the first rule it failed.
fn explanation(evaluation: &Evaluation) -> Explanation<'_> {
    Explanation {
        applied: evaluation
            .applied
            .iter()
            .map(|a| AppliedEntry {
                offer_id: a.offer_id,
                credential: a.credential.as_deref(),
                amount: a.amount,
                applications: a.applications,
                rewarded: portions(&a.rewarded),
                qualifiers: portions(&a.qualifiers),
            })
            .collect(),
        rejected: evaluation
            .rejected
            .iter()
            .map(|r| RejectedEntry {
                offer_id: r.offer_id,
                credential: r.credential.as_deref(),
                reason: r.reason.code(),
                message: &r.detail,
            })
            .collect(),
        lines: evaluation
            .lines
            .iter()
            .map(|l| LineEntry { line: &l.key, amount: l.amount, discount: l.discount })
            .collect(),
        subtotal: evaluation.subtotal,
        discount: evaluation.discount,
        total: evaluation.total,
    }
}

/// `ctm_transaction_show_response` for a shown or settled ticket.
pub fn show<'a>(account: AccountId, shown: &'a Shown, basket: &'a Basket) -> ShowResponse<'a> {
    let considered = &shown.considered;
    let evaluation = &shown.evaluation;
    let names = Names(considered);
    let first = considered.codes.iter().find_map(|c| c.credential.as_ref());
    let errors = evaluation
        .rejected
        .iter()
        .map(|r| ErrorEntry {
            message: &r.detail,
            pos_offer_code: names.pos_code(r.offer_id),
            pos_offer_code_type: "",
            validation_id: r.reason.code(),
            code: r.reason.code(),
            priority: 1,
        })
        .collect();
    let mut display: Vec<DisplayMessage> = evaluation
        .applied
        .iter()
        .map(|a| DisplayMessage {
            message: format!("{}: {} off", names.name(a.offer_id), dollars(a.amount)),
            priority: 1,
        })
        .collect();
    display.extend(evaluation.rejected.iter().map(|r| {
        let subject = if r.offer_id == 0 { r.credential.as_deref().unwrap_or("") } else { names.name(r.offer_id) };
        DisplayMessage { message: format!("{subject}: {}", r.reason.message()), priority: 2 }
    }));
    let receipt = evaluation
        .applied
        .iter()
        .map(|a| ReceiptMessage {
            message: format!("{} {}", names.name(a.offer_id), dollars(-a.amount)),
            barcode_format: "",
            priority: 1,
            reciept_type: 0,
        })
        .collect();
    let credentials = considered
        .codes
        .iter()
        .map(|c| CredentialEntry {
            valid: evaluation.applied.iter().any(|a| a.credential.as_deref() == Some(c.presented.as_str())),
            tx_credential: TxCredential {
                rpe_identifier: &c.presented,
                display: &c.presented,
                external_identifier: c.credential.as_ref().map_or("", |f| f.member_identifier.as_str()),
                external_identifier_type: if c.credential.is_some() { "member_identifier" } else { "" },
            },
        })
        .collect();
    let availible = considered
        .offers
        .values()
        .map(|o| {
            let applied = evaluation.applied.iter().any(|a| a.offer_id == o.id.0);
            let reason = evaluation.rejected.iter().find(|r| r.offer_id == o.id.0).map(|r| r.reason.code());
            AvailableOffer {
                offer_id: o.id.to_string(),
                name: &o.name,
                valid_now: applied,
                invalid_reason: if applied { "" } else { reason.unwrap_or("") },
                expiration_date: o.expires_at.map(|t| t.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    ShowResponse {
        account_id: account.0,
        offers: evaluation.applied.iter().map(|a| a.offer_id).collect(),
        loyalty_id: first.map_or("", |c| c.member_identifier.as_str()),
        reusable: first.is_some_and(|c| c.reusable),
        transaction: Transaction {
            errors,
            display_messages: display,
            reciept_messages: receipt,
            credentials,
            add_offers: evaluation.applied.iter().map(|a| offer_entry(a, &names, basket)).collect(),
            remove_offers: evaluation
                .rejected
                .iter()
                .filter(|r| r.offer_id != 0)
                .map(|r| removed_entry(r, &names))
                .collect(),
            availible_offers: availible,
        },
        availible_offers: considered
            .wallet
            .iter()
            .map(|w| WalletEntry {
                offer_state_id: w.offer_state_id.0,
                offer_id: w.offer_id.0,
                eligible_channel_id: w.eligible_channel_id,
                activation_date: w.activates_at.map(|t| t.to_string()).unwrap_or_default(),
                expiration_date: w.expires_at.map(|t| t.to_string()).unwrap_or_default(),
                external_ref_id: w.external_ref_id.clone().unwrap_or_default(),
            })
            .collect(),
        reusable_offers: ReusableOffers {
            redemption_limit: 1,
            redeem_until_depleted: considered.offers.values().any(|o| o.redeem_until_depleted),
        },
        store_default_language: "en",
        account_default_language: "en",
        evaluation: explanation(evaluation),
        transaction_id: shown.transaction_id,
    }
}
