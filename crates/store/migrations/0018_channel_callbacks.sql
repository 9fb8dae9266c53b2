-- A channel's delivery log in the portal: the channel a callback was sent for (its
-- conversion callbacks and test callbacks), read newest first per channel. A deleted
-- channel's past callbacks stay in the outbox without it.
ALTER TABLE callback_outbox ADD COLUMN channel_id BIGINT REFERENCES channels (id) ON DELETE SET NULL;
CREATE INDEX callback_outbox_channel ON callback_outbox (channel_id, id);
