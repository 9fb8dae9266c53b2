-- Impressions: one row per view of a landing page (or posted through the API). `offer_xid`
-- names the offer on a channel; `cookie_id` the visitor's browser; `creative_name` the
-- `sf_ac` creative the visitor came from. Kept as written when the offer or channel goes.
CREATE TABLE impressions (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    cookie_id TEXT NOT NULL,
    offer_xid TEXT NOT NULL,
    channel_id BIGINT,
    channel_name TEXT,
    member_id BIGINT,
    creative_name TEXT,
    annotations TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX impressions_account ON impressions (account_id, id);
CREATE INDEX impressions_member ON impressions (member_id);
