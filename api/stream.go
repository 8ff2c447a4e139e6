package api

import (
	"net/http"

	"whereabouts/notify"
)

// Streams are the live stream's transports. They carry the same messages:
// WebSocket for most clients, Server-Sent Events and long-polling for
// networks that block WebSockets.
type Streams struct {
	WebSocket *notify.WebSocket
	Events    *notify.SSE
	Poll      *notify.Poll
}

// subscription reads what a stream request asks for: the filter from the
// query, the cursor to resume after (?cursor=, or for SSE the Last-Event-ID
// the browser sends when it reconnects), and the scope the token allows: a
// device that may not see others is scoped to itself for good.
func (s *Server) subscription(r *http.Request) (notify.Subscription, error) {
	q := r.URL.Query()
	f, err := notify.ParseFilter(q)
	if err != nil {
		return notify.Subscription{}, err
	}
	field, raw := "cursor", q.Get("cursor")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		field, raw = "Last-Event-ID", id
	}
	cursor, err := notify.ParseCursor(field, raw)
	if err != nil {
		return notify.Subscription{}, err
	}
	sub := notify.Subscription{Filter: f, Cursor: cursor}
	if p := principalFrom(r.Context()); !p.admin && !s.cfg.DevicesSeeOthers {
		sub.Scope.OnlyID = p.personID
	}
	return sub, nil
}

// streamHandler serves one transport.
func (s *Server) streamHandler(serve func(http.ResponseWriter, *http.Request, notify.Subscription)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sub, err := s.subscription(r)
		if err != nil {
			writeError(w, r, s.log, invalidParameter(err))
			return
		}
		serve(w, r, sub)
	}
}
