DROP TABLE replay_bindings;

CREATE TABLE used_tran_tokens (
    asp_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (asp_id, signature)
);
CREATE INDEX used_tran_tokens_by_expiry ON used_tran_tokens (expires_at);
