-- 7: jobs wait before a retry
-- A job that failed for a reason of the machine's (git, the sandbox) is
-- queued again, not before this time (Unix seconds): a back-off, so a
-- broken mirror is not hammered.
ALTER TABLE jobs ADD COLUMN not_before INTEGER;
