-- A delivery's history (D18): every status it reached and when, never overwritten. A step's
-- number is the delivery's version once it reached that status (the first, READY, is 0), so
-- two writers that read one version cannot both add the next step.
CREATE TABLE delivery_steps (
    apply_no TEXT NOT NULL REFERENCES deliveries (apply_no),
    step BIGINT NOT NULL,
    status TEXT NOT NULL,
    reached_at BIGINT NOT NULL,
    PRIMARY KEY (apply_no, step)
);
-- Deliveries made before: READY when they were asked for, then where they are now.
INSERT INTO delivery_steps (apply_no, step, status, reached_at)
SELECT apply_no, 0, 'READY', created_at FROM deliveries;
INSERT INTO delivery_steps (apply_no, step, status, reached_at)
SELECT apply_no, version, status, updated_at FROM deliveries WHERE version > 0;
