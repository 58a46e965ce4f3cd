package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/net/netutil"
)

// Handler serves reg at /metrics, in Prometheus' text format or in OpenMetrics when the
// scraper asks for it, and a short page at /. It only answers GET and HEAD: nothing on this
// endpoint changes anything. A metric whose query failed is left out of the scrape, which the
// rest still answers (the failure is counted in mqsql_metric_errors_total and logged).
func Handler(reg *prometheus.Registry, errorLog promhttp.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		EnableOpenMetrics:   true,
		ErrorHandling:       promhttp.ContinueOnError,
		ErrorLog:            errorLog,
		MaxRequestsInFlight: ScrapesInFlight,
	}))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "mqsql: the Postfix queue's metrics are at /metrics")
	})
	return readOnly(mux)
}

// readOnly refuses every method but GET and HEAD.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "mqsql's metrics endpoint is read-only", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// shutdownGrace is how long Serve lets scrapes in progress finish once it is told to stop:
// short, because the daemon's contract is that SIGTERM ends it within 0.5 s.
const shutdownGrace = 200 * time.Millisecond

// CheckWebConfig validates a Prometheus web configuration file (TLS, basic auth), so that a
// mistake in it stops mqsql at start rather than at the first scrape. "" is no file.
func CheckWebConfig(path string) error {
	if path == "" {
		return nil
	}
	if err := web.Validate(path); err != nil {
		return fmt.Errorf("--web.config.file %s: %w", path, err)
	}
	return nil
}

// The metrics endpoint's timeouts. Before them, 200 of 200 idle keep-alive connections were
// still open after 75 s, and each held a descriptor the watcher needs for the queue.
const (
	// ReadHeaderTimeout bounds the request line and headers, and the TLS handshake before
	// them: a scraper sends them at once; 10 s is ample on any network.
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds the whole request (a GET has no body).
	ReadTimeout = 15 * time.Second
	// WriteTimeout bounds the answer, from the end of the request: above the longest scrape,
	// whose SQL-defined metrics run in parallel, each within its timeout (5 s by default), and
	// above Prometheus' default scrape timeout (10 s).
	WriteTimeout = 60 * time.Second
	// IdleTimeout closes a kept-alive connection that sends no next request: Prometheus
	// scrapes every 15 s to 1 min, so a scraper keeps its connection at the common 15 s and
	// 30 s intervals, and opens a new one, which costs under a millisecond on loopback, at
	// longer ones.
	IdleTimeout = 35 * time.Second
)

// DefaultMaxConnections is how many connections the metrics endpoint keeps open at once
// (--web.max-connections): a few Prometheus servers and a person with curl need a handful; 64
// descriptors are nothing next to the queue directories the watcher opens. Clients beyond it
// wait in the kernel's listen queue, costing this process no descriptor, until one closes.
const DefaultMaxConnections = 64

// ScrapesInFlight is how many scrapes run at once; a scrape beyond them is answered 503 at
// once. Each scrape reads the index on connections of its own (the index file, its WAL and
// shared memory: descriptors), so connections alone do not bound what clients cost: 100
// clients scraping at once under a load took mqsql watch to 97 of its 96 descriptors with 64
// connections. Prometheus servers scrape one at a time each; 4 serves an HA pair and a person.
const ScrapesInFlight = 4

// LimitConnections makes l accept at most max connections at once (see
// DefaultMaxConnections): idle or slow clients cannot take the descriptors the watcher needs.
func LimitConnections(l net.Listener, max int) net.Listener {
	return netutil.LimitListener(l, max)
}

// Serve answers HTTP with h on l, with TLS and basic authentication as the web configuration
// file webConfig says ("" is plain HTTP), until ctx ends; then it stops accepting, lets
// scrapes in progress finish for at most shutdownGrace, and closes what is left (a connection
// that sent no request yet, a stalled scrape), so that SIGTERM ends mqsql watch within 0.5 s.
//
// A client cannot hold a connection for long: it has ReadHeaderTimeout to send its request,
// ReadTimeout to finish it, WriteTimeout for the answer, and a kept-alive connection is closed
// after IdleTimeout without a request (see LimitConnections for how many it may hold).
func Serve(ctx context.Context, l net.Listener, h http.Handler, webConfig string, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
	}
	done := make(chan error, 1)
	go func() { done <- web.Serve(l, srv, &web.FlagConfig{WebConfigFile: &webConfig}, logger) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve metrics on %s: %w", l.Addr(), err)
	case <-ctx.Done():
	}
	stop, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(stop)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close() // a scraper that has not finished in time gets no answer
	}
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) && serveErr != nil {
		return fmt.Errorf("serve metrics on %s: %w", l.Addr(), serveErr)
	}
	return err
}
