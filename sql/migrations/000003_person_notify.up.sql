-- The one definition of a person as GeoJSON: the API returns it and the
-- trigger sends it, so both are the same bytes by construction. Text fields
-- are bounded by the table's CHECKs, which keeps a payload far below
-- NOTIFY's 8000-byte limit.
CREATE FUNCTION person_feature(p person) RETURNS json
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

-- A deleted person as a Feature: null geometry, properties.deleted.
CREATE FUNCTION person_tombstone(id bigint, version bigint) RETURNS json
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT json_build_object('type', 'Feature', 'id', id, 'geometry', NULL,
        'properties', json_build_object('deleted', true, 'version', version))
$$;

-- Stamp every change with its transaction, whatever statement made it.
CREATE FUNCTION person_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;
CREATE TRIGGER person_stamp BEFORE INSERT OR UPDATE ON person
    FOR EACH ROW EXECUTE FUNCTION person_stamp();

CREATE FUNCTION person_notify() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER person_notify_change AFTER INSERT OR UPDATE ON person
    FOR EACH ROW WHEN (NEW.loc IS NOT NULL) EXECUTE FUNCTION person_notify();
CREATE TRIGGER person_notify_delete AFTER DELETE ON person
    FOR EACH ROW EXECUTE FUNCTION person_notify();
