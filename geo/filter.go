package geo

import "slices"

// Filter narrows which people a subscriber, a snapshot or a list sees. The
// zero Filter matches everyone.
type Filter struct {
	BBox *BBox
	IDs  []int64 // empty means all
}

// Matches reports whether person id at p passes the filter.
func (f Filter) Matches(id int64, p Point) bool {
	if len(f.IDs) > 0 && !slices.Contains(f.IDs, id) {
		return false
	}
	return f.BBox == nil || f.BBox.Contains(p)
}
