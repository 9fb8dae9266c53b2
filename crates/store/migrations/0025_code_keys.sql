-- Codes drawn from keys (kindling_domain::credentials::code): a credential's code is its
-- `code_key` encrypted under the database's one secret, kept in `code_secrets` (written by
-- the first server to start, `codes::load`). Keys mostly grow with credential ids, so the
-- unique index of open codes is now one of keys, written at its end, instead of one of
-- random text written on a random page per code.
ALTER TABLE credentials ADD COLUMN code_key BIGINT;
CREATE TABLE code_secrets (
    id BIGINT PRIMARY KEY,
    secret TEXT NOT NULL
);
CREATE UNIQUE INDEX credentials_live_code ON credentials (account_id, code_key) WHERE status = 'open';
-- Codes drawn before this migration have no key: their text stays unique among open ones,
-- and a new code is checked against them (`credentials::together`).
DROP INDEX credentials_live_identifier;
CREATE UNIQUE INDEX credentials_live_identifier ON credentials (account_id, identifier)
    WHERE status = 'open' AND code_key IS NULL;
