-- Indexes for the lists the API pages through.
-- * An account's members in id order (`GET /v1.0/members`): through the index of
--   identifiers every page sorted all of the account's members first (38 ms a page at
--   300,000). Member ids grow, so the index is written at its end.
-- * An account's activities are read by member, by credential or by time window (their
--   indexes); nothing reads them in id order across the account, and an index is one more
--   B-tree every issuance, redemption and void writes.
CREATE INDEX members_account ON members (account_id, id);
DROP INDEX offer_activities_account;
