ALTER TABLE card_applications DROP COLUMN replaces_card_id;
