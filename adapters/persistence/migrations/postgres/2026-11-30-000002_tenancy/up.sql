-- Tenancy (D15): members, card applications, cards and deliveries belong to the project (ASP id)
-- that created them, and every look-up is by (ASP id, key). A member id is now unique per
-- project, not across the service. Kept in step with migrations/sqlite (same rules for moving
-- existing rows; see there).

CREATE TEMP TABLE application_owners ON COMMIT DROP AS
SELECT a.apply_no AS apply_no,
       COALESCE(
           (SELECT i.asp_id FROM idempotency_records i WHERE i.apply_no = a.apply_no
            ORDER BY i.created_at LIMIT 1),
           (SELECT p.asp_id FROM projects p ORDER BY p.created_at, p.asp_id LIMIT 1)
       ) AS asp_id,
       a.member_id AS member_id
FROM card_applications a;

ALTER TABLE card_applications DROP CONSTRAINT card_applications_member_id_fkey;
ALTER TABLE members DROP CONSTRAINT members_pkey;
ALTER TABLE members ADD COLUMN asp_id TEXT;

-- A member of several projects becomes one row per project.
INSERT INTO members (asp_id, member_id, status, created_at, updated_at)
SELECT DISTINCT o.asp_id, m.member_id, m.status, m.created_at, m.updated_at
FROM members m JOIN application_owners o ON o.member_id = m.member_id
WHERE m.asp_id IS NULL;
UPDATE members m SET asp_id = (SELECT p.asp_id FROM projects p ORDER BY p.created_at, p.asp_id LIMIT 1)
WHERE m.asp_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM application_owners o WHERE o.member_id = m.member_id);
DELETE FROM members WHERE asp_id IS NULL
  AND EXISTS (SELECT 1 FROM application_owners o WHERE o.member_id = members.member_id);
ALTER TABLE members ALTER COLUMN asp_id SET NOT NULL;
ALTER TABLE members ADD CONSTRAINT members_asp_id_check CHECK (length(asp_id) = 15);
ALTER TABLE members ADD PRIMARY KEY (asp_id, member_id);

ALTER TABLE card_applications ADD COLUMN asp_id TEXT;
UPDATE card_applications a SET asp_id = o.asp_id FROM application_owners o
WHERE o.apply_no = a.apply_no;
ALTER TABLE card_applications ALTER COLUMN asp_id SET NOT NULL;
ALTER TABLE card_applications ADD CONSTRAINT card_applications_asp_id_check
    CHECK (length(asp_id) = 15);
ALTER TABLE card_applications ADD CONSTRAINT card_applications_member_fkey
    FOREIGN KEY (asp_id, member_id) REFERENCES members (asp_id, member_id);
ALTER TABLE card_applications ADD CONSTRAINT card_applications_asp_id_apply_no_key
    UNIQUE (asp_id, apply_no);
DROP INDEX card_applications_by_member;
CREATE INDEX card_applications_by_member ON card_applications (asp_id, member_id);

ALTER TABLE cards ADD COLUMN asp_id TEXT;
UPDATE cards c SET asp_id = o.asp_id FROM application_owners o WHERE o.apply_no = c.apply_no;
ALTER TABLE cards ALTER COLUMN asp_id SET NOT NULL;
ALTER TABLE cards DROP CONSTRAINT cards_apply_no_fkey;
ALTER TABLE cards ADD CONSTRAINT cards_application_fkey
    FOREIGN KEY (asp_id, apply_no) REFERENCES card_applications (asp_id, apply_no);
CREATE INDEX cards_by_asp ON cards (asp_id);

ALTER TABLE deliveries ADD COLUMN asp_id TEXT;
UPDATE deliveries d SET asp_id = o.asp_id FROM application_owners o WHERE o.apply_no = d.apply_no;
ALTER TABLE deliveries ALTER COLUMN asp_id SET NOT NULL;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_apply_no_fkey;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_application_fkey
    FOREIGN KEY (asp_id, apply_no) REFERENCES card_applications (asp_id, apply_no);
