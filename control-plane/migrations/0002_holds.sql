-- Holds: requests a filter stopped until a human approves them, the decisions of
-- approvers, just-in-time grants, and the audit trail of all of it.
-- Times are Unix milliseconds (UTC): expiry is compared in SQL; the API shows RFC 3339.

-- One row per held request. Only `status` and the `decided_*` columns ever change,
-- once, from 'pending' to a final state.
CREATE TABLE holds (
    id              TEXT    PRIMARY KEY,      -- `hold_` and 32 random hex digits
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
    subject         TEXT    NOT NULL,         -- who sent the request
    groups          TEXT    NOT NULL,         -- their groups, JSON array of strings
    client_id       TEXT,                     -- the token's client, when it names one
    provider        TEXT    NOT NULL,         -- identity provider (or `api-key`)
    target          TEXT    NOT NULL,         -- policy target the request was for
    rules           TEXT    NOT NULL,         -- rules matched, JSON array of {rule, pack?, message?}
    excerpt         TEXT    NOT NULL,         -- masked by the filter, scrubbed of secrets again here
    reason          TEXT    NOT NULL,         -- why the filter held it
    method          TEXT    NOT NULL,
    path            TEXT    NOT NULL,
    model           TEXT,
    request_digest  TEXT    NOT NULL,         -- sha256 hex of the held body
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,         -- a pending hold expires then
    decided_at      INTEGER,                  -- when it left 'pending'
    decided_by      TEXT,                     -- approver(s), `grant:<id>`, or `portcullis` for expiry
    decision_reason TEXT
);
-- Filters poll by id (the primary key); the expiry task and the inbox read by status.
CREATE INDEX holds_status_expires ON holds (status, expires_at);
CREATE INDEX holds_created ON holds (created_at);
CREATE INDEX holds_subject ON holds (subject, created_at);
-- A filter retrying the same request finds its pending hold instead of making another.
CREATE INDEX holds_pending_digest ON holds (subject, request_digest) WHERE status = 'pending';

-- Each approver's vote on a hold: at most one per approver.
CREATE TABLE hold_decisions (
    hold_id         TEXT    NOT NULL REFERENCES holds (id),
    approver        TEXT    NOT NULL,         -- subject of the approver's token
    provider        TEXT    NOT NULL,
    groups          TEXT    NOT NULL,         -- the approver's groups then, JSON array
    decision        TEXT    NOT NULL CHECK (decision IN ('approve', 'deny')),
    reason          TEXT,
    grant_minutes   INTEGER,                  -- asked for with an approval
    decided_at      INTEGER NOT NULL,
    PRIMARY KEY (hold_id, approver)
);

-- Just-in-time grants: holds of this identity for this rule are approved without a
-- human until `expires_at`. Created when a hold approved with `grant_minutes` is decided.
CREATE TABLE grants (
    id              TEXT    PRIMARY KEY,      -- `grant_` and 32 random hex digits
    subject         TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    rule            TEXT    NOT NULL,
    hold_id         TEXT    NOT NULL REFERENCES holds (id), -- the hold whose approval created it
    granted_by      TEXT    NOT NULL,         -- the approver(s)
    reason          TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX grants_lookup ON grants (subject, provider, rule, expires_at);

-- The audit trail: hold created, each vote, the outcome, expiry, grants created and
-- used. Append-only: the triggers below refuse updates and deletes.
CREATE TABLE hold_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    hold_id         TEXT    NOT NULL REFERENCES holds (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('created', 'approval', 'denial', 'approved', 'denied', 'expired', 'grant_created', 'grant_used')),
    actor           TEXT    NOT NULL,         -- requester, approver, `portcullis` (expiry)
    reason          TEXT,
    at              INTEGER NOT NULL,
    detail          TEXT                      -- JSON object, e.g. {"grant_id": ...}
);
CREATE INDEX hold_events_hold ON hold_events (hold_id, seq);

CREATE TRIGGER hold_events_no_update BEFORE UPDATE ON hold_events
BEGIN
    SELECT RAISE(ABORT, 'hold_events is append-only');
END;

CREATE TRIGGER hold_events_no_delete BEFORE DELETE ON hold_events
BEGIN
    SELECT RAISE(ABORT, 'hold_events is append-only');
END;
