// A transport carries the server's live messages (snapshot, update, remove,
// error) to the page and reconnects on its own. All transports share one
// shape so the page does not care whether messages come over a WebSocket or,
// where that is blocked, Server-Sent Events or long-polling:
//
//   const close = transport.connect(onMessage, onStatus);
//
// onMessage gets each message as a parsed object. onStatus gets "connecting"
// (first attempt), "live" (connected) or "reconnecting" (lost, retrying).
// close() stops for good and reports nothing more.

// webSocketTransport streams from /api/v1/stream. Browsers cannot set headers
// on a WebSocket, so the token travels as ?access_token=, which the API
// accepts for streams and never logs.
export function webSocketTransport(token) {
  const url = new URL('api/v1/stream', document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('access_token', token);
  return { connect: (onMessage, onStatus) => connectWebSocket(url.href, onMessage, onStatus) };
}

function connectWebSocket(url, onMessage, onStatus) {
  const delays = backoff();
  let socket = null;
  let timer = 0;

  function open() {
    timer = 0;
    socket = new WebSocket(url);
    socket.onopen = () => {
      delays.reset();
      onStatus('live');
    };
    socket.onmessage = (event) => {
      const message = parse(event.data);
      if (message) onMessage(message);
    };
    // A failed connection fires error and then close; retrying on close
    // alone schedules exactly one new attempt.
    socket.onclose = () => {
      socket = null;
      onStatus('reconnecting');
      timer = setTimeout(open, delays.next());
    };
  }

  // Coming back online is the best moment to try again: skip the wait.
  function retryNow() {
    if (!timer) return;
    clearTimeout(timer);
    open();
  }

  onStatus('connecting');
  open();
  window.addEventListener('online', retryNow);

  return function close() {
    window.removeEventListener('online', retryNow);
    clearTimeout(timer);
    timer = 0;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.close(1000);
      socket = null;
    }
  };
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
