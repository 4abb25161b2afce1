-- How each hold must be approved, as its holding rules ask (per-rule quorum and
-- approver groups, reason rule, self-approval): JSON of `HoldApproval`. NULL for
-- holds whose filter sent none: the control plane's settings apply to them.
ALTER TABLE holds ADD COLUMN approval TEXT;
