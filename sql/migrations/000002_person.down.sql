DROP TABLE IF EXISTS location_history;
DROP TABLE IF EXISTS person_removed;
DROP TABLE IF EXISTS person;
