// The side panel: connection status, server errors and the people list.
// On narrow screens it folds into a bar above the map with a toggle.
import { hue, isStale, localTime } from './people.js';

const STATUS_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unauthorized: 'Token needed',
};

export class Panel {
  #panel;
  #status;
  #error;
  #list;
  #empty;
  #count;
  #toggle;
  #items = new Map();
  #onSelect;

  // onSelect(id) runs when a person in the list is chosen.
  constructor(root, onSelect) {
    this.#panel = root.querySelector('#panel');
    this.#status = root.querySelector('#status');
    this.#error = root.querySelector('#error');
    this.#list = root.querySelector('#people');
    this.#empty = root.querySelector('#people-empty');
    this.#count = root.querySelector('#people-count');
    this.#toggle = root.querySelector('#panel-toggle');
    this.#onSelect = onSelect;
    this.#toggle.addEventListener('click', () => this.#setExpanded(this.#toggle.getAttribute('aria-expanded') !== 'true'));
    this.#list.addEventListener('click', (event) => this.#select(event));
  }

  showStatus(status) {
    this.#status.dataset.status = status;
    this.#status.textContent = STATUS_TEXT[status] ?? status;
  }

  // showError puts a message above the list; an empty message hides it.
  showError(message) {
    this.#error.textContent = message;
    this.#error.hidden = !message;
  }

  // render shows people in the given order. Items are reused by id and
  // moved only when the order changes, because moving an element drops its
  // keyboard focus and updates can come every second.
  render(people) {
    const seen = new Set();
    let next = this.#list.firstElementChild;
    for (const person of people) {
      const id = String(person.id);
      seen.add(id);
      const item = this.#items.get(id) ?? this.#create(id);
      item.person = person;
      item.name.textContent = person.name;
      item.time.dateTime = person.recorded_at ?? '';
      item.time.title = localTime(person.recorded_at);
      if (item.li === next) next = next.nextElementSibling;
      else this.#list.insertBefore(item.li, next);
    }
    for (const [id, item] of this.#items) {
      if (seen.has(id)) continue;
      item.li.remove();
      this.#items.delete(id);
    }
    this.#count.textContent = people.length ? `(${people.length})` : '';
    this.#empty.hidden = people.length > 0;
    this.tick(Date.now());
  }

  // tick refreshes the relative times ("12 s ago") and the stale styling.
  tick(now) {
    for (const item of this.#items.values()) {
      const text = ago(Date.parse(item.person.recorded_at), now);
      if (item.time.textContent !== text) item.time.textContent = text;
      item.li.classList.toggle('is-stale', isStale(item.person, now));
    }
  }

  #create(id) {
    const li = document.createElement('li');
    li.className = 'person';
    li.dataset.id = id;
    const button = document.createElement('button');
    button.type = 'button';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.setProperty('--hue', hue(id));
    const name = document.createElement('span');
    name.className = 'name';
    const time = document.createElement('time');
    button.append(swatch, name, time);
    li.append(button);
    const item = { li, name, time, person: null };
    this.#items.set(id, item);
    return item;
  }

  #select(event) {
    const li = event.target.closest('li[data-id]');
    if (!li) return;
    // On a narrow screen the open list covers the map: get out of the way.
    this.#setExpanded(false);
    this.#onSelect(li.dataset.id);
  }

  #setExpanded(expanded) {
    this.#toggle.setAttribute('aria-expanded', String(expanded));
    this.#panel.classList.toggle('is-expanded', expanded);
  }
}

// ago formats the time since a fix compactly; clocks a little ahead of ours
// read as "0 s ago" rather than as the future.
export function ago(then, now) {
  if (Number.isNaN(then)) return 'unknown';
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}
