-- Revoked session tokens, as a log that every server process polls to evict its token
-- cache. `digest` names one revoked token; NULL means every token of the account (key
-- rotation, `DELETE /auth?all=true`). Rows are kept for one token lifetime, after which
-- any token they name has expired anyway.
CREATE TABLE auth_revocations (
    id {{id}},
    account_id BIGINT NOT NULL,
    digest TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX auth_revocations_created ON auth_revocations (created_at);
