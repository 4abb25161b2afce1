-- Just-in-time grants can be revoked before they end: a revoked grant approves
-- nothing more. The audit trail records each revocation as `grant_revoked`.
ALTER TABLE grants ADD COLUMN revoked_at INTEGER;   -- when it was revoked
ALTER TABLE grants ADD COLUMN revoked_by TEXT;      -- the approver who revoked it
ALTER TABLE grants ADD COLUMN revoke_reason TEXT;

-- SQLite cannot change a CHECK constraint in place: the audit table is rebuilt
-- with the new kind. Its rows are copied unchanged (sequence numbers included),
-- and its index and append-only triggers are made again. (The implicit delete of
-- DROP TABLE fires no triggers.)
CREATE TABLE hold_events_next (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    hold_id         TEXT    NOT NULL REFERENCES holds (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('created', 'approval', 'denial', 'approved', 'denied', 'expired', 'grant_created', 'grant_used', 'grant_revoked')),
    actor           TEXT    NOT NULL,         -- requester, approver, `portcullis` (expiry)
    reason          TEXT,
    at              INTEGER NOT NULL,
    detail          TEXT                      -- JSON object, e.g. {"grant_id": ...}
);
INSERT INTO hold_events_next (seq, hold_id, kind, actor, reason, at, detail)
    SELECT seq, hold_id, kind, actor, reason, at, detail FROM hold_events ORDER BY seq;
DROP TABLE hold_events;
ALTER TABLE hold_events_next RENAME TO hold_events;
CREATE INDEX hold_events_hold ON hold_events (hold_id, seq);

CREATE TRIGGER hold_events_no_update BEFORE UPDATE ON hold_events
BEGIN
    SELECT RAISE(ABORT, 'hold_events is append-only');
END;

CREATE TRIGGER hold_events_no_delete BEFORE DELETE ON hold_events
BEGIN
    SELECT RAISE(ABORT, 'hold_events is append-only');
END;
