-- Back to plaintext columns: only the addresses not sealed yet can be restored (a migration has
-- no keys); sealed ones are lost to the older version.
ALTER TABLE deliveries ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN address_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN zip_code TEXT NOT NULL DEFAULT '';
UPDATE deliveries SET
    address = (SELECT u.address FROM unsealed_addresses u WHERE u.apply_no = deliveries.apply_no),
    address_detail = (SELECT u.address_detail FROM unsealed_addresses u WHERE u.apply_no = deliveries.apply_no),
    zip_code = (SELECT u.zip_code FROM unsealed_addresses u WHERE u.apply_no = deliveries.apply_no)
WHERE apply_no IN (SELECT apply_no FROM unsealed_addresses);
DROP TABLE unsealed_addresses;
ALTER TABLE deliveries DROP COLUMN address_sealed;
ALTER TABLE deliveries DROP COLUMN address_key_id;
