-- Back to members keyed by member id alone: a member id held by several projects keeps the
-- row of the oldest one.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_application_fkey;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_apply_no_fkey
    FOREIGN KEY (apply_no) REFERENCES card_applications (apply_no);
ALTER TABLE deliveries DROP COLUMN asp_id;

ALTER TABLE cards DROP CONSTRAINT cards_application_fkey;
DROP INDEX cards_by_asp;
ALTER TABLE cards ADD CONSTRAINT cards_apply_no_fkey
    FOREIGN KEY (apply_no) REFERENCES card_applications (apply_no);
ALTER TABLE cards DROP COLUMN asp_id;

ALTER TABLE card_applications DROP CONSTRAINT card_applications_member_fkey;
ALTER TABLE card_applications DROP CONSTRAINT card_applications_asp_id_apply_no_key;
DROP INDEX card_applications_by_member;
ALTER TABLE card_applications DROP COLUMN asp_id;
CREATE INDEX card_applications_by_member ON card_applications (member_id);

DELETE FROM members m USING members older
WHERE older.member_id = m.member_id
  AND (older.created_at, older.asp_id) < (m.created_at, m.asp_id);
ALTER TABLE members DROP CONSTRAINT members_pkey;
ALTER TABLE members DROP COLUMN asp_id;
ALTER TABLE members ADD PRIMARY KEY (member_id);
ALTER TABLE card_applications ADD CONSTRAINT card_applications_member_id_fkey
    FOREIGN KEY (member_id) REFERENCES members (member_id);
