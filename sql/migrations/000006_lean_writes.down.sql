DROP TRIGGER IF EXISTS person_stamp_move ON person;
DROP TRIGGER IF EXISTS person_stamp_insert ON person;
CREATE TRIGGER person_stamp BEFORE INSERT OR UPDATE ON person
    FOR EACH ROW EXECUTE FUNCTION person_stamp();

DELETE FROM location_history h WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id = h.person_id);
ALTER TABLE location_history ADD CONSTRAINT location_history_person_id_fkey
    FOREIGN KEY (person_id) REFERENCES person (id) ON DELETE CASCADE;
