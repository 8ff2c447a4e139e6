DROP TRIGGER IF EXISTS person_notify_delete ON person;
DROP TRIGGER IF EXISTS person_notify_change ON person;
DROP FUNCTION IF EXISTS person_notify();
DROP TRIGGER IF EXISTS person_stamp ON person;
DROP FUNCTION IF EXISTS person_stamp();
DROP FUNCTION IF EXISTS person_tombstone(bigint, bigint);
DROP FUNCTION IF EXISTS person_feature(person);
