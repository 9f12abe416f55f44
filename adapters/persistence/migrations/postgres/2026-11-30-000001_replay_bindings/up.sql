-- Replay bindings (D4, D6): the tran token signs the body only, so what is remembered is the
-- signature, bound to the correlation id of the request that first carried it. Used tokens
-- keyed by token time are dropped: they are short-lived and the new bindings replace them.
DROP TABLE used_tran_tokens;

CREATE TABLE replay_bindings (
    asp_id TEXT NOT NULL,
    -- SHA-256 over the ASP id, a zero byte and "access key:signature" (the signature itself is
    -- never stored).
    token_digest BYTEA NOT NULL CHECK (octet_length(token_digest) = 32),
    correlation_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (asp_id, token_digest)
);
CREATE INDEX replay_bindings_by_expiry ON replay_bindings (expires_at);
