-- A manufacturer's redemption_identifier_type is a nullable string in the spec (issue #8): any
-- text, "" and null are kept as given. Earlier rows held integer codes; they keep them as text.
-- Portable: ADD/DROP/RENAME COLUMN work on SQLite (>= 3.35) and PostgreSQL alike.
ALTER TABLE manufacturers ADD COLUMN redemption_identifier_text TEXT;
UPDATE manufacturers SET redemption_identifier_text = CAST(redemption_identifier_type AS TEXT);
ALTER TABLE manufacturers DROP COLUMN redemption_identifier_type;
ALTER TABLE manufacturers RENAME COLUMN redemption_identifier_text TO redemption_identifier_type;
