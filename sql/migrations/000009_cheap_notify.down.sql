CREATE OR REPLACE FUNCTION person_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO person_removed (id, version) VALUES (OLD.id, OLD.version + 1)
            ON CONFLICT (id) DO NOTHING;
        PERFORM pg_notify('person_updated', person_tombstone(OLD.id, OLD.version + 1)::text);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('person_updated', person_feature(NEW)::text);
    RETURN NEW;
END
$$;

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

DROP FUNCTION IF EXISTS person_feature_of(bigint, geography, text, text, timestamptz, timestamptz,
    timestamptz, bigint, double precision, double precision, double precision, double precision,
    double precision);
