-- Schema v1 (PostgreSQL). Kept in step with migrations/sqlite; see docs/PERSISTENCE.md.
-- Times are milliseconds since the Unix epoch (UTC). Member ids are decimal text (up to 19
-- nines, beyond i64), checked to be digits.

CREATE TABLE projects (
    asp_id TEXT PRIMARY KEY NOT NULL CHECK (length(asp_id) = 15),
    plaintext_allowed BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE access_keys (
    access_key TEXT PRIMARY KEY NOT NULL CHECK (length(access_key) = 40),
    asp_id TEXT NOT NULL REFERENCES projects (asp_id),
    sealed_secret BYTEA NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'INACTIVE', 'DISCARDED')),
    created_at BIGINT NOT NULL
);
CREATE INDEX access_keys_by_asp ON access_keys (asp_id);

CREATE TABLE crypto_keys (
    key_id TEXT PRIMARY KEY NOT NULL CHECK (length(key_id) = 32),
    asp_id TEXT NOT NULL REFERENCES projects (asp_id),
    position SMALLINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (asp_id, position)
);

CREATE TABLE members (
    member_id TEXT PRIMARY KEY NOT NULL
        CHECK (length(member_id) BETWEEN 1 AND 19 AND member_id ~ '^[1-9][0-9]*$'),
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'CANCELLED')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE card_products (
    service_id TEXT PRIMARY KEY NOT NULL CHECK (length(service_id) = 15),
    name TEXT NOT NULL,
    bin TEXT NOT NULL,
    product_type TEXT NOT NULL CHECK (product_type IN ('NORMAL', 'MOBILE')),
    pre_issuance BOOLEAN NOT NULL,
    giftable BOOLEAN NOT NULL,
    validity_years SMALLINT NOT NULL CHECK (validity_years BETWEEN 1 AND 10),
    active BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE card_applications (
    apply_no TEXT PRIMARY KEY NOT NULL CHECK (length(apply_no) = 22),
    member_id TEXT NOT NULL REFERENCES members (member_id),
    service_id TEXT NOT NULL REFERENCES card_products (service_id),
    application_type TEXT NOT NULL,
    status TEXT NOT NULL,
    purpose TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX card_applications_by_member ON card_applications (member_id);

CREATE TABLE cards (
    par TEXT PRIMARY KEY NOT NULL CHECK (length(par) = 27),
    apply_no TEXT NOT NULL REFERENCES card_applications (apply_no),
    pan_ciphertext BYTEA NOT NULL,
    pan_key_id TEXT NOT NULL,
    pan_fingerprint BYTEA NOT NULL,
    expiry TEXT NOT NULL CHECK (length(expiry) = 4),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT cards_pan_fingerprint_key UNIQUE (pan_fingerprint)
);
CREATE INDEX cards_by_application ON cards (apply_no);

CREATE TABLE deliveries (
    apply_no TEXT PRIMARY KEY NOT NULL REFERENCES card_applications (apply_no),
    address TEXT NOT NULL,
    address_detail TEXT NOT NULL,
    zip_code TEXT NOT NULL CHECK (length(zip_code) = 5),
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE idempotency_records (
    asp_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    request_fingerprint BYTEA NOT NULL,
    apply_no TEXT NOT NULL REFERENCES card_applications (apply_no),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (asp_id, correlation_id)
);
CREATE INDEX idempotency_records_by_expiry ON idempotency_records (expires_at);

CREATE TABLE used_tran_tokens (
    asp_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (asp_id, signature)
);
CREATE INDEX used_tran_tokens_by_expiry ON used_tran_tokens (expires_at);
