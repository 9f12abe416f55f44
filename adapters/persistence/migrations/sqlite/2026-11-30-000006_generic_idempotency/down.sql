-- Back to records of issuances only: records of other operations cannot be kept.
CREATE TABLE idempotency_records_old (
    asp_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    request_fingerprint BLOB NOT NULL,
    apply_no TEXT NOT NULL REFERENCES card_applications (apply_no),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    request_fingerprint_key_id TEXT NOT NULL DEFAULT 'idx-1',
    PRIMARY KEY (asp_id, correlation_id)
);
INSERT INTO idempotency_records_old
    (asp_id, correlation_id, request_fingerprint, apply_no, created_at, expires_at,
     request_fingerprint_key_id)
SELECT asp_id, correlation_id, request_fingerprint, outcome, created_at, expires_at,
       request_fingerprint_key_id
FROM idempotency_records
WHERE operation = 'ISSUE_AND_DELIVER';
DROP TABLE idempotency_records;
ALTER TABLE idempotency_records_old RENAME TO idempotency_records;
CREATE INDEX idempotency_records_by_expiry ON idempotency_records (expires_at);
