-- The fulfilment partner's operator tokens (D18): SHA-256 of each token, never the token. A
-- token is 256 random bits, so its digest alone does not let anyone find it.
CREATE TABLE operator_tokens (
    token_digest BYTEA PRIMARY KEY NOT NULL CHECK (length(token_digest) = 32),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    created_at BIGINT NOT NULL
);
