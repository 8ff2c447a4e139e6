DROP INDEX IF EXISTS location_history_recorded_at_idx;
