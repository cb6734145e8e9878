-- 3: runs keep how they ended and what was parsed
-- JSON of the gate's SuiteRun (how the run ended, the parsed results with
-- their completeness and problems): what classification reads back when a
-- stored run is reused.
ALTER TABLE runs ADD COLUMN detail TEXT NOT NULL DEFAULT 'null';
