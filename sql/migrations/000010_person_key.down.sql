ALTER TABLE person ADD CONSTRAINT person_device_id_key UNIQUE (device_id),
    ADD CONSTRAINT person_token_hash_key UNIQUE (token_hash);
DROP TRIGGER IF EXISTS person_key_change ON person;
DROP TRIGGER IF EXISTS person_key_insert ON person;
DROP FUNCTION IF EXISTS person_key_sync();
DROP TABLE IF EXISTS person_key;
