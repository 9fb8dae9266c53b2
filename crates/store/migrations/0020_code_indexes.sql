-- Codes are found by two partial indexes instead of one of every code: the unique one of
-- open codes (`credentials_live_identifier`, which issuing needs anyway) and this one of the
-- others. Codes are random, so each index entry lands on a random page; issuing now writes
-- one such page instead of two (a code leaves for this index when it is redeemed or voided).
-- Lookups whatever the status read both (`credentials::CODE_IDS`).
DROP INDEX credentials_identifier;
CREATE INDEX credentials_closed_identifier ON credentials (account_id, identifier) WHERE status <> 'open';
