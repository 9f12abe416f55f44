-- Delivery addresses are personal data: sealed under the data key (AES-256-GCM, bound to the
-- application) with the id of the key, never stored in plaintext. Rows written from now on
-- always have both; rows written before are sealed by the service at its next start.
ALTER TABLE deliveries ADD COLUMN address_key_id TEXT;
ALTER TABLE deliveries ADD COLUMN address_sealed BLOB;
-- Addresses written before were plaintext. A migration has no keys, so they wait here until
-- the service, starting with its keys, seals them into their delivery and deletes them.
CREATE TABLE unsealed_addresses (
    apply_no TEXT PRIMARY KEY NOT NULL REFERENCES deliveries (apply_no),
    address TEXT NOT NULL,
    address_detail TEXT NOT NULL,
    zip_code TEXT NOT NULL
);
INSERT INTO unsealed_addresses (apply_no, address, address_detail, zip_code)
SELECT apply_no, address, address_detail, zip_code FROM deliveries;
ALTER TABLE deliveries DROP COLUMN address;
ALTER TABLE deliveries DROP COLUMN address_detail;
ALTER TABLE deliveries DROP COLUMN zip_code;
