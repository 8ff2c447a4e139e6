-- The live position of each person: one row a person, moved in place.
CREATE TABLE person (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    device_id   text UNIQUE CHECK (char_length(device_id) BETWEEN 1 AND 200),
    -- SHA-256 of the device token: tokens are random, so a fast hash is enough.
    token_hash  bytea NOT NULL UNIQUE,
    loc         geography(Point, 4326),
    recorded_at timestamptz,            -- device time of the current fix
    updated_at  timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    version     bigint NOT NULL DEFAULT 0,
    accuracy_m  double precision,
    speed_mps   double precision,
    heading_deg double precision,
    altitude_m  double precision,
    battery     double precision,
    -- The transaction that last changed the row: readers resume from a
    -- transaction horizon, which (unlike a sequence) respects commit order.
    change_xid  xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX person_loc_idx ON person USING gist (loc);
CREATE INDEX person_change_xid_idx ON person (change_xid);

-- Deleted people, so that a reader resuming from a cursor learns of removals.
CREATE TABLE person_removed (
    id         bigint PRIMARY KEY,
    version    bigint NOT NULL,
    removed_at timestamptz NOT NULL DEFAULT now(),
    change_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX person_removed_change_xid_idx ON person_removed (change_xid);

-- Every accepted fix, including the out-of-order ones that do not move the
-- live position.
CREATE TABLE location_history (
    person_id   bigint NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    loc         geography(Point, 4326) NOT NULL,
    recorded_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    accuracy_m  double precision,
    speed_mps   double precision,
    heading_deg double precision,
    altitude_m  double precision,
    battery     double precision
);
CREATE INDEX location_history_person_time_idx ON location_history (person_id, recorded_at);
