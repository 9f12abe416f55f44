-- Back to cards keyed by their PAR. Cards whose PAN is bound to their id cannot be read by the
-- code before this migration; they are kept, and stay unreadable until it runs again.
CREATE TABLE cards_old (
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
    cvk_id TEXT NOT NULL DEFAULT 'cvk-1',
    pan_fingerprint_key_id TEXT NOT NULL DEFAULT 'idx-1',
    CONSTRAINT cards_pan_fingerprint_key UNIQUE (pan_fingerprint),
    FOREIGN KEY (asp_id, apply_no) REFERENCES card_applications (asp_id, apply_no)
);
INSERT INTO cards_old
    (par, asp_id, apply_no, pan_ciphertext, pan_key_id, pan_fingerprint, expiry, kind, status,
     created_at, cvk_id, pan_fingerprint_key_id)
SELECT par, asp_id, apply_no, pan_ciphertext, pan_key_id, pan_fingerprint, expiry, kind, status,
       created_at, cvk_id, pan_fingerprint_key_id
FROM cards;
DROP TABLE cards;
ALTER TABLE cards_old RENAME TO cards;
CREATE INDEX cards_by_application ON cards (apply_no);
CREATE INDEX cards_by_asp ON cards (asp_id);
