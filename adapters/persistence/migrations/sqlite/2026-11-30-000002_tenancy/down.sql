-- Back to members keyed by member id alone: a member id held by several projects keeps the
-- row of the oldest one.

CREATE TABLE members_old (
    member_id TEXT PRIMARY KEY NOT NULL
        CHECK (length(member_id) BETWEEN 1 AND 19 AND member_id NOT GLOB '*[^0-9]*'),
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'CANCELLED')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT OR IGNORE INTO members_old (member_id, status, created_at, updated_at)
SELECT member_id, status, created_at, updated_at FROM members ORDER BY created_at;

CREATE TABLE card_applications_old (
    apply_no TEXT PRIMARY KEY NOT NULL CHECK (length(apply_no) = 22),
    member_id TEXT NOT NULL REFERENCES members_old (member_id),
    service_id TEXT NOT NULL REFERENCES card_products (service_id),
    application_type TEXT NOT NULL,
    status TEXT NOT NULL,
    purpose TEXT,
    created_at BIGINT NOT NULL
);
INSERT INTO card_applications_old
SELECT apply_no, member_id, service_id, application_type, status, purpose, created_at
FROM card_applications;

CREATE TABLE cards_old (
    par TEXT PRIMARY KEY NOT NULL CHECK (length(par) = 27),
    apply_no TEXT NOT NULL REFERENCES card_applications_old (apply_no),
    pan_ciphertext BLOB NOT NULL,
    pan_key_id TEXT NOT NULL,
    pan_fingerprint BLOB NOT NULL,
    expiry TEXT NOT NULL CHECK (length(expiry) = 4),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT cards_pan_fingerprint_key UNIQUE (pan_fingerprint)
);
INSERT INTO cards_old
SELECT par, apply_no, pan_ciphertext, pan_key_id, pan_fingerprint, expiry, kind, status,
       created_at
FROM cards;

CREATE TABLE deliveries_old (
    apply_no TEXT PRIMARY KEY NOT NULL REFERENCES card_applications_old (apply_no),
    address TEXT NOT NULL,
    address_detail TEXT NOT NULL,
    zip_code TEXT NOT NULL CHECK (length(zip_code) = 5),
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO deliveries_old
SELECT apply_no, address, address_detail, zip_code, status, created_at, updated_at
FROM deliveries;

CREATE TABLE idempotency_records_old (
    asp_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    request_fingerprint BLOB NOT NULL,
    apply_no TEXT NOT NULL REFERENCES card_applications_old (apply_no),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (asp_id, correlation_id)
);
INSERT INTO idempotency_records_old SELECT * FROM idempotency_records;

DROP TABLE idempotency_records;
DROP TABLE deliveries;
DROP TABLE cards;
DROP TABLE card_applications;
DROP TABLE members;
ALTER TABLE members_old RENAME TO members;
ALTER TABLE card_applications_old RENAME TO card_applications;
ALTER TABLE cards_old RENAME TO cards;
ALTER TABLE deliveries_old RENAME TO deliveries;
ALTER TABLE idempotency_records_old RENAME TO idempotency_records;
CREATE INDEX idempotency_records_by_expiry ON idempotency_records (expires_at);
CREATE INDEX card_applications_by_member ON card_applications (member_id);
CREATE INDEX cards_by_application ON cards (apply_no);
