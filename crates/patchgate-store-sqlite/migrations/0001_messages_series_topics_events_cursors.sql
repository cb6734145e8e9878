-- 1: messages, series, topics, events, cursors
-- One row per Message-ID. The summary columns serve listing; `mail` is the
-- JSON of patchgate_series::Mail, read back by assembly for the rows with
-- for_assembly = 1. Raw bytes live apart so scans never page them in.
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    from_name    TEXT NOT NULL,
    from_email   TEXT NOT NULL,
    date         INTEGER,
    list_id      TEXT,
    problems     TEXT,              -- JSON array; NULL for a clean mail
    source       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    for_assembly INTEGER NOT NULL,
    mail         TEXT NOT NULL
);
CREATE INDEX messages_problems ON messages(id) WHERE problems IS NOT NULL;

CREATE TABLE message_raw (
    message INTEGER PRIMARY KEY REFERENCES messages(id),
    raw     BLOB NOT NULL
);

CREATE TABLE cursors (
    source_key TEXT PRIMARY KEY,
    value      TEXT NOT NULL
);

CREATE TABLE topics (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL,      -- assembly's key as last applied
    merged_into INTEGER REFERENCES topics(id),
    live        INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);
CREATE INDEX topics_key ON topics(key);

CREATE TABLE series (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL,    -- assembly's key as last applied
    topic_id      INTEGER NOT NULL REFERENCES topics(id),
    version       INTEGER NOT NULL,
    subject       TEXT NOT NULL,
    author_name   TEXT NOT NULL,
    author_email  TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    cover_id      TEXT,
    total         INTEGER NOT NULL,
    received      INTEGER,
    complete      INTEGER NOT NULL,
    missing       TEXT NOT NULL,    -- JSON array of indices
    tags          TEXT NOT NULL,    -- JSON array
    base_commit   TEXT,
    change_id     TEXT,
    superseded_by INTEGER REFERENCES series(id),
    merged_into   INTEGER REFERENCES series(id),
    live          INTEGER NOT NULL DEFAULT 1,
    state         TEXT NOT NULL DEFAULT 'new',  -- cache of the event fold
    snapshot      TEXT NOT NULL,    -- assembled Series as last applied, JSON
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX series_topic ON series(topic_id);
CREATE INDEX series_state ON series(state, id) WHERE live = 1;

-- Current membership: each message is in at most one series. idx 0 is the
-- cover letter; `collected` is the JSON array of trailers from replies.
CREATE TABLE series_mails (
    message_id TEXT PRIMARY KEY,
    series_id  INTEGER NOT NULL REFERENCES series(id),
    idx        INTEGER NOT NULL,
    collected  TEXT NOT NULL
);
CREATE INDEX series_mails_series ON series_mails(series_id, idx);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL REFERENCES series(id),
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX events_series ON events(series_id, id);
