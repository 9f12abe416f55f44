-- The id of the index key each fingerprint was made with, and of the index key each BIN's
-- card numbers are derived from: the index key can rotate, retries recorded before compare
-- under their own key, and a BIN keeps numbering with the key it started with. Rows made
-- before key ids existed carry `idx-1`, the id of a key configured without one.
ALTER TABLE cards ADD COLUMN pan_fingerprint_key_id TEXT NOT NULL DEFAULT 'idx-1';
ALTER TABLE idempotency_records ADD COLUMN request_fingerprint_key_id TEXT NOT NULL DEFAULT 'idx-1';
ALTER TABLE card_number_serials ADD COLUMN numbering_key_id TEXT NOT NULL DEFAULT 'idx-1';
