ALTER TABLE cards DROP COLUMN wrong_attempts;
