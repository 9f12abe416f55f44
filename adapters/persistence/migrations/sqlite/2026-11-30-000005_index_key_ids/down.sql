ALTER TABLE card_number_serials DROP COLUMN numbering_key_id;
ALTER TABLE idempotency_records DROP COLUMN request_fingerprint_key_id;
ALTER TABLE cards DROP COLUMN pan_fingerprint_key_id;
