-- Cards as the lifecycle needs them: an id of their own (the PAR stays unique, but a card is no
-- longer keyed by it), the member they were issued to, the mobile card a physical card is linked
-- to, an optimistic version for state changes that two writers can meet, and what their
-- encrypted PAN is bound to: new cards to their id, the cards issued before to their PAR (kept as
-- they were encrypted; `PAR`).
--
-- SQLite cannot change a primary key: the table is rebuilt (new table, copy, drop, rename).
-- Existing cards get a random id. `cards_by_member`, which starts with the ASP id, replaces
-- `cards_by_asp`. (A table keyed by the random id itself, `WITHOUT ROWID`, was measured slower:
-- each card lands at a random place of the table's B-tree instead of at its end.)

CREATE TABLE cards_new (
    card_id TEXT PRIMARY KEY NOT NULL CHECK (length(card_id) = 32),
    par TEXT NOT NULL UNIQUE CHECK (length(par) = 27),
    asp_id TEXT NOT NULL,
    apply_no TEXT NOT NULL,
    member_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    expiry TEXT NOT NULL CHECK (length(expiry) = 4),
    linked_card_id TEXT REFERENCES cards_new (card_id),
    pan_ciphertext BLOB NOT NULL,
    pan_key_id TEXT NOT NULL,
    pan_bound_to TEXT NOT NULL CHECK (pan_bound_to IN ('CARD_ID', 'PAR')),
    pan_fingerprint BLOB NOT NULL,
    pan_fingerprint_key_id TEXT NOT NULL,
    cvk_id TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT cards_pan_fingerprint_key UNIQUE (pan_fingerprint),
    FOREIGN KEY (asp_id, apply_no) REFERENCES card_applications (asp_id, apply_no),
    FOREIGN KEY (asp_id, member_id) REFERENCES members (asp_id, member_id)
);
INSERT INTO cards_new
    (card_id, par, asp_id, apply_no, member_id, kind, status, expiry, linked_card_id,
     pan_ciphertext, pan_key_id, pan_bound_to, pan_fingerprint, pan_fingerprint_key_id, cvk_id,
     version, created_at, updated_at)
SELECT lower(hex(randomblob(16))), c.par, c.asp_id, c.apply_no, a.member_id, c.kind, c.status,
       c.expiry, NULL, c.pan_ciphertext, c.pan_key_id, 'PAR', c.pan_fingerprint,
       c.pan_fingerprint_key_id, c.cvk_id, 0, c.created_at, c.created_at
FROM cards c JOIN card_applications a ON a.apply_no = c.apply_no;
DROP TABLE cards;
ALTER TABLE cards_new RENAME TO cards;
CREATE INDEX cards_by_application ON cards (apply_no);
CREATE INDEX cards_by_member ON cards (asp_id, member_id);
