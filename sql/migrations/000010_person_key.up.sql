-- A move changes indexed columns (loc, change_xid), so it is never a HOT
-- update: every index on person gets a new entry on every move. The two
-- unique indexes that only sign-in reads (device_id, token_hash) cost about
-- 6 µs of a 1000-row move's 34 µs a row; they move to their own table,
-- which moves never touch. person keeps both columns (the Feature shows
-- device_id), and a trigger copies them on insert or change, so whoever
-- inserts a person (the API, a seed script) keeps writing one row.
CREATE TABLE person_key (
    person_id  bigint PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    device_id  text UNIQUE,
    token_hash bytea NOT NULL UNIQUE
);
INSERT INTO person_key (person_id, device_id, token_hash)
    SELECT id, device_id, token_hash FROM person;

-- A taken device_id or token fails the person's INSERT with 23505, as the
-- constraints on person did.
CREATE FUNCTION person_key_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO person_key (person_id, device_id, token_hash)
        VALUES (NEW.id, NEW.device_id, NEW.token_hash)
        ON CONFLICT (person_id) DO UPDATE
        SET device_id = EXCLUDED.device_id, token_hash = EXCLUDED.token_hash;
    RETURN NULL;
END
$$;
CREATE TRIGGER person_key_insert AFTER INSERT ON person
    FOR EACH ROW EXECUTE FUNCTION person_key_sync();
CREATE TRIGGER person_key_change AFTER UPDATE OF device_id, token_hash ON person
    FOR EACH ROW EXECUTE FUNCTION person_key_sync();

ALTER TABLE person DROP CONSTRAINT person_device_id_key,
    DROP CONSTRAINT person_token_hash_key;
