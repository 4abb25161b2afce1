-- Every policy version ever applied, newest last.
-- Versions are never updated or deleted: a rollback applies an old document
-- again as a new version, so the history stays complete.
CREATE TABLE policy_versions (
    version     INTEGER PRIMARY KEY,          -- 1, 2, 3, ... as applied
    document    TEXT    NOT NULL,             -- the policy as canonical JSON
    digest      TEXT    NOT NULL,             -- sha256 of `document`, hex
    source      TEXT    NOT NULL,             -- who or what applied it (file path, API caller)
    applied_at  TEXT    NOT NULL              -- RFC 3339 UTC, seconds precision
);
