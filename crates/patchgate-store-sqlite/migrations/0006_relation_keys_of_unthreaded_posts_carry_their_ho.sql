-- 6: relation keys of unthreaded posts carry their hour
-- The marker key of an unthreaded numbered post now names the hour it was
-- sent in: keys computed before would connect all of an author's cover
-- letters and miss nothing, but keys of both kinds would not meet. Every
-- key is computed again from the stored summaries.
DELETE FROM assembly_keys;
UPDATE messages SET relation_keys = NULL WHERE relation_keys IS NOT NULL;
