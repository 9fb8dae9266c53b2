-- Zidentifiers, store check-ins and loyalty points (issue #11, the offer engine).

-- One zid per member × offer × channel, created on first request. `zid` is a random digit
-- string, unique across accounts (the lookup by zid names no account of its own).
CREATE TABLE zidentifiers (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    zid TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX zidentifiers_zid ON zidentifiers (zid);
CREATE UNIQUE INDEX zidentifiers_member_offer_channel ON zidentifiers (member_id, offer_id, channel_id);
CREATE INDEX zidentifiers_account ON zidentifiers (account_id, id);

-- Counted check-ins only (refused ones are not recorded), with the position given.
CREATE TABLE check_ins (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    store_id BIGINT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    lat DOUBLE PRECISION NOT NULL,
    lng DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX check_ins_member_store ON check_ins (member_id, store_id, created_at);

-- A member's points on a channel; changed only by a transfer, never below zero.
-- Points are the member's value: a member or channel that has any cannot be deleted.
CREATE TABLE points_balances (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE RESTRICT,
    balance BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (member_id, channel_id)
);

-- Every transfer by its caller's txid, unique in the account: a replay finds the first one
-- and answers with its result (`balance` after it).
CREATE TABLE points_transfers (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    txid TEXT NOT NULL,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE RESTRICT,
    points BIGINT NOT NULL,
    balance BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX points_transfers_txid ON points_transfers (account_id, txid);
CREATE INDEX points_transfers_member ON points_transfers (member_id, channel_id);

-- Member activity feeds read a member's rows.
CREATE INDEX offer_activities_member ON offer_activities (member_id, id);
CREATE INDEX redemptions_member ON redemptions (member_id, store_id);
