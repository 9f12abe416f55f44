-- The card an application replaces (D22): the lost card of a reissue, the expiring card of a
-- renewal. Earlier replacements of a card are found through the member's applications.
ALTER TABLE card_applications ADD COLUMN replaces_card_id TEXT;
