ALTER TABLE projects DROP COLUMN basic_service_id;
