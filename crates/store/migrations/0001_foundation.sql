-- Accounts (tenants), their session tokens, and members.
-- `{{id}}` is the dialect's auto-increment primary key; times are Unix seconds (BIGINT).

CREATE TABLE accounts (
    id {{id}},
    name TEXT NOT NULL,
    api_key_hash TEXT NOT NULL,
    enable_callbacks BOOLEAN NOT NULL DEFAULT FALSE,
    credential_callback_url TEXT,
    supports_barcode BOOLEAN NOT NULL DEFAULT FALSE,
    failed_auth_count BIGINT NOT NULL DEFAULT 0,
    failed_auth_since BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Only a SHA-256 digest of each token is kept.
CREATE TABLE auth_tokens (
    digest TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX auth_tokens_account ON auth_tokens (account_id, expires_at);

CREATE TABLE members (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    identifier TEXT NOT NULL,
    notification_mode TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX members_identifier ON members (account_id, identifier);
