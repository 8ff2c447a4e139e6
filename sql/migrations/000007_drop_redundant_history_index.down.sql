CREATE INDEX IF NOT EXISTS location_history_person_time_idx ON location_history (person_id, recorded_at);
