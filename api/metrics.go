package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"whereabouts/notify"
	"whereabouts/store"
)

// Metrics are the service's Prometheus metrics, registered on a registry the
// caller owns (never the global one). A nil *Metrics records nothing.
type Metrics struct {
	handler   http.Handler
	requests  *prometheus.HistogramVec
	positions *prometheus.CounterVec
	commit    prometheus.Histogram
}

// NewMetrics registers the metrics on reg. The listener, hub, streams and
// device cache (nil: none) are read at scrape time, so they keep their own
// counters and need no hooks.
func NewMetrics(reg *prometheus.Registry, listener *notify.Listener, hub *notify.Hub, streams Streams, devices *store.DeviceCache) *Metrics {
	m := &Metrics{
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "whereabouts_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status class (WebSocket upgrades excluded).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "code"}),
		positions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "whereabouts_positions_total",
			Help: "Positions through the write path, by result (accepted, rejected) and reason (error code, duplicate, flagged_*, stored).",
		}, []string{"result", "reason"}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "whereabouts_group_commit_rows",
			Help:    "Fixes per group-commit transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10), // 1 … 512
		}),
	}
	stat := func(name, help string, read func(notify.ListenerStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(read(listener.Stats())) })
	}
	reg.MustRegister(m.requests, m.positions, m.commit,
		stat("whereabouts_notifications_received_total", "NOTIFY payloads received by the listener.",
			func(s notify.ListenerStats) int64 { return s.Received }),
		stat("whereabouts_notification_decode_failures_total", "Payloads (live or resynced) that were not a valid person Feature.",
			func(s notify.ListenerStats) int64 { return s.DecodeFailures }),
		stat("whereabouts_listener_reconnects_total", "Times the listener was ready again after losing its connection.",
			func(s notify.ListenerStats) int64 { return s.Reconnects }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "whereabouts_listener_ready",
			Help: "1 when the listener is connected, listening and caught up.",
		}, func() float64 {
			if listener.Ready() {
				return 1
			}
			return 0
		}),
		stat("whereabouts_listener_resyncs_total", "Resyncs after (re)connecting: reads of every change since the listener's cursor.",
			func(s notify.ListenerStats) int64 { return s.Resyncs }),
		stat("whereabouts_listener_resync_changes_total", "Changes read by resyncs.",
			func(s notify.ListenerStats) int64 { return s.Resynced }),
		hubCollector{hub},
		connections("websocket", streams.WebSocket.Open),
		connections("sse", streams.Events.Open),
	)
	if devices != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "whereabouts_device_tokens_cached",
			Help: "Device tokens checked in the last minute and trusted without a query.",
		}, func() float64 { return float64(devices.Len()) }))
	}
	return m
}

// connections exposes a transport's open connections. They outlive the
// subscriber by the goodbye (up to the write timeout), so more connections
// than subscribers means clients that are slow to leave.
func connections(transport string, open func() int64) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "whereabouts_stream_connections",
		Help:        "Open WebSocket and SSE connections, including those closing.",
		ConstLabels: prometheus.Labels{"transport": transport},
	}, func() float64 { return float64(open()) })
}

// hubCollector reads the hub's stats once per scrape.
type hubCollector struct{ hub *notify.Hub }

var (
	subscribersDesc = prometheus.NewDesc("whereabouts_stream_subscribers",
		"Connected live-stream subscribers by transport (poll: requests waiting).", []string{"transport"}, nil)
	queueBytesDesc = prometheus.NewDesc("whereabouts_stream_queue_bytes",
		"Bytes of events queued for all subscribers (snapshots not counted).", nil, nil)
	deliveredDesc = prometheus.NewDesc("whereabouts_stream_messages_delivered_total",
		"Messages handed to subscribers' transports.", nil, nil)
	coalescedDesc = prometheus.NewDesc("whereabouts_stream_events_coalesced_total",
		"Events dropped from a lagging subscriber's queue because a newer one for the same person was queued.", nil, nil)
	droppedDesc = prometheus.NewDesc("whereabouts_stream_subscribers_dropped_total",
		"Subscribers closed for falling too far behind (they resume by cursor).", nil, nil)
)

func (c hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{subscribersDesc, queueBytesDesc, deliveredDesc, coalescedDesc, droppedDesc} {
		ch <- d
	}
}

func (c hubCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.hub.Stats()
	for _, t := range []string{"websocket", "sse", "poll"} {
		ch <- prometheus.MustNewConstMetric(subscribersDesc, prometheus.GaugeValue, float64(st.Subscribers[t]), t)
	}
	ch <- prometheus.MustNewConstMetric(queueBytesDesc, prometheus.GaugeValue, float64(st.QueueBytes))
	ch <- prometheus.MustNewConstMetric(deliveredDesc, prometheus.CounterValue, float64(st.Delivered))
	ch <- prometheus.MustNewConstMetric(coalescedDesc, prometheus.CounterValue, float64(st.Coalesced))
	ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(st.Dropped))
}

// CommitRows observes one group commit's size; pass it as
// store.CommitConfig.OnFlush.
func (m *Metrics) CommitRows(rows int) {
	if m != nil {
		m.commit.Observe(float64(rows))
	}
}

// serveMetrics answers a scrape, or 404 when metrics are off.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metrics == nil {
		s.notFound(w, r)
		return
	}
	s.metrics.handler.ServeHTTP(w, r)
}

// observeRequests times each request by the ServeMux pattern that served it
// (never the raw path, which would be unbounded); fallback names requests no
// pattern matched. WebSocket and SSE streams are left out: their duration is
// the connection's lifetime.
func (s *Server) observeRequests(fallback string, next http.Handler) http.Handler {
	if s.metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r) // the mux sets r.Pattern on this request
		if rec.status == http.StatusSwitchingProtocols || r.Pattern == "GET /api/v1/events" {
			return
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = fallback
		}
		class := strconv.Itoa(status/100) + "xx"
		s.metrics.requests.WithLabelValues(route, class).Observe(time.Since(start).Seconds())
	})
}

// countRejected counts positions refused with err, n of them.
func (s *Server) countRejected(err error, n int) {
	if s.metrics != nil && n > 0 {
		s.metrics.positions.WithLabelValues("rejected", toError(err).Code).Add(float64(n))
	}
}

// countWritten counts the outcome of each written fix: results[i] is ups[i].
func (s *Server) countWritten(ups []store.Update, results []store.Result) {
	if s.metrics == nil {
		return
	}
	for i, res := range results {
		switch {
		case res.Err != nil:
			s.metrics.positions.WithLabelValues("rejected", toError(res.Err).Code).Inc()
		case res.Duplicate:
			s.metrics.positions.WithLabelValues("accepted", "duplicate").Inc()
		case ups[i].Flag != "":
			s.metrics.positions.WithLabelValues("accepted", "flagged_"+ups[i].Flag).Inc()
		default:
			s.metrics.positions.WithLabelValues("accepted", "stored").Inc()
		}
	}
}
