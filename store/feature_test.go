package store

import (
	"testing"
	"time"

	"whereabouts/geo"
)

// BenchmarkAppendFeature is what the server pays to print a PUT's answer
// instead of PostgreSQL building it a second time on its one backend.
func BenchmarkAppendFeature(b *testing.B) {
	acc, bat := 4.5, 0.81
	dev := "phone-7"
	u := Update{PersonID: 7, Position: geo.Position{
		Point: geo.Point{Lon: 4.891234567, Lat: 52.370987654}, RecordedAt: time.Now(),
		Readings: geo.Readings{AccuracyM: &acc, Battery: &bat}}}
	r := movedRow{id: 7, version: 1234, name: "Courier 7", deviceID: &dev, updatedAt: time.Now(), seenAt: time.Now()}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendFeature(buf[:0], r, u)
	}
}
