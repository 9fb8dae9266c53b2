-- The offer wallet: an offer saved to a member on a channel, with its own credential (the
-- POS-redeemable code) and optional custom dates inside the offer's window. `token` is a
-- URL-safe random string a state is transferred to another member by, replaced on transfer.
CREATE TABLE offer_states (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE RESTRICT,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE RESTRICT,
    credential_id BIGINT NOT NULL REFERENCES credentials (id) ON DELETE RESTRICT,
    activates_at BIGINT,
    expires_at BIGINT,
    external_ref_id TEXT,
    token TEXT NOT NULL,
    transferable BOOLEAN NOT NULL DEFAULT TRUE,
    voided_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX offer_states_member ON offer_states (account_id, member_id, channel_id);
CREATE UNIQUE INDEX offer_states_token ON offer_states (token);
CREATE INDEX offer_states_credential ON offer_states (credential_id);

-- A credential may open later than it is issued (an offer state's custom activation);
-- redemption refuses it before then.
ALTER TABLE credentials ADD COLUMN activates_at BIGINT;
