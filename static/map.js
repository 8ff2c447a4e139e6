// The Leaflet map and one marker per person. Leaflet is loaded by a classic
// <script> before the modules run, so it is read from the global L.
import { hue, isStale, localTime } from './people.js';

const L = globalThis.L;

// createMap shows the whole world until people arrive. Without a tile URL
// (or without internet) the container's own background stands in for tiles;
// failed tiles are blank images (alt="") that break nothing.
export function createMap(container, config) {
  const map = L.map(container, { worldCopyJump: true }).setView([20, 0], 2);
  if (config.tileURL) {
    L.tileLayer(config.tileURL, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
  }
  L.control.scale().addTo(map);
  // The panel opens and closes beside the map; Leaflet must hear of it.
  new ResizeObserver(() => map.invalidateSize()).observe(container);
  return map;
}

export class Markers {
  #map;
  #layer;
  #byId = new Map();
  #fitted = false;

  constructor(map) {
    this.#map = map;
    this.#layer = L.layerGroup().addTo(map);
  }

  // replaceAll makes the markers match people exactly, keeping the markers
  // of people still present so open popups survive a resync.
  replaceAll(people) {
    const keep = new Set(people.map((p) => String(p.id)));
    for (const id of this.#byId.keys()) {
      if (!keep.has(id)) this.remove(id);
    }
    for (const person of people) this.upsert(person);
  }

  upsert(person) {
    const entry = this.#byId.get(String(person.id));
    if (!entry) {
      this.#add(person);
      return;
    }
    entry.person = person;
    entry.marker.setLatLng([person.lat, person.lon]);
    entry.label.textContent = person.name;
    entry.marker.getElement()?.setAttribute('title', person.name);
    if (entry.marker.isPopupOpen()) entry.marker.getPopup().update();
  }

  remove(id) {
    const entry = this.#byId.get(String(id));
    if (!entry) return;
    this.#layer.removeLayer(entry.marker);
    this.#byId.delete(String(id));
  }

  // clear also forgets the first fit, so the next sign-in is framed afresh.
  clear() {
    this.replaceAll([]);
    this.#fitted = false;
  }

  // fitOnce frames the people of the first snapshot, then never moves the
  // map on its own again: the user's view wins over later data, such as the
  // snapshot that follows every reconnect.
  fitOnce(people) {
    if (this.#fitted) return;
    this.#fitted = true;
    if (people.length === 0) return;
    const bounds = L.latLngBounds(people.map((p) => [p.lat, p.lon]));
    this.#map.fitBounds(bounds, { padding: [48, 48], maxZoom: 15, animate: false });
  }

  // focus pans to a person, zooming in if the map is too far out to tell
  // streets apart, and opens their details.
  focus(id) {
    const entry = this.#byId.get(String(id));
    if (!entry) return;
    const zoom = Math.max(this.#map.getZoom(), 14);
    // Opening the popup mid-animation would make it pan the map off centre.
    this.#map.once('moveend', () => entry.marker.openPopup());
    this.#map.setView(entry.marker.getLatLng(), zoom, { animate: !reducedMotion() });
  }

  tick(now) {
    for (const { marker, person } of this.#byId.values()) {
      marker.getElement()?.classList.toggle('is-stale', isStale(person, now));
    }
  }

  #add(person) {
    const label = document.createElement('span');
    label.className = 'wa-label';
    label.textContent = person.name;
    const icon = L.divIcon({ className: 'wa-marker', html: label, iconSize: [16, 16], iconAnchor: [8, 8], popupAnchor: [0, -8] });
    const marker = L.marker([person.lat, person.lon], { icon, title: person.name, riseOnHover: true });
    const entry = { marker, label, person };
    // Leaflet builds the icon element when the marker joins the map; stamp
    // it then, so it carries data-id whenever it exists.
    marker.on('add', () => {
      const element = marker.getElement();
      element.dataset.id = String(person.id);
      element.style.setProperty('--hue', hue(person.id));
    });
    marker.bindPopup(() => details(entry.person));
    this.#byId.set(String(person.id), entry);
    this.#layer.addLayer(marker);
  }
}

function details(person) {
  const root = document.createElement('div');
  root.className = 'wa-popup';
  const title = document.createElement('strong');
  title.textContent = person.name;
  const list = document.createElement('dl');
  const rows = [
    ['Last fix', localTime(person.recorded_at)],
    ['Accuracy', number(person.accuracy_m, (v) => `± ${Math.round(v)} m`)],
    ['Speed', number(person.speed_mps, (v) => `${(v * 3.6).toFixed(1)} km/h`)],
    ['Heading', number(person.heading_deg, (v) => `${Math.round(v)}°`)],
    ['Altitude', number(person.altitude_m, (v) => `${Math.round(v)} m`)],
    ['Battery', number(person.battery, (v) => `${Math.round(v * 100)} %`)],
    ['Device', person.device_id || ''],
  ];
  for (const [name, value] of rows) {
    if (!value) continue;
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = name;
    dd.textContent = value;
    list.append(dt, dd);
  }
  root.append(title, list);
  return root;
}

function number(value, format) {
  return typeof value === 'number' && Number.isFinite(value) ? format(value) : '';
}

function reducedMotion() {
  return matchMedia('(prefers-reduced-motion: reduce)').matches;
}
