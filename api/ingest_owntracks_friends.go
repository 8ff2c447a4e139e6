package api

import (
	"cmp"
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"whereabouts/geo"
)

// otFeature is the part of a person Feature (store.Snapshot) that the
// friends list needs.
type otFeature struct {
	ID       int64 `json:"id"`
	Geometry *struct {
		Coordinates []float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties struct {
		Name       string    `json:"name"`
		DeviceID   string    `json:"device_id"`
		RecordedAt time.Time `json:"recorded_at"`
		geo.Readings
	} `json:"properties"`
}

// otCard gives a friend a name in the app.
type otCard struct {
	Type  string `json:"_type"`
	Name  string `json:"name"`
	TID   string `json:"tid"`
	Topic string `json:"topic"`
}

// otLocationOut is a friend's latest position as an OwnTracks location.
// The apps read acc, alt, vel and batt as integers.
type otLocationOut struct {
	Type  string  `json:"_type"`
	Lat   float64 `json:"lat"`
	Lon   float64 `json:"lon"`
	Tst   int64   `json:"tst"`
	TID   string  `json:"tid"`
	Topic string  `json:"topic"`
	Acc   *int64  `json:"acc,omitempty"`
	Alt   *int64  `json:"alt,omitempty"`
	Vel   *int64  `json:"vel,omitempty"`
	Cog   *int64  `json:"cog,omitempty"`
	Batt  *int64  `json:"batt,omitempty"`
}

// otFriends is the HTTP-mode answer: a card and a location for every other
// person with a position, when devices may see each other; [] otherwise.
// The fix is already stored, so a failure here is logged and answered with
// [] rather than making the app resend it.
func (s *Server) otFriends(ctx context.Context, self int64) []byte {
	if !s.cfg.DevicesSeeOthers {
		return []byte("[]")
	}
	b, err := s.otFriendsJSON(ctx, self)
	if err != nil {
		s.log.ErrorContext(ctx, "owntracks friends list", "err", err)
		return []byte("[]")
	}
	return b
}

func (s *Server) otFriendsJSON(ctx context.Context, self int64) ([]byte, error) {
	features, _, err := s.reads.Snapshot(ctx, geo.Filter{})
	if err != nil {
		return nil, err
	}
	msgs, err := otFriendMessages(features, self)
	if err != nil {
		return nil, err
	}
	return json.Marshal(msgs)
}

// otFriendMessages turns the snapshot into card+location pairs, leaving out
// the asking person. Both apps key a friend by tid in HTTP mode (they file
// it under the made-up topic owntracks/http/<tid>), so every tid is unique.
func otFriendMessages(features [][]byte, self int64) ([]any, error) {
	people := make([]otFeature, 0, len(features))
	for _, raw := range features {
		var f otFeature
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, err
		}
		if f.Geometry != nil && len(f.Geometry.Coordinates) >= 2 {
			people = append(people, f)
		}
	}
	slices.SortFunc(people, func(a, b otFeature) int { return cmp.Compare(a.ID, b.ID) })
	tids := otTrackerIDs(people)
	msgs := []any{}
	for _, f := range people {
		if f.ID == self {
			continue
		}
		topic, p := otTopic(f), f.Properties
		msgs = append(msgs, otCard{Type: "card", Name: p.Name, TID: tids[f.ID], Topic: topic},
			otLocationOut{
				Type: "location", Lon: f.Geometry.Coordinates[0], Lat: f.Geometry.Coordinates[1],
				Tst: p.RecordedAt.Unix(), TID: tids[f.ID], Topic: topic,
				Acc: otInt(p.AccuracyM, 1), Alt: otInt(p.AltitudeM, 1), Vel: otInt(p.SpeedMPS, 3.6),
				Cog: otInt(p.HeadingDeg, 1), Batt: otInt(p.Battery, 100),
			})
	}
	return msgs, nil
}

// otTrackerIDs gives each person the two-character tag of their name; when
// a person with a lower id already has that tag, the id is appended
// ("JA-7"). Ids only grow, so a newcomer never renames an existing friend.
func otTrackerIDs(people []otFeature) map[int64]string {
	tids := make(map[int64]string, len(people))
	used := map[string]bool{}
	for _, f := range people {
		t := otTag(f.Properties.Name)
		if used[t] {
			t += "-" + strconv.FormatInt(f.ID, 10)
		}
		used[t] = true
		tids[f.ID] = t
	}
	return tids
}

// otTag is what the app shows in a friend's circle when there is no face:
// initials of the first two words, or the first two letters of one word.
func otTag(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var tag []rune
	switch len(words) {
	case 0:
		return "?"
	case 1:
		tag = []rune(words[0])[:min(2, len([]rune(words[0])))]
	default:
		tag = []rune{[]rune(words[0])[0], []rune(words[1])[0]}
	}
	return strings.ToUpper(string(tag))
}

// otTopic names a friend the same way in every answer: by device_id, or by
// id when there is none or it would not make a clean topic level.
func otTopic(f otFeature) string {
	key := f.Properties.DeviceID
	if key == "" || strings.ContainsAny(key, "/+# ") {
		key = strconv.FormatInt(f.ID, 10)
	}
	return "owntracks/whereabouts/" + key
}

// otInt converts a reading to OwnTracks units, rounded to the integer the
// apps expect.
func otInt(v *float64, mul float64) *int64 {
	if v == nil {
		return nil
	}
	n := int64(math.Round(*v * mul))
	return &n
}
