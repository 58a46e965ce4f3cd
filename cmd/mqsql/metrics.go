package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metricsFlags are mqsql watch's flags for serving Prometheus metrics.
type metricsFlags struct {
	listen          string // "" = serve no metrics
	webConfig       string
	file            string
	deferredDomains int
	maxConnections  int

	defs []metrics.Definition // read from file when the flags are parsed
}

func addMetricsFlags(fs *flag.FlagSet, m *metricsFlags) {
	fs.StringVar(&m.listen, "listen", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9989); read-only")
	fs.StringVar(&m.webConfig, "web.config.file", "", "Prometheus web configuration file for the metrics endpoint: TLS and basic authentication")
	fs.StringVar(&m.file, "metrics", "", "file of further metrics defined in SQL (see mqsql(1), METRICS)")
	fs.IntVar(&m.maxConnections, "web.max-connections", metrics.DefaultMaxConnections, "most connections the metrics endpoint keeps open at once; others wait")
	fs.IntVar(&m.deferredDomains, "deferred-domains", metrics.DefaultTopDomains, "how many recipient domains mqsql_deferred_recipients names; the rest are domain=\"other\"")
}

// checkMetricsFlags refuses metrics flags without --listen and reads and checks the files
// they name, so that a mistake stops mqsql watch before it loads anything.
func checkMetricsFlags(m *metricsFlags) error {
	if m.listen == "" {
		if m.webConfig != "" || m.file != "" {
			return errors.New("--web.config.file and --metrics configure the metrics endpoint: give --listen ADDR too")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(m.listen); err != nil {
		return fmt.Errorf("--listen %s: %w: give HOST:PORT, or :PORT for every address (e.g. --listen :9481, as exporters take it)", m.listen, err)
	}
	if m.maxConnections < 1 {
		return fmt.Errorf("--web.max-connections must be at least 1, got %d", m.maxConnections)
	}
	if m.deferredDomains < 1 {
		return fmt.Errorf("--deferred-domains must be at least 1, got %d", m.deferredDomains)
	}
	if err := metrics.CheckWebConfig(m.webConfig); err != nil {
		return err
	}
	if m.file == "" {
		return nil
	}
	defs, err := metrics.LoadDefinitions(m.file)
	if err != nil {
		return fmt.Errorf("--metrics %w", err)
	}
	m.defs = defs
	return nil
}

// metricsServer is what --listen starts: its listener, opened before the index loads so that
// a wrong address fails at once, and the SQL-defined metrics, checked against the index then.
type metricsServer struct {
	flags *metricsFlags
	l     net.Listener
	sql   *metrics.SQLCollector
}

// openMetrics listens on --listen and checks the SQL-defined metrics; nil without --listen.
func openMetrics(ctx context.Context, m *metricsFlags, ix *index.Index, logger *log.Logger) (*metricsServer, error) {
	if m.listen == "" {
		return nil, nil
	}
	if err := ix.KeepRunningTotals(ctx); err != nil {
		return nil, err
	}
	sqlc, err := metrics.NewSQLCollector(ctx, ix, m.defs, logger.Printf)
	if err != nil {
		return nil, fmt.Errorf("--metrics %w", err)
	}
	l, err := net.Listen("tcp", m.listen)
	if err != nil {
		sqlc.Close()
		return nil, fmt.Errorf("--listen: %w", err)
	}
	return &metricsServer{flags: m, l: metrics.LimitConnections(l, m.maxConnections), sql: sqlc}, nil
}

// serve starts the SQL-defined metrics that run on an interval and answers scrapes of ix and
// w until ctx ends; the channel says why serving stopped.
func (s *metricsServer) serve(ctx context.Context, ix *index.Index, w *index.Watcher, logger *log.Logger) <-chan error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(ctx, ix, metrics.Options{
		TopDomains: s.flags.deferredDomains, Watcher: w, Logf: logger.Printf}))
	s.sql.Start(ctx)
	reg.MustRegister(s.sql)
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	slogger := slog.New(slog.NewTextHandler(logger.Writer(), nil))
	logger.Printf("serving metrics at %s/metrics", s.l.Addr())
	done := make(chan error, 1)
	go func() { done <- metrics.Serve(ctx, s.l, metrics.Handler(reg, logger), s.flags.webConfig, slogger) }()
	return done
}

func (s *metricsServer) close() {
	s.l.Close()
	s.sql.Close()
}
