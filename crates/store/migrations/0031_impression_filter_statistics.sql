-- SQLite only: planner statistics for migration 30's indexes, in the terms of migration 29
-- (a large table shared by a few accounts): an offer's impressions are a few thousand of
-- its account's, a visitor's a handful.
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('impressions', 'impressions_offer_xid', '1000000 100000 1000 1'),
    ('impressions', 'impressions_cookie', '1000000 100000 5 1');
