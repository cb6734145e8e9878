-- 5: relation keys kept with each message
-- The hashed relation keys of an assembly mail, 8 bytes each (little
-- endian), written with the row: taking pending mail for assembly then
-- indexes them without decoding the mail's summary. NULL for rows stored
-- before, whose keys come from the summary as before.
ALTER TABLE messages ADD COLUMN relation_keys BLOB;
