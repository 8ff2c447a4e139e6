DROP TRIGGER IF EXISTS person_notify_move ON person;
DROP TRIGGER IF EXISTS person_notify_insert ON person;
CREATE TRIGGER person_notify_change AFTER INSERT OR UPDATE ON person
    FOR EACH ROW WHEN (NEW.loc IS NOT NULL) EXECUTE FUNCTION person_notify();

CREATE OR REPLACE FUNCTION person_feature(p person) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'type', 'Feature',
        'id', p.id,
        'geometry', CASE WHEN p.loc IS NULL THEN NULL ELSE json_build_object(
            'type', 'Point',
            'coordinates', json_build_array(ST_X(p.loc::geometry), ST_Y(p.loc::geometry))) END,
        'properties', json_strip_nulls(json_build_object(
            'name', p.name,
            'device_id', p.device_id,
            'recorded_at', to_char(p.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'updated_at', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'version', p.version,
            'accuracy_m', p.accuracy_m,
            'speed_mps', p.speed_mps,
            'heading_deg', p.heading_deg,
            'altitude_m', p.altitude_m,
            'battery', p.battery)))
$$;

ALTER TABLE person DROP COLUMN IF EXISTS seen_at;
ALTER TABLE location_history DROP COLUMN IF EXISTS flag;
DROP INDEX IF EXISTS location_history_fix_key;
