-- The retention job (`kindling_workers::retention`) deletes idempotency keys once they are
-- forgotten and finished callbacks once older than the callback retention, oldest first and
-- a batch at a time: both by enqueue/claim time.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX callback_outbox_created ON callback_outbox (created_at);
