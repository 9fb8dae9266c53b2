-- SQLite only: statistics for the query planner, written by hand (sqlite.org/optoverview.html,
-- "Manual Control Of Query Plans Using SQLITE_STAT Tables"). Without any, SQLite guesses the
-- same number of rows for every equality, so `account_id = ? AND member_id = ?` was answered
-- through an index on (account_id, ...), reading every row of the account: a member's
-- credential count, a member's redemptions for a limit, a state found by its code, a
-- credential's activities deleted with it (0.16 s each at a million rows of one account).
-- The figures describe a large database shared by a few accounts: an account id matches a
-- tenth of a table, a member, credential, offer or transaction a few rows. The large tables
-- get a row for each of their indexes (an index without one would get SQLite's guess, which
-- could again look narrower than the account's). Kindling never runs ANALYZE, so plans are
-- the same on the first day as at a million rows; the tests check them (`scripts/plans.py`).
-- An ANALYZE run by hand replaces these figures with measured ones.
ANALYZE schema_migrations;
DELETE FROM sqlite_stat1;
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('members', NULL, '1000000'),
    ('members', 'members_identifier', '1000000 100000 1'),
    ('members', 'members_account', '1000000 100000 1'),
    ('credentials', NULL, '2000000'),
    ('credentials', 'credentials_account', '2000000 200000 1'),
    ('credentials', 'credentials_member', '2000000 2'),
    ('credentials', 'credentials_created', '2000000 200000 2'),
    ('credentials', 'credentials_closed_identifier', '500000 50000 1'),
    ('credentials', 'credentials_live_code', '1500000 150000 1'),
    ('credentials', 'credentials_live_identifier', '1000 100 1'),
    ('credential_offers', NULL, '2000000'),
    ('credential_offers', 'sqlite_autoindex_credential_offers_1', '2000000 1 1'),
    ('credential_offers', 'credential_offers_offer', '2000000 20000'),
    ('offer_activities', NULL, '4000000'),
    ('offer_activities', 'offer_activities_reported', '4000000 400000 4 2'),
    ('offer_activities', 'offer_activities_processed', '4000000 400000 4'),
    ('offer_activities', 'offer_activities_member', '4000000 4 1'),
    ('offer_activities', 'offer_activities_credential', '4000000 2'),
    ('offer_states', NULL, '1000000'),
    ('offer_states', 'offer_states_member', '1000000 100000 2 1'),
    ('offer_states', 'offer_states_token', '1000000 1'),
    ('offer_states', 'offer_states_credential', '1000000 1'),
    ('redemptions', NULL, '1000000'),
    ('redemptions', 'redemptions_offer_member', '1000000 10000 2 1'),
    ('redemptions', 'redemptions_offer_channel', '1000000 10000 5000'),
    ('redemptions', 'redemptions_credential', '1000000 1'),
    ('redemptions', 'redemptions_member', '1000000 2 1'),
    ('redemptions', 'redemptions_redeemed', '1000000 100000 2'),
    ('redemptions', 'redemptions_business_date', '1000000 100000 1000'),
    ('redemptions', 'redemptions_transaction', '1000000 2'),
    ('impressions', NULL, '1000000'),
    ('impressions', 'impressions_account', '1000000 100000 1'),
    ('impressions', 'impressions_member', '1000000 5'),
    ('impressions', 'impressions_created', '1000000 100000 2'),
    ('zidentifiers', NULL, '1000000'),
    ('zidentifiers', 'zidentifiers_account', '1000000 100000 1'),
    ('zidentifiers', 'zidentifiers_member_offer_channel', '1000000 2 1 1'),
    ('zidentifiers', 'zidentifiers_zid', '1000000 1'),
    ('pos_transactions', NULL, '1000000'),
    ('pos_transactions', 'pos_transactions_account', '1000000 100000 1'),
    ('pos_transactions', 'pos_transactions_key', '1000000 100000 1000 100 1'),
    ('pos_transaction_items', NULL, '5000000'),
    ('pos_transaction_items', 'pos_transaction_items_transaction', '5000000 5 1'),
    ('pos_qitems', NULL, '5000000'),
    ('pos_qitems', 'pos_qitems_transaction', '5000000 5'),
    ('check_ins', NULL, '1000000'),
    ('check_ins', 'check_ins_member_store', '1000000 5 2 1'),
    ('points_transfers', NULL, '1000000'),
    ('points_transfers', 'points_transfers_member', '1000000 5 3'),
    ('points_transfers', 'points_transfers_txid', '1000000 100000 1'),
    ('callback_attempts', NULL, '1000000'),
    ('callback_attempts', 'callback_attempts_outbox', '1000000 2'),
    ('member_list_members', NULL, '1000000'),
    ('member_list_members', 'sqlite_autoindex_member_list_members_1', '1000000 100000 1'),
    ('member_list_members', 'member_list_members_member', '1000000 2');
ANALYZE sqlite_schema;
