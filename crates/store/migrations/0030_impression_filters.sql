-- `GET /v1.0/impressions?offer_xid=` and `?cookie_id=` page through one offer's or one
-- visitor's impressions in id order. Without these, both read every impression of the
-- account to find them (scripts/plans.py flags that). The id closes each index so that a
-- page is read in order from it, as `impressions_account` does for the unfiltered list.
CREATE INDEX impressions_offer_xid ON impressions (account_id, offer_xid, id);
CREATE INDEX impressions_cookie ON impressions (account_id, cookie_id, id);
