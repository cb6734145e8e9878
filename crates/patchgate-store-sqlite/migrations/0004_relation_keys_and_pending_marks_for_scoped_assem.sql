-- 4: relation keys and pending marks for scoped assembly
-- Every relation key (patchgate_series::relation_keys) of every assembly
-- mail, as a 64-bit hash: mails sharing a key may affect each other's
-- series, so scoped assembly expands new mails to their connected mails
-- through this index. A hash collision only widens that set. Derived data,
-- rebuilt by the backfill, so no foreign key slows the ingest hot path.
CREATE TABLE assembly_keys (
    key     INTEGER NOT NULL,
    message INTEGER NOT NULL,
    PRIMARY KEY (key, message)
) WITHOUT ROWID;

-- Assembly mails stored but not yet assembled. Written with the message
-- and cleared with the reconcile that covers it, so a crash between
-- ingest and assembly leaves the work marked, never lost.
CREATE TABLE assembly_pending (
    message INTEGER PRIMARY KEY
);
-- Existing mails are assembled once more on the next ingest: a database
-- whose last ingest stopped before assembly is made whole that way.
INSERT INTO assembly_pending (message) SELECT id FROM messages WHERE for_assembly = 1;
