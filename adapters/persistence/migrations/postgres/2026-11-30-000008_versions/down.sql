ALTER TABLE deliveries DROP COLUMN version;
ALTER TABLE card_applications DROP COLUMN updated_at;
ALTER TABLE card_applications DROP COLUMN version;
