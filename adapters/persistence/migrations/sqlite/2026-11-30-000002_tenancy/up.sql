-- Tenancy (D15): members, card applications, cards and deliveries belong to the project (ASP id)
-- that created them, and every look-up is by (ASP id, key). A member id is now unique per
-- project, not across the service.
--
-- Existing rows move to their project: an application to the ASP of its idempotency record,
-- else (its record purged after 24 h) to the oldest project; its card and delivery with it; a
-- member to every project that has applications of it, and a member with none to the oldest
-- project (in a sandbox, the sandbox project). A member with neither an application nor any
-- project to go to stops the migration (NOT NULL), rather than being dropped.
--
-- SQLite cannot alter a primary key or a foreign key: each table is rebuilt (new table, copy,
-- drop, rename), idempotency records too since they reference applications. The new tables
-- reference one another by their new names; the old ones are dropped children first, so no
-- foreign key is ever broken, and each rename rewrites the references to the renamed table.

CREATE TEMP TABLE application_owners AS
SELECT a.apply_no AS apply_no,
       COALESCE(
           (SELECT i.asp_id FROM idempotency_records i WHERE i.apply_no = a.apply_no
            ORDER BY i.created_at LIMIT 1),
           (SELECT p.asp_id FROM projects p ORDER BY p.created_at, p.asp_id LIMIT 1)
       ) AS asp_id,
       a.member_id AS member_id
FROM card_applications a;

CREATE TABLE members_new (
    asp_id TEXT NOT NULL CHECK (length(asp_id) = 15),
    member_id TEXT NOT NULL
        CHECK (length(member_id) BETWEEN 1 AND 19 AND member_id NOT GLOB '*[^0-9]*'),
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'CANCELLED')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (asp_id, member_id)
);
INSERT INTO members_new (asp_id, member_id, status, created_at, updated_at)
SELECT DISTINCT o.asp_id, m.member_id, m.status, m.created_at, m.updated_at
FROM members m JOIN application_owners o ON o.member_id = m.member_id;
INSERT INTO members_new (asp_id, member_id, status, created_at, updated_at)
SELECT (SELECT p.asp_id FROM projects p ORDER BY p.created_at, p.asp_id LIMIT 1),
       m.member_id, m.status, m.created_at, m.updated_at
FROM members m
WHERE NOT EXISTS (SELECT 1 FROM application_owners o WHERE o.member_id = m.member_id);

CREATE TABLE card_applications_new (
    apply_no TEXT PRIMARY KEY NOT NULL CHECK (length(apply_no) = 22),
    asp_id TEXT NOT NULL CHECK (length(asp_id) = 15),
    member_id TEXT NOT NULL,
    service_id TEXT NOT NULL REFERENCES card_products (service_id),
    application_type TEXT NOT NULL,
    status TEXT NOT NULL,
    purpose TEXT,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (asp_id, member_id) REFERENCES members_new (asp_id, member_id),
    UNIQUE (asp_id, apply_no)
);
INSERT INTO card_applications_new
    (apply_no, asp_id, member_id, service_id, application_type, status, purpose, created_at)
SELECT a.apply_no, o.asp_id, a.member_id, a.service_id, a.application_type, a.status, a.purpose,
       a.created_at
FROM card_applications a JOIN application_owners o ON o.apply_no = a.apply_no;

CREATE TABLE cards_new (
    par TEXT PRIMARY KEY NOT NULL CHECK (length(par) = 27),
    asp_id TEXT NOT NULL,
    apply_no TEXT NOT NULL,
    pan_ciphertext BLOB NOT NULL,
    pan_key_id TEXT NOT NULL,
    pan_fingerprint BLOB NOT NULL,
    expiry TEXT NOT NULL CHECK (length(expiry) = 4),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT cards_pan_fingerprint_key UNIQUE (pan_fingerprint),
    FOREIGN KEY (asp_id, apply_no) REFERENCES card_applications_new (asp_id, apply_no)
);
INSERT INTO cards_new
    (par, asp_id, apply_no, pan_ciphertext, pan_key_id, pan_fingerprint, expiry, kind, status,
     created_at)
SELECT c.par, o.asp_id, c.apply_no, c.pan_ciphertext, c.pan_key_id, c.pan_fingerprint, c.expiry,
       c.kind, c.status, c.created_at
FROM cards c JOIN application_owners o ON o.apply_no = c.apply_no;

CREATE TABLE deliveries_new (
    apply_no TEXT PRIMARY KEY NOT NULL,
    asp_id TEXT NOT NULL,
    address TEXT NOT NULL,
    address_detail TEXT NOT NULL,
    zip_code TEXT NOT NULL CHECK (length(zip_code) = 5),
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (asp_id, apply_no) REFERENCES card_applications_new (asp_id, apply_no)
);
INSERT INTO deliveries_new
    (apply_no, asp_id, address, address_detail, zip_code, status, created_at, updated_at)
SELECT d.apply_no, o.asp_id, d.address, d.address_detail, d.zip_code, d.status, d.created_at,
       d.updated_at
FROM deliveries d JOIN application_owners o ON o.apply_no = d.apply_no;

CREATE TABLE idempotency_records_new (
    asp_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    request_fingerprint BLOB NOT NULL,
    apply_no TEXT NOT NULL REFERENCES card_applications_new (apply_no),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (asp_id, correlation_id)
);
INSERT INTO idempotency_records_new
    (asp_id, correlation_id, request_fingerprint, apply_no, created_at, expires_at)
SELECT asp_id, correlation_id, request_fingerprint, apply_no, created_at, expires_at
FROM idempotency_records;

DROP TABLE idempotency_records;
DROP TABLE deliveries;
DROP TABLE cards;
DROP TABLE card_applications;
DROP TABLE members;
ALTER TABLE members_new RENAME TO members;
ALTER TABLE card_applications_new RENAME TO card_applications;
ALTER TABLE cards_new RENAME TO cards;
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE idempotency_records_new RENAME TO idempotency_records;
CREATE INDEX idempotency_records_by_expiry ON idempotency_records (expires_at);
CREATE INDEX card_applications_by_member ON card_applications (asp_id, member_id);
CREATE INDEX cards_by_application ON cards (apply_no);
CREATE INDEX cards_by_asp ON cards (asp_id);
DROP TABLE application_owners;
