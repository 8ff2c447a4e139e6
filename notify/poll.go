package notify

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Poll serves the live stream as long-polling, for clients that can keep
// no connection open. A request without a cursor gets a snapshot at once; one
// with a cursor gets the changes since, as soon as there are any, or none
// after Timeout. Each answer's cursor is the next request's. It keeps no
// state between requests, so any instance can answer any poll.
type Poll struct {
	Hub     *Hub
	Source  Source
	Log     *slog.Logger
	Timeout time.Duration // longest a poll waits for a change; 0 takes 25s
}

// Serve answers one poll: {"cursor": "...", "messages": [...]}.
func (p *Poll) Serve(w http.ResponseWriter, r *http.Request, want Subscription) {
	ctx := r.Context()
	want.Transport = "poll"
	sub, err := p.Hub.Subscribe(ctx, p.Source, want)
	if err != nil {
		p.logger().Warn("notify: poll subscribe", "err", err)
		writeUnavailable(w)
		return
	}
	defer sub.Close()
	msgs := sub.Next(nil)
	if len(msgs) == 0 {
		timeout := time.NewTimer(orDefault(p.Timeout, 25*time.Second))
		defer timeout.Stop()
	wait:
		for len(msgs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-sub.Done(): // shutting down: the next poll finds another instance
				break wait
			case <-timeout.C:
				break wait
			case <-sub.Ready():
				msgs = sub.Next(msgs)
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	// Not the cursor asked with: one the server no longer keeps (or from
	// another database) was answered with a snapshot, whose cursor counts.
	w.Write(pollAnswer(sub.Cursor(), msgs))
}

func pollAnswer(cursor uint64, msgs []Message) []byte {
	n := 64
	for _, m := range msgs {
		n += len(m.JSON) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"cursor":"`...)
	b = strconv.AppendUint(b, cursor, 10)
	b = append(b, `","messages":[`...)
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m.JSON...)
	}
	return append(b, "]}\n"...)
}

func (p *Poll) logger() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}
