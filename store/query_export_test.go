package store

// Internals the query tests check directly: the SQL whose plans must use the
// indexes, the index prefilter, and the Feature splice.
var (
	NearbySQL      = nearbySQL
	OrderByIndex   = orderByIndex
	HistorySQL     = historySQL
	WithinSQL      = withinSQL
	WithinArgs     = withinArgs
	GeocentricHull = geocentricHull
	WithProperty   = withProperty
	WKBOf          = wkbOf
)
