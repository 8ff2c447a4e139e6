// People holds the latest known position of each person. It is the one source
// the map, the list and window.whereabouts read from, and the one place that
// decides whether a message is newer than what the page already shows.

// A fix older than this is shown faded: the person may have lost signal.
export const STALE_AFTER_MS = 10 * 60 * 1000;

export class People {
  #byId = new Map();

  // replace makes the given features the whole truth, as a snapshot is.
  replace(features) {
    this.#byId.clear();
    for (const feature of features) {
      const person = fromFeature(feature);
      if (person) this.#byId.set(key(person.id), person);
    }
  }

  // update stores the feature and returns the person, or returns null when it
  // is malformed or not newer (by version) than what we have: events can
  // arrive twice or late, around a reconnect.
  update(feature) {
    const person = fromFeature(feature);
    if (!person) return null;
    const known = this.#byId.get(key(person.id));
    if (known && !(person.version > known.version)) return null;
    this.#byId.set(key(person.id), person);
    return person;
  }

  // remove reports whether there was anyone to remove.
  remove(id) {
    return this.#byId.delete(key(id));
  }

  get(id) {
    return this.#byId.get(key(id));
  }

  // sorted lists everyone by name, then id, so the order is stable.
  sorted() {
    return [...this.#byId.values()].sort(
      (a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || key(a.id).localeCompare(key(b.id), undefined, { numeric: true }),
    );
  }
}

export function isStale(person, now) {
  return now - Date.parse(person.recorded_at) > STALE_AFTER_MS;
}

// hue gives each person a stable colour, shared by marker and list swatch.
export function hue(id) {
  let h = 0;
  for (const c of String(id)) h = (h * 31 + c.codePointAt(0)) % 360;
  return String((h * 137) % 360);
}

// localTime formats an RFC 3339 time for the reader, or gives "" if it is
// missing or malformed.
export function localTime(value) {
  const time = Date.parse(value);
  return Number.isNaN(time) ? '' : new Date(time).toLocaleString();
}

// Ids are numbers in the API, but they come back as strings from data-id
// attributes; keying by string makes both find the same person.
function key(id) {
  return String(id);
}

function fromFeature(feature) {
  const [lon, lat] = feature?.geometry?.type === 'Point' ? feature.geometry.coordinates ?? [] : [];
  if (feature?.id == null || !Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  const p = feature.properties ?? {};
  return {
    id: feature.id,
    name: typeof p.name === 'string' && p.name ? p.name : `#${feature.id}`,
    lat,
    lon,
    version: Number(p.version),
    recorded_at: p.recorded_at,
    updated_at: p.updated_at,
    accuracy_m: p.accuracy_m,
    speed_mps: p.speed_mps,
    heading_deg: p.heading_deg,
    altitude_m: p.altitude_m,
    battery: p.battery,
    device_id: p.device_id,
  };
}
