-- Back to records of issuances only: records of other operations cannot be kept.
DELETE FROM idempotency_records WHERE operation <> 'ISSUE_AND_DELIVER';
ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_operation_check;
ALTER TABLE idempotency_records DROP COLUMN operation;
ALTER TABLE idempotency_records RENAME COLUMN outcome TO apply_no;
ALTER TABLE idempotency_records ADD CONSTRAINT idempotency_records_apply_no_fkey
    FOREIGN KEY (apply_no) REFERENCES card_applications (apply_no);
