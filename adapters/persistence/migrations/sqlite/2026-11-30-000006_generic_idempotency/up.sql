-- Retries for every state change (D14): an idempotency record names the operation it claims
-- the correlation id for and a reference to that operation's outcome (for an issuance, the
-- application number), no longer a card application alone. The outcome is no longer a foreign
-- key: another operation's outcome may be a member or a card.
--
-- SQLite cannot drop a foreign key: the table is rebuilt (new table, copy, drop, rename).
-- Existing records are issuances.

CREATE TABLE idempotency_records_new (
    asp_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (length(operation) BETWEEN 1 AND 40),
    request_fingerprint BLOB NOT NULL,
    request_fingerprint_key_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (asp_id, correlation_id)
);
INSERT INTO idempotency_records_new
    (asp_id, correlation_id, operation, request_fingerprint, request_fingerprint_key_id, outcome,
     created_at, expires_at)
SELECT asp_id, correlation_id, 'ISSUE_AND_DELIVER', request_fingerprint,
       request_fingerprint_key_id, apply_no, created_at, expires_at
FROM idempotency_records;
DROP TABLE idempotency_records;
ALTER TABLE idempotency_records_new RENAME TO idempotency_records;
CREATE INDEX idempotency_records_by_expiry ON idempotency_records (expires_at);
