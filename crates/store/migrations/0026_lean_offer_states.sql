-- PostgreSQL only (SQLite's schema is unchanged). Each foreign key of an inserted row costs
-- PostgreSQL a query of its own (an executor run per row, per key), and an issuance inserts
-- five rows. These keys are implied by others and go:
-- * an offer state's member, channel and offer are its credential's (a transfer moves the
--   state and its credential together), and its credential's key stays: a member, channel
--   or offer still in use is refused deletion through the credential and its offer links;
-- * the account of an offer state, an offer link and an activity: every write names the
--   authenticated account, and accounts are never deleted.
-- SQLite checks a key with an index lookup inside the write, which measured no cost there.
ALTER TABLE offer_states
    DROP CONSTRAINT IF EXISTS offer_states_account_id_fkey,
    DROP CONSTRAINT IF EXISTS offer_states_member_id_fkey,
    DROP CONSTRAINT IF EXISTS offer_states_channel_id_fkey,
    DROP CONSTRAINT IF EXISTS offer_states_offer_id_fkey;
ALTER TABLE credential_offers DROP CONSTRAINT IF EXISTS credential_offers_account_id_fkey;
ALTER TABLE offer_activities DROP CONSTRAINT IF EXISTS offer_activities_account_id_fkey;
-- A transfer token is matched only whole: compare its bytes, not by the database's
-- natural-language collation (an ICU comparison per step down the unique index).
ALTER TABLE offer_states ALTER COLUMN token TYPE TEXT COLLATE "C";
