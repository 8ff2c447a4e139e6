// The live stream: the server's messages (snapshot, update, remove, error)
// over a WebSocket or, where a network blocks that, Server-Sent Events or
// long-polling. The page does not care which:
//
//   const close = liveStream(token).connect(onMessage, onStatus);
//
// onMessage gets each message as a parsed object. onStatus(status, kind)
// gets "connecting" (first attempt), "live" (connected) or "reconnecting"
// (lost, retrying), and the transport in use: "websocket", "sse" or "poll".
// close() stops for good and reports nothing more.
//
// Every message carries a cursor. A reconnect sends the last one back, so the
// server sends what changed meanwhile instead of a snapshot, and nothing is
// missed however long the page was away (or a snapshot saying the cursor was
// too old).

const kinds = ['websocket', 'sse', 'poll'];

export function liveStream(token) {
  return { connect: (onMessage, onStatus) => connect(token, onMessage, onStatus) };
}

function connect(token, onMessage, onStatus) {
  const delays = backoff();
  let kind = 0;
  let cursor = '';
  let stopAttempt = null;
  let timer = 0;
  let closed = false;

  function resumeAt(next) {
    cursor = next;
  }

  function attempt() {
    timer = 0;
    let opened = false;
    stopAttempt = transports[kinds[kind]](token, cursor, {
      opened() {
        opened = true;
        delays.reset();
        onStatus('live', kinds[kind]);
      },
      // A snapshot's cursor replaces the one held (which may have been too
      // old, or from another database); any other may only move it on.
      message(m) {
        if (typeof m.cursor === 'string') {
          if (m.type === 'snapshot') resumeAt(m.cursor);
          else if (later(m.cursor, cursor)) cursor = m.cursor;
        }
        onMessage(m);
      },
      resumeAt,
      failed() {
        stopAttempt = null;
        if (closed) return;
        onStatus('reconnecting', kinds[kind]);
        retry(opened);
      },
    });
  }

  // A transport that fails before it ever opened while the server says it
  // is ready (database and listener up) is blocked on the way (a proxy, a
  // firewall): use the next. If the server or its database is down, keep
  // the transport and wait: it is not to blame.
  async function retry(opened) {
    if (!opened && kind < kinds.length - 1 && (await serverReady())) {
      if (closed) return;
      kind++;
      attempt();
      return;
    }
    if (!closed) timer = setTimeout(attempt, delays.next());
  }

  // Coming back online is the best moment to try again: skip the wait.
  function retryNow() {
    if (!timer) return;
    clearTimeout(timer);
    attempt();
  }

  onStatus('connecting', kinds[kind]);
  attempt();
  window.addEventListener('online', retryNow);

  return function close() {
    closed = true;
    window.removeEventListener('online', retryNow);
    clearTimeout(timer);
    timer = 0;
    if (stopAttempt) stopAttempt();
    stopAttempt = null;
  };
}

// Each transport opens one connection (or poll loop) and calls opened once,
// message per message (resumeAt when it learns a cursor otherwise), and failed
// once when it ends; it returns a function that stops it without calling
// failed.
const transports = {
  // Browsers cannot set headers on a WebSocket or an EventSource: the token
  // travels as ?access_token=, which the API accepts for streams and never
  // logs.
  websocket(token, cursor, on) {
    const url = streamURL('api/v1/stream', token, cursor);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let socket;
    try {
      socket = new WebSocket(url.href);
    } catch {
      setTimeout(on.failed, 0);
      return () => {};
    }
    socket.onopen = on.opened;
    socket.onmessage = (event) => deliver(event.data, on);
    // A failed connection fires error and then close; close alone ends it.
    socket.onclose = on.failed;
    return () => {
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.close(1000);
    };
  },

  // EventSource reconnects by itself, but gives up for good on an HTTP
  // error; reconnecting here instead keeps one backoff for every transport.
  sse(token, cursor, on) {
    let source;
    try {
      source = new EventSource(streamURL('api/v1/events', token, cursor).href);
    } catch {
      setTimeout(on.failed, 0);
      return () => {};
    }
    const stop = () => {
      source.onopen = source.onerror = null;
      for (const type of ['snapshot', 'update', 'remove', 'error']) source.removeEventListener(type, onEvent);
      source.close();
    };
    const onEvent = (event) => {
      if (typeof event.data === 'string') deliver(event.data, on);
    };
    for (const type of ['snapshot', 'update', 'remove', 'error']) source.addEventListener(type, onEvent);
    source.onopen = on.opened;
    source.onerror = () => {
      stop();
      on.failed();
    };
    return stop;
  },

  // Long-polling: each answer's cursor goes with the next poll. The server
  // holds a poll until something changes, so the loop is not busy.
  poll(token, cursor, on) {
    let stopped = false;
    const abort = new AbortController();
    (async () => {
      let first = true;
      for (;;) {
        const url = streamURL('api/v1/poll', '', cursor);
        let answer;
        try {
          const response = await fetch(url, {
            headers: { Authorization: `Bearer ${token}` },
            cache: 'no-store',
            signal: abort.signal,
          });
          if (!response.ok) throw new Error(`poll: HTTP ${response.status}`);
          answer = await response.json();
        } catch {
          if (!stopped) on.failed();
          return;
        }
        if (stopped) return;
        if (first) on.opened();
        first = false;
        for (const m of Array.isArray(answer.messages) ? answer.messages : []) {
          if (m && typeof m.type === 'string') on.message(m);
        }
        if (typeof answer.cursor === 'string') {
          cursor = answer.cursor;
          on.resumeAt(cursor);
        }
      }
    })();
    return () => {
      stopped = true;
      abort.abort();
    };
  },
};

function streamURL(path, token, cursor) {
  const url = new URL(path, document.baseURI);
  if (token) url.searchParams.set('access_token', token);
  if (cursor) url.searchParams.set('cursor', cursor);
  return url;
}

function deliver(data, on) {
  const message = parse(data);
  if (message) on.message(message);
}

async function serverReady() {
  try {
    const response = await fetch(new URL('readyz', document.baseURI), { cache: 'no-store' });
    return response.ok;
  } catch {
    return false;
  }
}

// later compares cursors, decimal strings that may exceed a JavaScript
// number's exact range.
function later(a, b) {
  return a.length !== b.length ? a.length > b.length : a > b;
}

function parse(data) {
  try {
    const message = JSON.parse(data);
    return typeof message?.type === 'string' ? message : null;
  } catch {
    return null;
  }
}

// backoff yields retry delays: 1 s, then up to 2, 4, 8 … s, capped at 30 s.
// Each delay is drawn from the upper half of its range so that many browsers
// cut off by one server restart do not all come back in the same instant.
export function backoff(min = 1000, max = 30000) {
  let attempt = 0;
  return {
    next() {
      const ceiling = Math.min(max, min * 2 ** attempt++);
      return Math.max(min, ceiling * (0.5 + Math.random() / 2));
    },
    reset() {
      attempt = 0;
    },
  };
}
