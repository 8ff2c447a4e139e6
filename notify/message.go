package notify

import (
	"encoding/json"
	"strconv"

	"whereabouts/geo"
)

// Message is one stream message as every transport carries it.
type Message struct {
	Type string // "snapshot", "update", "remove" or "error"
	// Cursor is where a client that got this message and everything before
	// it resumes from (see Hub.Advance); 0 for errors, and for events the
	// hub published before it had a cursor: such messages carry none.
	Cursor uint64
	// JSON is the message itself. It is shared between subscribers: never
	// modify it.
	JSON []byte
}

// Why a client that asked to resume got a snapshot instead.
const reasonCursorExpired = "cursor_expired"

// The messages' JSON. Features are spliced in verbatim: PostgreSQL built them
// and the hub never re-encodes them. The cursor is a string: it is opaque to
// clients, and JavaScript numbers could not hold every value.

func eventMessage(ev geo.PersonEvent, feature []byte, cursor uint64) Message {
	if ev.Deleted {
		return Message{"remove", cursor, removeJSON(ev.ID, cursor)}
	}
	return Message{"update", cursor, updateJSON(feature, cursor)}
}

// appendCursor adds the cursor field; 0 (the hub before the listener's first
// catch-up) is no cursor, so the field is left out and the client keeps the
// one it has.
func appendCursor(b []byte, cursor uint64) []byte {
	if cursor == 0 {
		return b
	}
	b = append(b, `"cursor":"`...)
	b = strconv.AppendUint(b, cursor, 10)
	return append(b, `",`...)
}

func updateJSON(feature []byte, cursor uint64) []byte {
	b := make([]byte, 0, 64+len(feature))
	b = append(b, `{"type":"update",`...)
	b = appendCursor(b, cursor)
	b = append(b, `"feature":`...)
	b = append(b, feature...)
	return append(b, '}')
}

func removeJSON(id int64, cursor uint64) []byte {
	b := make([]byte, 0, 64)
	b = append(b, `{"type":"remove",`...)
	b = appendCursor(b, cursor)
	b = append(b, `"id":`...)
	b = strconv.AppendInt(b, id, 10)
	return append(b, '}')
}

// snapshotMessage replaces the client's whole picture. reason is empty for a
// snapshot the client asked for, reasonCursorExpired when it asked to resume.
func snapshotMessage(features [][]byte, cursor uint64, reason string) Message {
	n := 96 + len(features)
	for _, f := range features {
		n += len(f)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"type":"snapshot",`...)
	b = appendCursor(b, cursor)
	if reason != "" {
		b = append(b, `"reason":`...)
		b = strconv.AppendQuote(b, reason)
		b = append(b, ',')
	}
	b = append(b, `"features":[`...)
	for i, f := range features {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	return Message{"snapshot", cursor, append(b, "]}"...)}
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func errorMessage(code, message string) Message {
	b, err := json.Marshal(struct {
		Type  string    `json:"type"`
		Error errorBody `json:"error"`
	}{"error", errorBody{code, message}})
	if err != nil { // two strings always marshal; stay valid JSON regardless
		b = []byte(`{"type":"error","error":{"code":"internal","message":"unencodable error"}}`)
	}
	return Message{Type: "error", JSON: b}
}
