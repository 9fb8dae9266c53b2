-- Idempotency keys keep the original response's headers for replays, and an in-flight key
-- holds a lease: a key whose request died with its process can be claimed again once the
-- lease runs out instead of answering 409 for a day.
ALTER TABLE idempotency_keys ADD COLUMN response_headers TEXT;
ALTER TABLE idempotency_keys ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0;
