-- An approver is a subject at an identity provider: two people with the same
-- subject at two providers are two approvers, each with one vote. SQLite
-- cannot change a primary key in place, so the votes table is rebuilt with
-- (hold_id, provider, approver) as its key; its rows are copied unchanged.
CREATE TABLE hold_decisions_next (
    hold_id         TEXT    NOT NULL REFERENCES holds (id),
    approver        TEXT    NOT NULL,         -- subject of the approver's token
    provider        TEXT    NOT NULL,         -- the provider that issued it
    groups          TEXT    NOT NULL,         -- the approver's groups then, JSON array
    decision        TEXT    NOT NULL CHECK (decision IN ('approve', 'deny')),
    reason          TEXT,
    grant_minutes   INTEGER,                  -- asked for with an approval
    decided_at      INTEGER NOT NULL,
    PRIMARY KEY (hold_id, provider, approver)
);
INSERT INTO hold_decisions_next (hold_id, approver, provider, groups, decision, reason, grant_minutes, decided_at)
    SELECT hold_id, approver, provider, groups, decision, reason, grant_minutes, decided_at FROM hold_decisions ORDER BY rowid;
DROP TABLE hold_decisions;
ALTER TABLE hold_decisions_next RENAME TO hold_decisions;
