-- PostgreSQL only, as 26 and 27: the keys from an offer link and an offer state to their
-- credential. Both rows are only ever inserted in the transaction that inserts their
-- credential, so the key checked a row written a moment before, at a query and a row lock
-- per row (scripts/bench-issuance-floor.sh: 83–90 µs of PostgreSQL CPU an issuance without
-- them against 99–107 µs with them). What the keys also did on delete,
-- `credentials::write::delete` does itself: it refuses a credential an offer state holds
-- and removes the credential's offer links after the credential (cascade).
ALTER TABLE credential_offers DROP CONSTRAINT IF EXISTS credential_offers_credential_id_fkey;
ALTER TABLE offer_states DROP CONSTRAINT IF EXISTS offer_states_credential_id_fkey;
