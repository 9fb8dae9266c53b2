-- Counters (named by a number, as the spec types them) and events (named by text).
CREATE TABLE counters (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX counters_account ON counters (account_id, id);

CREATE TABLE events (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX events_account ON events (account_id, id);

-- POS offer codes: registered by offers and campaigns that carry a `pos_offer_code`, one row
-- per code and account (the unique index lets racing writers insert with ON CONFLICT DO
-- NOTHING). `description` is the name of the offer that first carried the code. Rows stay
-- when an offer drops its code: old receipts may still name it.
CREATE TABLE pos_offer_codes (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX pos_offer_codes_code ON pos_offer_codes (account_id, code);

-- The codes offers and campaigns already carry: offers' first (each code described by the
-- oldest offer carrying it), then campaigns' (described by their offer).
INSERT INTO pos_offer_codes (account_id, code, description, created_at, updated_at)
SELECT o.account_id, o.pos_offer_code, o.name, o.created_at, o.created_at
FROM offers o
WHERE TRIM(o.pos_offer_code) <> ''
  AND o.id = (SELECT MIN(p.id) FROM offers p WHERE p.account_id = o.account_id AND p.pos_offer_code = o.pos_offer_code);

INSERT INTO pos_offer_codes (account_id, code, description, created_at, updated_at)
SELECT e.account_id, e.pos_offer_code, o.name, e.created_at, e.created_at
FROM eligible_channels e JOIN offers o ON o.id = e.offer_id
WHERE TRIM(e.pos_offer_code) <> ''
ORDER BY e.id
ON CONFLICT (account_id, code) DO NOTHING;
