// Entry point: wires the token, the map, the panel and the live stream
// together.
import { fetchConfig, fetchPeople } from './api.js';
import { People } from './people.js';
import { Markers, createMap } from './map.js';
import { Panel } from './panel.js';
import { SignIn } from './signin.js';
import { forgetToken, loadToken, saveToken } from './token.js';
import { liveStream } from './stream.js';

const people = new People();
let status = 'connecting';
let transport = 'websocket';

// Read-only state for browser tests and curious operators:
//   whereabouts.status    "connecting" | "live" | "reconnecting" | "unauthorized"
//   whereabouts.transport "websocket" | "sse" | "poll": what the stream uses
//   whereabouts.people()  [{id, name, lat, lon, version, recorded_at}] by name
// List items and marker icons carry the same id as data-id.
window.whereabouts = Object.freeze({
  get status() {
    return status;
  },
  get transport() {
    return transport;
  },
  people: () =>
    people.sorted().map(({ id, name, lat, lon, version, recorded_at }) => ({ id, name, lat, lon, version, recorded_at })),
});

const panel = new Panel(document, (id) => markers.focus(id));
const signIn = new SignIn(document, (token) => start(token));
const markers = new Markers(createMap(document.querySelector('#map'), await fetchConfig()));
const signOut = document.querySelector('#forget-token');

// Each start() bumps the session; answers that arrive for an older session
// (a token since replaced) are dropped.
let session = 0;
let closeStream = () => {};

signOut.addEventListener('click', () => endSession('Signed out. Enter a token to see the map again.'));

setInterval(() => {
  const now = Date.now();
  panel.tick(now);
  markers.tick(now);
}, 1000);

// A #token= link opened in a tab that already shows the page changes only
// the fragment, without a reload.
window.addEventListener('hashchange', () => {
  if (location.hash.includes('token=')) start(loadToken());
});

start(loadToken());

async function start(token) {
  stop();
  const current = session;
  if (!token) return needToken('Enter an access token to see the map.');
  setStatus('connecting');
  const answer = await fetchPeople(token);
  if (current !== session) return;
  if (refused(answer)) return;
  saveToken(token);
  signIn.hide();
  signOut.hidden = false;
  if (answer.state === 'ok') apply({ type: 'snapshot', features: answer.features });
  else if (answer.message) panel.showError(answer.message);
  // Whatever else went wrong (server down, 5xx), the stream retries until
  // the server is back.
  closeStream = liveStream(token).connect(apply, (next, kind) => {
    transport = kind;
    setStatus(next);
    if (next === 'reconnecting') recheck(token, current);
  });
}

function stop() {
  session++;
  closeStream();
  closeStream = () => {};
}

// A WebSocket cannot tell a refused token from a dead server, so each time
// the stream drops, ask the API which one it was.
async function recheck(token, current) {
  const answer = await fetchPeople(token);
  if (current === session) refused(answer);
}

// refused ends the session if the answer rejects the token, and reports
// whether it did.
function refused(answer) {
  if (answer.state !== 'unauthorized' && answer.state !== 'forbidden') return false;
  endSession(
    answer.state === 'unauthorized'
      ? 'That token was not accepted. Check it and try again.'
      : answer.message || 'That token may not see the map.',
  );
  return true;
}

// endSession forgets the token and everything it showed: positions must not
// stay on screen for a token that is no longer allowed to see them.
function endSession(message) {
  stop();
  forgetToken();
  people.replace([]);
  markers.clear();
  panel.render([]);
  needToken(message);
}

function needToken(message) {
  setStatus('unauthorized');
  panel.showError('');
  signOut.hidden = true;
  signIn.show(message);
}

function setStatus(next) {
  status = next;
  panel.showStatus(next);
  // A stream that is back resumes where it left: an error from before
  // (a server going away, a client that fell behind) is over.
  if (next === 'live') panel.showError('');
}

function apply(message) {
  switch (message.type) {
    case 'snapshot': {
      people.replace(Array.isArray(message.features) ? message.features : []);
      const everyone = people.sorted();
      markers.replaceAll(everyone);
      markers.fitOnce(everyone);
      panel.showError('');
      break;
    }
    case 'update': {
      const person = people.update(message.feature);
      if (!person) return;
      markers.upsert(person);
      break;
    }
    case 'remove':
      if (!people.remove(message.id)) return;
      markers.remove(message.id);
      break;
    case 'error':
      onServerError(message.error ?? {});
      return;
    default:
      return;
  }
  panel.render(people.sorted());
}

function onServerError({ code, message }) {
  if (code === 'unauthorized' || code === 'forbidden') {
    refused({ state: code, message });
    return;
  }
  panel.showError(message || code || 'The server reported an error.');
}
