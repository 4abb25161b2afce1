-- What approving the hold asked for, per grant (JSON: quorum, approver groups,
-- quorum groups, reason, self-approval, longest grant). A grant covers later holds of
-- its rule only while they ask for exactly the same: a policy that makes the
-- rule stricter ends it. Grants made before this migration have none and
-- cover nothing more (fail closed; they last minutes).
ALTER TABLE grants ADD COLUMN terms TEXT;
