-- Applications and deliveries change state over their lives (cancel, delivery steps,
-- registration): each change checks and moves a version, so two writers that meet (a partner's
-- status report and a member's cancel, say) never both win.
ALTER TABLE card_applications ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE card_applications ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE card_applications SET updated_at = created_at;
ALTER TABLE deliveries ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
