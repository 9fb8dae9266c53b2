-- The Admin Portal: its users (an email unique across all accounts, stored trimmed and
-- lowercased; an Argon2id password hash; a role), a store operator's stores, sessions
-- (only a SHA-256 digest of the cookie's token is kept) and sign-in attempts per email.
CREATE TABLE portal_users (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer', 'store_operator')),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX portal_users_email ON portal_users (email);
CREATE INDEX portal_users_account ON portal_users (account_id);

-- A deleted store leaves its operators' lists; an operator left with none cannot sign in.
CREATE TABLE portal_user_stores (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
    store_id BIGINT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, store_id)
);
CREATE INDEX portal_user_stores_store ON portal_user_stores (store_id);

CREATE TABLE portal_sessions (
    digest TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id, expires_at);

-- Counted per email whether or not a user has it, so the limit tells nothing about who exists.
CREATE TABLE portal_login_attempts (
    email TEXT PRIMARY KEY,
    failed_count BIGINT NOT NULL,
    failed_since BIGINT NOT NULL
);
CREATE INDEX portal_login_attempts_since ON portal_login_attempts (failed_since);

-- The portal's reads: codes looked up by identifier whatever their status (the unique index
-- covers open ones only), codes issued in a window, and an account's callback backlog.
CREATE INDEX credentials_identifier ON credentials (account_id, identifier);
CREATE INDEX credentials_created ON credentials (account_id, created_at);
CREATE INDEX callback_outbox_account_pending ON callback_outbox (account_id) WHERE delivered_at IS NULL AND failed_at IS NULL;
