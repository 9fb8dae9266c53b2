-- PostgreSQL only, as 26: the account keys of the other two rows every issuance inserts (a
-- member's, a credential's). Every write names the authenticated account, and accounts are
-- never deleted, so the key checked only what is true of every row, at a query per row.
ALTER TABLE members DROP CONSTRAINT IF EXISTS members_account_id_fkey;
ALTER TABLE credentials DROP CONSTRAINT IF EXISTS credentials_account_id_fkey;
