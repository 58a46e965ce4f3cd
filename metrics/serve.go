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
)

// Handler serves reg at /metrics, in Prometheus' text format or in OpenMetrics when the
// scraper asks for it, and a short page at /. It only answers GET and HEAD: nothing on this
// endpoint changes anything. A metric whose query failed is left out of the scrape, which the
// rest still answers (the failure is counted in mqsql_metric_errors_total and logged).
func Handler(reg *prometheus.Registry, errorLog promhttp.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorHandling:     promhttp.ContinueOnError,
		ErrorLog:          errorLog,
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

// Serve answers HTTP with h on l, with TLS and basic authentication as the web configuration
// file webConfig says ("" is plain HTTP), until ctx ends; then it stops accepting, lets
// scrapes in progress finish for at most shutdownGrace, and closes what is left (a connection
// that sent no request yet, a stalled scrape), so that SIGTERM ends mqsql watch within 0.5 s.
func Serve(ctx context.Context, l net.Listener, h http.Handler, webConfig string, logger *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
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
