//! CTM responses as the core-ops spec spells them (`reciept_messages`, `ammount`,
//! `availible_offers`, `TxCredential`), every field its schema's type (amounts and
//! quantities are strings in `add_offers`), plus `evaluation`: the engine's full
//! explanation, line by line, which the spec has no place for.

use super::request::Basket;
use kindling_domain::pos::{Applied, Evaluation, Rejected};
use kindling_domain::AccountId;
use kindling_store::pos::{Considered, Shown};
use serde_json::{json, Value};

/// The auth code the POS keeps for an applied offer and sends back in `redeemed_offers`.
pub fn auth_code(code: &str, offer: i64) -> String {
    format!("{code}:{offer}")
}

fn time(t: Option<kindling_domain::Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

fn dollars(cents: i64) -> String {
    format!("{}${}.{:02}", if cents < 0 { "-" } else { "" }, cents.abs() / 100, cents.abs() % 100)
}

fn offer_line(applied: &Applied, considered: &Considered, basket: &Basket) -> Value {
    let info = considered.offers.get(&applied.offer_id);
    let code = applied.credential.clone().unwrap_or_default();
    let mut items = Vec::new();
    for (portions, kind) in [(&applied.rewarded, "1"), (&applied.qualifiers, "2")] {
        for portion in portions {
            let line = basket.line(&portion.line);
            items.push(json!({
                "line_number": line.map(|l| l.line_number.clone()).unwrap_or_default(),
                "entry_id": line.map(|l| l.entry_id.clone()).unwrap_or_default(),
                "item_code": line.map(|l| l.item_code.clone()).unwrap_or_default(),
                "qualification_type": kind,
            }));
        }
    }
    json!({
        "credential_identifier": code,
        "rpe_auth_code": auth_code(&code, applied.offer_id),
        "pos_offer_code": info.and_then(|i| i.pos_offer_code.clone()).unwrap_or_default(),
        "pos_offer_code_type": "",
        "quantity": applied.applications.to_string(),
        "ammount": applied.amount.to_string(),
        "name": info.map(|i| i.name.clone()).unwrap_or_default(),
        "qualifying_items": items,
        "tip": "0",
        "identifier": applied.offer_id.to_string(),
        "auth": auth_code(&code, applied.offer_id),
    })
}

fn removed_line(rejected: &Rejected, considered: &Considered) -> Value {
    let info = considered.offers.get(&rejected.offer_id);
    let code = rejected.credential.clone().unwrap_or_default();
    json!({
        "credential_identifier": code,
        "rpe_auth_code": auth_code(&code, rejected.offer_id),
        "pos_offer_code": info.and_then(|i| i.pos_offer_code.clone()).unwrap_or_default(),
        "pos_offer_code_type": "",
        "quantity": "0",
        "ammount": "0",
        "name": info.map(|i| i.name.clone()).unwrap_or_default(),
        "qualifying_items": [],
        "tip": "0",
        "identifier": rejected.offer_id.to_string(),
        "auth": auth_code(&code, rejected.offer_id),
    })
}

/// The engine's explanation: for every offer, the lines, units and amounts it applied to,
/// or the first rule it failed.
fn explanation(evaluation: &Evaluation) -> Value {
    let portions = |p: &[kindling_domain::pos::Portion]| -> Vec<Value> {
        p.iter().map(|p| json!({"line": p.line, "units": p.units, "amount": p.amount})).collect()
    };
    json!({
        "applied": evaluation.applied.iter().map(|a| json!({
            "offer_id": a.offer_id,
            "credential": a.credential,
            "amount": a.amount,
            "applications": a.applications,
            "rewarded": portions(&a.rewarded),
            "qualifiers": portions(&a.qualifiers),
        })).collect::<Vec<_>>(),
        "rejected": evaluation.rejected.iter().map(|r| json!({
            "offer_id": r.offer_id,
            "credential": r.credential,
            "reason": r.reason.code(),
            "message": r.detail,
        })).collect::<Vec<_>>(),
        "lines": evaluation.lines.iter().map(|l| json!({"line": l.key, "amount": l.amount, "discount": l.discount})).collect::<Vec<_>>(),
        "subtotal": evaluation.subtotal,
        "discount": evaluation.discount,
        "total": evaluation.total,
    })
}

/// `ctm_transaction_show_response` for a shown or settled ticket.
pub fn show(account: AccountId, shown: &Shown, basket: &Basket) -> Value {
    let considered = &shown.considered;
    let evaluation = &shown.evaluation;
    let first = considered.codes.iter().find_map(|c| c.credential.as_ref());
    let name = |offer: i64| considered.offers.get(&offer).map(|o| o.name.clone()).unwrap_or_default();
    let errors: Vec<Value> = evaluation
        .rejected
        .iter()
        .map(|r| {
            json!({
                "message": r.detail,
                "pos_offer_code": considered.offers.get(&r.offer_id).and_then(|o| o.pos_offer_code.clone()).unwrap_or_default(),
                "pos_offer_code_type": "",
                "validation_id": r.reason.code(),
                "code": r.reason.code(),
                "priority": 1,
            })
        })
        .collect();
    let mut display: Vec<Value> = evaluation
        .applied
        .iter()
        .map(|a| json!({"message": format!("{}: {} off", name(a.offer_id), dollars(a.amount)), "priority": 1}))
        .collect();
    display.extend(evaluation.rejected.iter().map(|r| {
        let subject = if r.offer_id == 0 { r.credential.clone().unwrap_or_default() } else { name(r.offer_id) };
        json!({"message": format!("{subject}: {}", r.reason.message()), "priority": 2})
    }));
    let receipt: Vec<Value> = evaluation
        .applied
        .iter()
        .map(|a| {
            json!({"message": format!("{} {}", name(a.offer_id), dollars(-a.amount)), "barcode_format": "", "priority": 1, "reciept_type": 0})
        })
        .collect();
    let credentials: Vec<Value> = considered
        .codes
        .iter()
        .map(|c| {
            let valid = evaluation.applied.iter().any(|a| a.credential.as_deref() == Some(c.presented.as_str()));
            json!({"valid": valid, "TxCredential": {
                "rpe_identifier": c.presented, "display": c.presented,
                "external_identifier": c.credential.as_ref().map(|f| f.member_identifier.clone()).unwrap_or_default(),
                "external_identifier_type": if c.credential.is_some() { "member_identifier" } else { "" },
            }})
        })
        .collect();
    let availible: Vec<Value> = considered
        .offers
        .values()
        .map(|o| {
            let applied = evaluation.applied.iter().any(|a| a.offer_id == o.id.0);
            let reason = evaluation.rejected.iter().find(|r| r.offer_id == o.id.0).map(|r| r.reason.code());
            json!({
                "offer_id": o.id.to_string(),
                "name": o.name,
                "valid_now": applied,
                "invalid_reason": if applied { "" } else { reason.unwrap_or("") },
                "expiration_date": time(o.expires_at),
            })
        })
        .collect();
    let mut body = json!({
        "account_id": account.0,
        "offers": evaluation.applied.iter().map(|a| a.offer_id).collect::<Vec<_>>(),
        "loyalty_id": first.map(|c| c.member_identifier.clone()).unwrap_or_default(),
        "reusable": first.is_some_and(|c| c.reusable),
        "transaction": {
            "errors": errors,
            "display_messages": display,
            "reciept_messages": receipt,
            "credentials": credentials,
            "add_offers": evaluation.applied.iter().map(|a| offer_line(a, considered, basket)).collect::<Vec<_>>(),
            "remove_offers": evaluation.rejected.iter().filter(|r| r.offer_id != 0).map(|r| removed_line(r, considered)).collect::<Vec<_>>(),
            "availible_offers": availible,
        },
        "availible_offers": [],
        "reusable_offers": {
            "redemption_limit": 1,
            "redeem_until_depleted": considered.offers.values().any(|o| o.redeem_until_depleted),
        },
        "store_default_language": "en",
        "account_default_language": "en",
        "evaluation": explanation(evaluation),
    });
    if let Some(id) = shown.transaction_id {
        body["transaction_id"] = json!(id);
    }
    body
}
