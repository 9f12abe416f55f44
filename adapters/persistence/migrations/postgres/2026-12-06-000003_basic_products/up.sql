-- The product whose mobile card a member of the project gets at sign-up (D24), if any.
ALTER TABLE projects ADD COLUMN basic_service_id TEXT;
