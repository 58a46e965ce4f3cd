// Package metrics turns mqsql's live index into Prometheus metrics. Exporters that run showq
// on every scrape re-read the whole queue exactly when it is big, and time out when the queue
// matters most; the index already holds the queue, so a scrape here is a few SQL queries on it
// and never reads the spool. Collector produces the built-in metric set (queue sizes, the age
// histogram in qshape's buckets, deferred recipients by domain, events and the watcher's
// health); SQLCollector adds metrics that an admin defines in SQL (see ParseDefinitions), run
// under the same guard as the REPL with a series limit and a time limit per metric; Serve
// exposes a registry read-only over HTTP with Prometheus' web configuration (TLS, basic auth).
package metrics
