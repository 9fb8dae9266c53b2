-- The point of sale (CTM): tickets, their lines, and holds on codes.
--
-- A ticket is one POS transaction, keyed by the store's site_id, the terminal and the
-- POS's transaction id. It is open while the POS shows and allocates, and closed by the
-- update that settles it; `request_hash` and `response` make that update idempotent (a
-- retry answers the same, a different body is refused).
CREATE TABLE pos_transactions (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    store_id BIGINT NOT NULL REFERENCES stores (id) ON DELETE RESTRICT,
    site_id TEXT NOT NULL,
    term_id TEXT NOT NULL,
    tran_id TEXT NOT NULL,
    status TEXT NOT NULL,
    transaction_identifier TEXT NOT NULL,
    receipt_id TEXT,
    business_date TEXT,
    operator_id TEXT,
    till_id TEXT,
    subtotal BIGINT NOT NULL DEFAULT 0,
    discount BIGINT NOT NULL DEFAULT 0,
    service_charge BIGINT NOT NULL DEFAULT 0,
    tax BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    paid BIGINT NOT NULL DEFAULT 0,
    request_hash TEXT,
    response TEXT,
    occurred_at BIGINT NOT NULL,
    closed_at BIGINT,
    voided_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX pos_transactions_key ON pos_transactions (account_id, site_id, term_id, tran_id);
CREATE INDEX pos_transactions_account ON pos_transactions (account_id, id);

-- The settled ticket's lines: `ext_price` as rung up, `amount` after Kindling's discounts.
CREATE TABLE pos_transaction_items (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    transaction_id BIGINT NOT NULL REFERENCES pos_transactions (id) ON DELETE CASCADE,
    line TEXT NOT NULL,
    name TEXT NOT NULL,
    item_code TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    ext_price BIGINT NOT NULL,
    amount BIGINT NOT NULL
);
CREATE INDEX pos_transaction_items_transaction ON pos_transaction_items (transaction_id, id);

-- A code held for an open ticket until `expires_at`: another ticket is refused it, and the
-- hold counts against the offer's limits until it is settled, released or expires.
CREATE TABLE pos_holds (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    transaction_id BIGINT NOT NULL REFERENCES pos_transactions (id) ON DELETE CASCADE,
    credential_id BIGINT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX pos_holds_credential_offer ON pos_holds (credential_id, offer_id);
CREATE INDEX pos_holds_offer ON pos_holds (offer_id, expires_at);
CREATE INDEX pos_holds_transaction ON pos_holds (transaction_id);

-- A redemption settled by a ticket: which one, and the discount it gave.
ALTER TABLE redemptions ADD COLUMN transaction_id BIGINT;
ALTER TABLE redemptions ADD COLUMN amount BIGINT;
CREATE INDEX redemptions_transaction ON redemptions (transaction_id);

-- How a percentage is rounded to the cent at the point of sale (NULL: half up).
ALTER TABLE accounts ADD COLUMN pos_rounding TEXT;
-- How long a POS hold lasts, in seconds (NULL: 900, fifteen minutes).
ALTER TABLE accounts ADD COLUMN pos_hold_seconds BIGINT;
-- A stored-value code's balance left (offers with redeem_until_depleted).
ALTER TABLE credentials ADD COLUMN remaining_value BIGINT;

-- What a POS reported of a reward's lines (CTM qitems), kept as sent, for reporting.
CREATE TABLE pos_qitems (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    transaction_id BIGINT NOT NULL REFERENCES pos_transactions (id) ON DELETE CASCADE,
    credential TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX pos_qitems_transaction ON pos_qitems (transaction_id);
