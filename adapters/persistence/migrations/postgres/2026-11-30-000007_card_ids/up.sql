-- Cards as the lifecycle needs them: an id of their own (the PAR stays unique, but a card is no
-- longer keyed by it), the member they were issued to, the mobile card a physical card is linked
-- to, an optimistic version for state changes that two writers can meet, and what their
-- encrypted PAN is bound to: new cards to their id, the cards issued before to their PAR (kept as
-- they were encrypted; `PAR`). Existing cards get a random id.
ALTER TABLE cards ADD COLUMN card_id TEXT;
UPDATE cards SET card_id = md5(random()::text || clock_timestamp()::text || par);
ALTER TABLE cards ALTER COLUMN card_id SET NOT NULL;
ALTER TABLE cards DROP CONSTRAINT cards_pkey;
ALTER TABLE cards ADD CONSTRAINT cards_pkey PRIMARY KEY (card_id);
ALTER TABLE cards ADD CONSTRAINT cards_card_id_check CHECK (length(card_id) = 32);
ALTER TABLE cards ADD CONSTRAINT cards_par_key UNIQUE (par);
ALTER TABLE cards ADD COLUMN member_id TEXT;
UPDATE cards c SET member_id = a.member_id FROM card_applications a WHERE a.apply_no = c.apply_no;
ALTER TABLE cards ALTER COLUMN member_id SET NOT NULL;
ALTER TABLE cards ADD CONSTRAINT cards_member_fkey
    FOREIGN KEY (asp_id, member_id) REFERENCES members (asp_id, member_id);
ALTER TABLE cards ADD COLUMN linked_card_id TEXT REFERENCES cards (card_id);
ALTER TABLE cards ADD COLUMN pan_bound_to TEXT NOT NULL DEFAULT 'PAR';
ALTER TABLE cards ALTER COLUMN pan_bound_to DROP DEFAULT;
ALTER TABLE cards ADD CONSTRAINT cards_pan_bound_to_check CHECK (pan_bound_to IN ('CARD_ID', 'PAR'));
ALTER TABLE cards ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN updated_at BIGINT;
UPDATE cards SET updated_at = created_at;
ALTER TABLE cards ALTER COLUMN updated_at SET NOT NULL;
CREATE INDEX cards_by_member ON cards (asp_id, member_id);
-- `cards_by_member` starts with the ASP id: it serves what `cards_by_asp` did.
DROP INDEX cards_by_asp;
