-- Back to cards keyed by their PAR. Cards whose PAN is bound to their id cannot be read by the
-- code before this migration; they are kept, and stay unreadable until it runs again.
CREATE INDEX cards_by_asp ON cards (asp_id);
DROP INDEX cards_by_member;
ALTER TABLE cards DROP COLUMN updated_at;
ALTER TABLE cards DROP COLUMN version;
ALTER TABLE cards DROP CONSTRAINT cards_pan_bound_to_check;
ALTER TABLE cards DROP COLUMN pan_bound_to;
ALTER TABLE cards DROP COLUMN linked_card_id;
ALTER TABLE cards DROP CONSTRAINT cards_member_fkey;
ALTER TABLE cards DROP COLUMN member_id;
ALTER TABLE cards DROP CONSTRAINT cards_par_key;
ALTER TABLE cards DROP CONSTRAINT cards_card_id_check;
ALTER TABLE cards DROP CONSTRAINT cards_pkey;
ALTER TABLE cards ADD CONSTRAINT cards_pkey PRIMARY KEY (par);
ALTER TABLE cards DROP COLUMN card_id;
