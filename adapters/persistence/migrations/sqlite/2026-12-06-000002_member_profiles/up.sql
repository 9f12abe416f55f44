-- Members' personal data (D24): the profile sealed under the data key (bound to project and
-- member), keyed fingerprints of what must be unique in the project (login id, mobile number,
-- CI), the password's keyed Argon2id hash, and its wrong attempts in a row (locked at five).
CREATE TABLE member_profiles (
    asp_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    profile_key_id TEXT NOT NULL,
    profile_sealed BLOB NOT NULL,
    login_fingerprint BLOB NOT NULL CHECK (length(login_fingerprint) = 32),
    login_fingerprint_key_id TEXT NOT NULL,
    mobile_fingerprint BLOB NOT NULL CHECK (length(mobile_fingerprint) = 32),
    mobile_fingerprint_key_id TEXT NOT NULL,
    ci_fingerprint BLOB CHECK (ci_fingerprint IS NULL OR length(ci_fingerprint) = 32),
    ci_fingerprint_key_id TEXT,
    password_key_id TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    wrong_passwords SMALLINT NOT NULL DEFAULT 0 CHECK (wrong_passwords BETWEEN 0 AND 5),
    join_channel TEXT,
    version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (asp_id, member_id),
    FOREIGN KEY (asp_id, member_id) REFERENCES members (asp_id, member_id)
);
CREATE UNIQUE INDEX member_profiles_login ON member_profiles (asp_id, login_fingerprint);
CREATE UNIQUE INDEX member_profiles_mobile ON member_profiles (asp_id, mobile_fingerprint);
CREATE UNIQUE INDEX member_profiles_ci ON member_profiles (asp_id, ci_fingerprint);
