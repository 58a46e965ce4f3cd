package metrics

import "github.com/prometheus/client_golang/prometheus"

// The built-in metrics. Their names and labels are a contract (README, Metrics): dashboards
// and alert rules use them.
var (
	queueMessages = prometheus.NewDesc("mqsql_queue_messages",
		"Messages in the queue, as postqueue -j lists them (for corrupt: the files in corrupt/).", []string{"queue"}, nil)
	queueRecipients = prometheus.NewDesc("mqsql_queue_recipients",
		"Undelivered recipients of the messages in the queue (postqueue's recipients).", []string{"queue"}, nil)
	queueSize = prometheus.NewDesc("mqsql_queue_size_bytes",
		"Sum of the message sizes in the queue (postqueue's message_size).", []string{"queue"}, nil)
	queueOldest = prometheus.NewDesc("mqsql_queue_oldest_arrival_timestamp_seconds",
		"Arrival time of the oldest message in the queue, unix seconds; no series when the queue is empty.", []string{"queue"}, nil)
	queueAge = prometheus.NewDesc("mqsql_queue_message_age_seconds",
		"Ages of the messages in the queue at scrape time, in qshape's buckets (5 to 1280 minutes).", []string{"queue"}, nil)
	deferredRecipients = prometheus.NewDesc("mqsql_deferred_recipients",
		"Undelivered recipients of deferred mail by recipient domain: the top domains, the rest in domain=\"other\".", []string{"domain"}, nil)
	eventsTotal = prometheus.NewDesc("mqsql_events_total",
		"Events rows this mqsql recorded since it started: arrived, moved, left, changed.", []string{"event"}, nil)
	indexUp = prometheus.NewDesc("mqsql_index_up",
		"1 when this scrape read the index and the index is current; 0 when its queries failed (the queue metrics are then missing) or the watcher's last pass could not read part of the spool (the metrics then count the messages last seen there).", nil, nil)
	indexUnreadable = prometheus.NewDesc("mqsql_index_unreadable_total",
		"Places of the spool (directories, files) the watcher's passes could not read for a reason other than their absence (EMFILE, EIO, EACCES); their messages were kept and read again later.", nil, nil)
	indexLastChange = prometheus.NewDesc("mqsql_index_last_change_timestamp_seconds",
		"When the watcher last saw the queue change (the newest events row), unix seconds; 0 when never.", nil, nil)
	watcherOverflows = prometheus.NewDesc("mqsql_watcher_overflows_total",
		"Times the kernel dropped inotify events (queue overflow), each followed by a full reconcile pass.", nil, nil)
	watcherReconciles = prometheus.NewDesc("mqsql_watcher_reconciles_total",
		"Full reconcile passes of the watcher: periodic, after an overflow, polls, and asked for.", nil, nil)
	watcherReconcileDuration = prometheus.NewDesc("mqsql_watcher_reconcile_duration_seconds",
		"How long the last full reconcile pass took.", nil, nil)
	watcherLastReconcile = prometheus.NewDesc("mqsql_watcher_last_reconcile_timestamp_seconds",
		"When the last full reconcile pass ended (until the first: when the watcher started), unix seconds.", nil, nil)
	watcherReconcileInterval = prometheus.NewDesc("mqsql_watcher_reconcile_interval_seconds",
		"The interval of the periodic full pass (--reconcile), or of polling (--poll), for alerts on a stuck watcher.", nil, nil)
)

var builtinDescs = []*prometheus.Desc{
	queueMessages, queueRecipients, queueSize, queueOldest, queueAge, deferredRecipients,
	eventsTotal, indexUp, indexLastChange,
	indexUnreadable, watcherOverflows, watcherReconciles, watcherReconcileDuration, watcherLastReconcile, watcherReconcileInterval,
}

// builtinNames are the metric names an SQL-defined metric may not take, with the series
// names a histogram adds.
var builtinNames = map[string]bool{
	"mqsql_queue_messages": true, "mqsql_queue_recipients": true, "mqsql_queue_size_bytes": true,
	"mqsql_queue_oldest_arrival_timestamp_seconds": true, "mqsql_queue_message_age_seconds": true,
	"mqsql_queue_message_age_seconds_bucket": true, "mqsql_queue_message_age_seconds_sum": true,
	"mqsql_queue_message_age_seconds_count": true, "mqsql_deferred_recipients": true,
	"mqsql_events_total": true, "mqsql_index_up": true, "mqsql_index_last_change_timestamp_seconds": true,
	"mqsql_index_unreadable_total": true, "mqsql_watcher_overflows_total": true, "mqsql_watcher_reconciles_total": true,
	"mqsql_watcher_reconcile_duration_seconds": true, "mqsql_watcher_last_reconcile_timestamp_seconds": true,
	"mqsql_watcher_reconcile_interval_seconds": true,
	"mqsql_metric_series_dropped":              true, "mqsql_metric_errors_total": true, "mqsql_metric_duration_seconds": true,
}
