-- The request holding an `Idempotency-Key` (a random token, set when it claims or takes the
-- key over): only that request renews the lease, stores the response or releases the key, so
-- a request whose lease ran out and was taken over cannot overwrite or delete the new claim.
ALTER TABLE idempotency_keys ADD COLUMN owner TEXT NOT NULL DEFAULT '';
