-- Leaner writes on the hot path.
-- 1. The history foreign key ran a referential check per inserted fix; every
--    writer already locks the person rows it writes for (store.lockPeople),
--    and DeletePerson removes the history in the same transaction.
ALTER TABLE location_history DROP CONSTRAINT location_history_person_id_fkey;

-- 2. Stamp change_xid only when the person really changed (a new version or
--    a new row): a last-seen update is then no change for resync, and,
--    touching no indexed column, can be a HOT update.
DROP TRIGGER person_stamp ON person;
CREATE TRIGGER person_stamp_insert BEFORE INSERT ON person
    FOR EACH ROW EXECUTE FUNCTION person_stamp();
CREATE TRIGGER person_stamp_move BEFORE UPDATE ON person
    FOR EACH ROW WHEN (NEW.version <> OLD.version) EXECUTE FUNCTION person_stamp();
