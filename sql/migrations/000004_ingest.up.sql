-- Phone apps resend whole batches after a timeout: the same fix (person,
-- time, place) is stored once.
CREATE UNIQUE INDEX location_history_fix_key ON location_history
    (person_id, recorded_at, (ST_X(loc::geometry)), (ST_Y(loc::geometry)));

-- Why a fix did not move the live marker although it is kept (e.g.
-- 'null_island', 'future', 'inaccurate'); NULL for an ordinary fix.
ALTER TABLE location_history ADD COLUMN flag text;

-- When the device was last heard from, fix or heartbeat.
ALTER TABLE person ADD COLUMN seen_at timestamptz;

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
            'last_seen_at', to_char(p.seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'version', p.version,
            'accuracy_m', p.accuracy_m,
            'speed_mps', p.speed_mps,
            'heading_deg', p.heading_deg,
            'altitude_m', p.altitude_m,
            'battery', p.battery)))
$$;

-- Notify moves only: a heartbeat (seen_at) changes no version, and the
-- stream would drop it anyway.
DROP TRIGGER person_notify_change ON person;
CREATE TRIGGER person_notify_insert AFTER INSERT ON person
    FOR EACH ROW WHEN (NEW.loc IS NOT NULL) EXECUTE FUNCTION person_notify();
CREATE TRIGGER person_notify_move AFTER UPDATE ON person
    FOR EACH ROW WHEN (NEW.loc IS NOT NULL AND NEW.version <> OLD.version) EXECUTE FUNCTION person_notify();
