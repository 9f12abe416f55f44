-- The id of the card verification key each card's CVC is derived with: a rotation of the key
-- leaves every existing card's CVC as it was (the retired key is kept for it). Cards made
-- before key ids existed were derived with the one key, whose id is `cvk-1` unless configured.
ALTER TABLE cards ADD COLUMN cvk_id TEXT NOT NULL DEFAULT 'cvk-1';
