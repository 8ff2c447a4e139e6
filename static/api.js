// Plain HTTP calls the page makes before (and beside) the live stream. URLs
// are relative to the page so the map also works behind a reverse proxy that
// mounts it under a sub-path.

// fetchConfig returns the page settings ({tile_url, tile_attribution}). A
// missing or broken config.json means "no tiles", never a broken page.
export async function fetchConfig() {
  const none = { tileURL: '', tileAttribution: '' };
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (!res.ok) return none;
    const config = await res.json();
    return {
      tileURL: typeof config?.tile_url === 'string' ? config.tile_url : '',
      tileAttribution: typeof config?.tile_attribution === 'string' ? config.tile_attribution : '',
    };
  } catch {
    return none;
  }
}

// fetchPeople checks the token and loads everyone's current position at the
// same time. It resolves to {state, features?, message?} where state is one
// of "ok", "unauthorized" (401), "forbidden" (403), "failed" (other answers)
// or "unreachable" (no answer at all).
export async function fetchPeople(token) {
  let res;
  try {
    res = await fetch('api/v1/people', {
      headers: { Authorization: 'Bearer ' + token, Accept: 'application/geo+json, application/json' },
      cache: 'no-store',
    });
  } catch {
    return { state: 'unreachable' };
  }
  const body = await res.json().catch(() => null);
  if (res.status === 401) return { state: 'unauthorized', message: body?.error?.message };
  if (res.status === 403) return { state: 'forbidden', message: body?.error?.message };
  if (!res.ok || !Array.isArray(body?.features)) {
    return { state: 'failed', message: body?.error?.message || `Could not load people: the server answered ${res.status}.` };
  }
  return { state: 'ok', features: body.features };
}
