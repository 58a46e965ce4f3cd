package exim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/internal/logtest"
	"github.com/mqsql/mqsql/spool/exim"
)

// TestLogParserGolden reads the mainlog the real Exim 4.96 wrote while the samples were made
// (/work/shared/exim-samples): arrivals local and over SMTP with AUTH, deliveries to file and
// pipe, deferrals, a failure, cancelled and completed messages, and lines about no message.
func TestLogParserGolden(t *testing.T) {
	p := (&exim.Driver{}).LogParser(mqsql.LogDating{Loc: time.UTC})
	golden.Check(t, "maillog/mainlog", logtest.Render(t, p, "testdata/maillog/mainlog"))
}

// TestLogParserLines covers what the sample lacks: log_timezone's zone, a remote delivery
// with its H= and C=, an expiry (retry timeout exceeded) and a delivery line without an
// address.
func TestLogParserLines(t *testing.T) {
	for _, tc := range []struct {
		name, line, want string
		bad              bool
	}{
		{"zone and remote delivery", `2026-12-01 19:53:08 +0100 [9] 1xYTuW-00009O-26 => bob@remote.test R=dnslookup T=remote_smtp H=mx.remote.test [192.0.2.25] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 2.0.0 Ok: queued as 4F2" QT=1m18s DT=0.5s`,
			`delivery time=1796151188 queue_id=1xYTuW-00009O-26 status=sent recipient="bob@remote.test" relay="mx.remote.test[192.0.2.25]" delay=78 response="250 2.0.0 Ok: queued as 4F2"`, false},
		{"expired", `2026-12-01 19:53:08 1xYTuW-00009O-26 ** bob@remote.test: retry timeout exceeded`,
			`delivery time=1796154788 queue_id=1xYTuW-00009O-26 status=expired recipient="bob@remote.test" response="retry timeout exceeded"`, false},
		{"no address", `2026-12-01 19:53:08 1xYTuW-00009O-26 => `, ``, true},
		{"not a message", `2026-12-01 19:53:08 Start queue run: pid=123`, ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := (&exim.Driver{}).LogParser(mqsql.LogDating{}).Parse([]byte(tc.line), nil)
			var lerr *mqsql.LogLineError
			if tc.bad != errors.As(err, &lerr) {
				t.Fatalf("error %v, want unreadable %v", err, tc.bad)
			}
			got := ""
			for _, r := range recs {
				got += logtest.Format(r)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
