-- Card numbers unique by construction (D7): the next serial of each BIN. An instance reserves a
-- block of serials by moving `next` on in one transaction; the account digits are a keyed
-- permutation of the serial.
CREATE TABLE card_number_serials (
    bin TEXT PRIMARY KEY NOT NULL CHECK (length(bin) IN (6, 8)),
    next BIGINT NOT NULL CHECK (next >= 0),
    updated_at BIGINT NOT NULL
);
