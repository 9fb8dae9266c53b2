-- The member a callback is about (a credential's callback, a redemption's conversion), so
-- that anonymizing the member can scrub their callbacks: a conversion URL may carry the
-- member's identifier (`sf_uid`), a credential callback the credential's annotations.
ALTER TABLE callback_outbox ADD COLUMN member_id BIGINT;
CREATE INDEX callback_outbox_member ON callback_outbox (member_id) WHERE member_id IS NOT NULL;
