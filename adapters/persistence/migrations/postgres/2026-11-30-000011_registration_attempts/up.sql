-- Wrong registration attempts in a row on a physical card (D19): counted durably, moved only
-- with the card's version, never past the lock at five.
ALTER TABLE cards ADD COLUMN wrong_attempts SMALLINT NOT NULL DEFAULT 0
    CHECK (wrong_attempts BETWEEN 0 AND 5);
