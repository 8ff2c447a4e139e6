package notify

import (
	"encoding/json"
	"strconv"

	"whereabouts/geo"
)

// The messages every transport carries. Features are spliced in verbatim:
// PostgreSQL built them and the hub never re-encodes them.

func eventMessage(ev geo.PersonEvent, feature []byte) []byte {
	if ev.Deleted {
		return removeMessage(ev.ID)
	}
	return updateMessage(feature)
}

func updateMessage(feature []byte) []byte {
	const head, tail = `{"type":"update","feature":`, `}`
	b := make([]byte, 0, len(head)+len(feature)+len(tail))
	b = append(b, head...)
	b = append(b, feature...)
	return append(b, tail...)
}

func removeMessage(id int64) []byte {
	b := make([]byte, 0, 48)
	b = append(b, `{"type":"remove","id":`...)
	b = strconv.AppendInt(b, id, 10)
	return append(b, '}')
}

func snapshotMessage(features [][]byte) []byte {
	const head, tail = `{"type":"snapshot","features":[`, `]}`
	n := len(head) + len(tail) + len(features)
	for _, f := range features {
		n += len(f)
	}
	b := make([]byte, 0, n)
	b = append(b, head...)
	for i, f := range features {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	return append(b, tail...)
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func errorMessage(code, message string) []byte {
	b, err := json.Marshal(struct {
		Type  string    `json:"type"`
		Error errorBody `json:"error"`
	}{"error", errorBody{code, message}})
	if err != nil { // two strings always marshal; stay valid JSON regardless
		return []byte(`{"type":"error","error":{"code":"internal","message":"unencodable error"}}`)
	}
	return b
}
