-- An account's activities are read by member, by credential or by time window (their
-- indexes); nothing reads them in id order across the account, and an index is one more
-- B-tree every issuance, redemption and void writes.
DROP INDEX offer_activities_account;
