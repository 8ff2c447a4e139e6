-- Stream cursors are transaction horizons (see store.ChangesSince). A client
-- resuming from one must learn of every removal since, so once tombstones are
-- pruned, cursors at or below the newest pruned one are too old to resume
-- from: such a client gets a fresh snapshot instead.
CREATE TABLE stream_horizon (
    only_row       boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    pruned_through xid8 NOT NULL DEFAULT '0'
);
INSERT INTO stream_horizon DEFAULT VALUES;
