//! Where codes are kept and found. A code drawn since migration 25 is its `code_key`
//! encrypted under the database's secret (`kindling_domain::credentials::code`); open codes
//! are unique by key (`credentials_live_code`). Codes drawn before it have no key and stay
//! unique by text among open codes (`credentials_live_identifier`, now only theirs); a new
//! code must not repeat one of those either (`legacy_taken`). Codes that are no longer open
//! are found by text (`credentials_closed_identifier`), whatever their age.

use crate::{Db, Result, StoreError};
use kindling_domain::credentials::code::CodeCipher;

/// Loads the database's secret, writing a new one if there is none (the first start after
/// migration 25; concurrent starts agree on the first one written). A database whose codes
/// have keys but whose secret is gone (a partial restore) is refused: a new secret would
/// leave every open code unfindable and could draw their codes again.
pub(crate) async fn load(db: &Db) -> Result<()> {
    if db.codes_handle().get().is_some() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    let kept: Option<String> = tx.fetch_optional("SELECT secret FROM code_secrets WHERE id = 1", &[]).await?;
    let keyed = match kept {
        Some(_) => None,
        None => tx.fetch_optional::<i64>("SELECT id FROM credentials WHERE code_key IS NOT NULL LIMIT 1", &[]).await?,
    };
    if keyed.is_some() {
        return Err(StoreError::Decode(
            "credentials have code keys but code_secrets is empty: restore the code_secrets table \
             with the rest of the database (docs/CREDENTIALS.md, \"Identifiers\")"
                .into(),
        ));
    }
    tx.execute(
        "INSERT INTO code_secrets (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        &[CodeCipher::new_secret().into()],
    )
    .await?;
    let secret: Option<String> = tx.fetch_optional("SELECT secret FROM code_secrets WHERE id = 1", &[]).await?;
    tx.commit().await?;
    let cipher = secret
        .as_deref()
        .and_then(CodeCipher::from_secret)
        .ok_or_else(|| StoreError::Decode("code_secrets holds no secret of 32 hex digits".into()))?;
    let _ = db.codes_handle().set(cipher);
    Ok(())
}

/// A condition true when an open code drawn before migration 25 has the text `code`, in the
/// account `account` (both SQL expressions, such as parameters).
pub(crate) fn legacy_taken(account: &str, code: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM credentials l WHERE l.account_id = {account} AND l.identifier = {code} \
         AND l.status = 'open' AND l.code_key IS NULL)"
    )
}

/// Whether no other open credential of account `account` has code `code` (SQL expressions)
/// with key `key` (an expression that may be NULL: a code drawn before keys whose text is
/// no key's code): neither by key nor, drawn before keys, by text. For a code about to be
/// opened again; the unique indexes check each kind only against its own.
pub(crate) fn code_free(account: &str, code: &str, key: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM credentials o WHERE o.account_id = {account} AND o.code_key = {key} \
         AND o.status = 'open') AND NOT {}",
        legacy_taken(account, code)
    )
}

/// The ids of the account's credentials with code `$2` (account `$1`, the code's key
/// `$key`, NULL when the text is no key's code) as a subquery for `id IN`, whatever their
/// status: the open one by key (and text, so that a key never stands for another code) or,
/// drawn before migration 25, by text; the others by text. Each part reads its partial
/// index (the conditions stay literals for that).
pub(crate) fn code_ids(key: usize) -> String {
    format!(
        "(SELECT id FROM credentials WHERE account_id = $1 AND code_key = ${key} AND identifier = $2 \
         AND status = 'open' \
         UNION ALL SELECT id FROM credentials WHERE account_id = $1 AND identifier = $2 AND status = 'open' \
         AND code_key IS NULL \
         UNION ALL SELECT id FROM credentials WHERE account_id = $1 AND identifier = $2 AND status <> 'open')"
    )
}

/// The id of the account's credential with code `$2` (parameters as `code_ids`): the open
/// one, else the latest of the others; NULL when there is none. One probe of the index of
/// open keys in the usual case (both stores evaluate `COALESCE` lazily), without the
/// temporary list `code_ids` builds: the point of sale's hot path.
pub(crate) fn code_id(key: usize) -> String {
    format!(
        "COALESCE((SELECT id FROM credentials WHERE account_id = $1 AND code_key = ${key} AND identifier = $2 \
         AND status = 'open'), \
         (SELECT id FROM credentials WHERE account_id = $1 AND identifier = $2 AND status = 'open' \
         AND code_key IS NULL), \
         (SELECT id FROM credentials WHERE account_id = $1 AND identifier = $2 AND status <> 'open' \
         ORDER BY id DESC LIMIT 1))"
    )
}
