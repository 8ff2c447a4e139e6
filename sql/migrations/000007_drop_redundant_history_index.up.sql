-- location_history_fix_key (person_id, recorded_at, lon, lat) already serves
-- every per-person time-range read; a second index on (person_id,
-- recorded_at) only cost an insert per stored fix.
DROP INDEX IF EXISTS location_history_person_time_idx;
