-- Credentials (redeemable codes), their redemptions and offer activities, the callback
-- outbox with its delivery log, and idempotency keys.

ALTER TABLE accounts ADD COLUMN time_zone TEXT;
-- Counted in the same transaction as each redemption; a conditional increment enforces
-- max_redemptions atomically on both databases.
ALTER TABLE offers ADD COLUMN redemption_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE eligible_channels ADD COLUMN redemption_count BIGINT NOT NULL DEFAULT 0;

CREATE TABLE credentials (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE RESTRICT,
    store_id BIGINT REFERENCES stores (id) ON DELETE RESTRICT,
    identifier TEXT,
    status TEXT NOT NULL,
    reusable BOOLEAN NOT NULL DEFAULT FALSE,
    annotations TEXT NOT NULL,
    code_lifetime BIGINT,
    code_expires_at BIGINT,
    locked_until BIGINT,
    redeemed_at BIGINT,
    voided_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX credentials_account ON credentials (account_id, id);
CREATE INDEX credentials_member ON credentials (member_id);
-- A code is unique among the account's live (open) credentials.
CREATE UNIQUE INDEX credentials_live_identifier ON credentials (account_id, identifier) WHERE status = 'open';

CREATE TABLE credential_offers (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    credential_id BIGINT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE RESTRICT,
    PRIMARY KEY (credential_id, offer_id)
);
CREATE INDEX credential_offers_offer ON credential_offers (offer_id);

-- One row per offer per redemption, for limits and reports; voiding marks it.
CREATE TABLE redemptions (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    credential_id BIGINT NOT NULL REFERENCES credentials (id) ON DELETE RESTRICT,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE RESTRICT,
    channel_id BIGINT NOT NULL,
    member_id BIGINT NOT NULL,
    store_id BIGINT,
    redeemed_at BIGINT NOT NULL,
    business_date TEXT NOT NULL,
    voided_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX redemptions_offer_member ON redemptions (offer_id, member_id, business_date);
CREATE INDEX redemptions_offer_channel ON redemptions (offer_id, channel_id);
CREATE INDEX redemptions_credential ON redemptions (credential_id);

CREATE TABLE offer_activities (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL,
    credential_id BIGINT,
    member_id BIGINT,
    activity_type BIGINT NOT NULL,
    description TEXT,
    reported_at BIGINT NOT NULL,
    processed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX offer_activities_account ON offer_activities (account_id, id);
CREATE INDEX offer_activities_credential ON offer_activities (credential_id);

-- Callbacks are written here in the same transaction as the event and delivered by a worker.
CREATE TABLE callback_outbox (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    give_up_at BIGINT NOT NULL,
    delivered_at BIGINT,
    failed_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX callback_outbox_due ON callback_outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE TABLE callback_attempts (
    id {{id}},
    outbox_id BIGINT NOT NULL REFERENCES callback_outbox (id) ON DELETE CASCADE,
    attempted_at BIGINT NOT NULL,
    status_code BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX callback_attempts_outbox ON callback_attempts (outbox_id);

CREATE TABLE idempotency_keys (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code BIGINT,
    response_body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, idempotency_key)
);
