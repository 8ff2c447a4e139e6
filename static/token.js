// The access token lives in localStorage so a reload keeps the map open. A
// link may carry it once in the fragment (#token=...): fragments never reach
// the server or its logs, and the token is taken out of the address bar at
// once so it does not end up in bookmarks or shared screenshots.

const KEY = 'whereabouts.token';

// loadToken returns the token from the link if there is one (saving it), else
// the stored one, else "".
export function loadToken() {
  const fromLink = takeFragmentToken();
  if (fromLink) {
    saveToken(fromLink);
    return fromLink;
  }
  return read() ?? '';
}

export function saveToken(token) {
  write(() => localStorage.setItem(KEY, token));
}

export function forgetToken() {
  write(() => localStorage.removeItem(KEY));
}

function takeFragmentToken() {
  const parts = location.hash.replace(/^#/, '').split('&');
  const i = parts.findIndex((p) => p.startsWith('token='));
  if (i < 0) return '';
  const [part] = parts.splice(i, 1);
  const rest = parts.join('&');
  history.replaceState(history.state, '', location.pathname + location.search + (rest ? '#' + rest : ''));
  try {
    return decodeURIComponent(part.slice('token='.length)).trim();
  } catch {
    return '';
  }
}

// Storage can be switched off or full (private windows); the page then still
// works for this visit, it just asks for the token again next time.
function read() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function write(change) {
  try {
    change();
  } catch {
    // Nothing to do: see read().
  }
}
