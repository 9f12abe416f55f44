-- Retries for every state change (D14): an idempotency record names the operation it claims
-- the correlation id for and a reference to that operation's outcome (for an issuance, the
-- application number), no longer a card application alone. The outcome is no longer a foreign
-- key: another operation's outcome may be a member or a card. Existing records are issuances.
ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_apply_no_fkey;
ALTER TABLE idempotency_records RENAME COLUMN apply_no TO outcome;
ALTER TABLE idempotency_records ADD COLUMN operation TEXT NOT NULL DEFAULT 'ISSUE_AND_DELIVER';
ALTER TABLE idempotency_records ALTER COLUMN operation DROP DEFAULT;
ALTER TABLE idempotency_records ADD CONSTRAINT idempotency_records_operation_check
    CHECK (length(operation) BETWEEN 1 AND 40);
