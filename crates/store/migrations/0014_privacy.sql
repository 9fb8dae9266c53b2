-- Member privacy: how long an account keeps a member after a deletion request (NULL: the
-- default, 7 days), and the requests themselves. A request is the anonymization job's
-- schedule: a worker claims a due row (`lease_until`, so many servers do not run it twice)
-- and stamps `anonymized_at` in the transaction that anonymizes the member.
ALTER TABLE accounts ADD COLUMN privacy_retention_days BIGINT;

CREATE TABLE member_deletion_requests (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    requested_at BIGINT NOT NULL,
    anonymize_after BIGINT NOT NULL,
    lease_until BIGINT,
    anonymized_at BIGINT
);
-- One request per member: a second one keeps the first's schedule.
CREATE UNIQUE INDEX member_deletion_requests_member ON member_deletion_requests (member_id);
CREATE INDEX member_deletion_requests_due ON member_deletion_requests (anonymize_after) WHERE anonymized_at IS NULL;
