package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// TestHandler checks the endpoint: read-only, the text format by default, OpenMetrics when
// the scraper asks for it.
func TestHandler(t *testing.T) {
	ix := sampleIndex(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(context.Background(), ix, metrics.Options{}))
	srv := httptest.NewServer(metrics.Handler(reg, nil))
	defer srv.Close()
	tests := []struct {
		method, path, accept string
		status               int
		contentType, body    string
	}{
		{"GET", "/metrics", "", 200, "text/plain; version=0.0.4", "mqsql_queue_messages{queue=\"deferred\"} 15\n"},
		{"GET", "/metrics", "application/openmetrics-text; version=1.0.0", 200, "application/openmetrics-text", "# EOF\n"},
		{"HEAD", "/metrics", "", 200, "text/plain", ""},
		{"POST", "/metrics", "", 405, "", "read-only"},
		{"PUT", "/metrics", "", 405, "", "read-only"},
		{"DELETE", "/metrics", "", 405, "", "read-only"},
		{"GET", "/", "", 200, "text/plain", "/metrics"},
		{"GET", "/debug/pprof/", "", 404, "", ""},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		if tt.accept != "" {
			req.Header.Set("Accept", tt.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode != tt.status || !strings.HasPrefix(ct, tt.contentType) || !strings.Contains(string(body), tt.body) {
			t.Errorf("%s %s (Accept %q): %d %q, body %.200q; want %d %q containing %q",
				tt.method, tt.path, tt.accept, resp.StatusCode, ct, body, tt.status, tt.contentType, tt.body)
		}
	}
}
