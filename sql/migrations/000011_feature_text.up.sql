-- Every move builds the person's Feature at least once (the notification)
-- and a PUT twice (the answer too). json_build_object wrapped in
-- json_strip_nulls built the properties, printed them, then parsed them
-- again to drop the nulls: 4.8 µs a Feature. Concatenating the members,
-- each value encoded by to_json exactly as json_build_object encodes it,
-- gives the same bytes in 2.6 µs. Every caller reads the Feature as text,
-- so it is text, and never parsed back.
DROP FUNCTION person_feature(person);
DROP FUNCTION person_feature_of(bigint, geography, text, text, timestamptz, timestamptz,
    timestamptz, bigint, double precision, double precision, double precision, double precision,
    double precision);

CREATE FUNCTION person_feature_of(
    id bigint, loc geography, name text, device_id text,
    recorded_at timestamptz, updated_at timestamptz, seen_at timestamptz, version bigint,
    accuracy_m double precision, speed_mps double precision, heading_deg double precision,
    altitude_m double precision, battery double precision) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT '{"type" : "Feature", "id" : ' || to_json(id)
        || ', "geometry" : ' || CASE WHEN loc IS NULL THEN 'null'
            ELSE '{"type" : "Point", "coordinates" : [' || to_json(ST_X(loc::geometry))
                || ', ' || to_json(ST_Y(loc::geometry)) || ']}' END
        || ', "properties" : {"name":' || to_json(name)
        || CASE WHEN device_id IS NULL THEN '' ELSE ',"device_id":' || to_json(device_id) END
        || CASE WHEN recorded_at IS NULL THEN '' ELSE ',"recorded_at":"'
            || to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"' END
        || CASE WHEN updated_at IS NULL THEN '' ELSE ',"updated_at":"'
            || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"' END
        || CASE WHEN seen_at IS NULL THEN '' ELSE ',"last_seen_at":"'
            || to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"' END
        || CASE WHEN version IS NULL THEN '' ELSE ',"version":' || to_json(version) END
        || CASE WHEN accuracy_m IS NULL THEN '' ELSE ',"accuracy_m":' || to_json(accuracy_m) END
        || CASE WHEN speed_mps IS NULL THEN '' ELSE ',"speed_mps":' || to_json(speed_mps) END
        || CASE WHEN heading_deg IS NULL THEN '' ELSE ',"heading_deg":' || to_json(heading_deg) END
        || CASE WHEN altitude_m IS NULL THEN '' ELSE ',"altitude_m":' || to_json(altitude_m) END
        || CASE WHEN battery IS NULL THEN '' ELSE ',"battery":' || to_json(battery) END
        || '}}'
$$;

CREATE FUNCTION person_feature(p person) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT person_feature_of(p.id, p.loc, p.name, p.device_id, p.recorded_at, p.updated_at,
        p.seen_at, p.version, p.accuracy_m, p.speed_mps, p.heading_deg, p.altitude_m, p.battery)
$$;
