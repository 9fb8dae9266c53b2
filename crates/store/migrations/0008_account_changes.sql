-- The revocation log also announces changes to an account's record (callback settings, time
-- zone) so that every server process evicts its cached copy. `tokens` is FALSE for such an
-- entry: it names the account, and its tokens stay valid.
ALTER TABLE auth_revocations ADD COLUMN tokens BOOLEAN NOT NULL DEFAULT TRUE;
