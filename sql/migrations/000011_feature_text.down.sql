DROP FUNCTION person_feature(person);
DROP FUNCTION person_feature_of(bigint, geography, text, text, timestamptz, timestamptz,
    timestamptz, bigint, double precision, double precision, double precision, double precision,
    double precision);

CREATE FUNCTION person_feature_of(
    id bigint, loc geography, name text, device_id text,
    recorded_at timestamptz, updated_at timestamptz, seen_at timestamptz, version bigint,
    accuracy_m double precision, speed_mps double precision, heading_deg double precision,
    altitude_m double precision, battery double precision) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'type', 'Feature',
        'id', id,
        'geometry', CASE WHEN loc IS NULL THEN NULL ELSE json_build_object(
            'type', 'Point',
            'coordinates', json_build_array(ST_X(loc::geometry), ST_Y(loc::geometry))) END,
        'properties', json_strip_nulls(json_build_object(
            'name', name,
            'device_id', device_id,
            'recorded_at', to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'updated_at', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'last_seen_at', to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'version', version,
            'accuracy_m', accuracy_m,
            'speed_mps', speed_mps,
            'heading_deg', heading_deg,
            'altitude_m', altitude_m,
            'battery', battery)))
$$;

CREATE OR REPLACE FUNCTION person_feature(p person) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT person_feature_of(p.id, p.loc, p.name, p.device_id, p.recorded_at, p.updated_at,
        p.seen_at, p.version, p.accuracy_m, p.speed_mps, p.heading_deg, p.altitude_m, p.battery)
$$;
