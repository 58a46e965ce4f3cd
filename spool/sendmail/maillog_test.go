package sendmail_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/internal/logtest"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// TestLogParserGolden reads what the real Sendmail 8.17 logged through Debian's rsyslog
// (RFC 3339 stamps, its default): submissions (stat=queued, kept out), a deferral, a queue
// run against a scripted peer answering 250, 452 and 550 per recipient, a recipient list on
// one to= line, a display name, and the bounce's local failures.
func TestLogParserGolden(t *testing.T) {
	p := (&sendmail.Driver{}).LogParser(mqsql.LogDating{Loc: time.UTC})
	golden.Check(t, "maillog/mail.log", logtest.Render(t, p, "testdata/maillog/mail.log"))
}

// TestLogParserLines covers the classic stamp, an SMTP arrival with its client and AUTH
// line, an expiry and broken lines.
func TestLogParserLines(t *testing.T) {
	for _, tc := range []struct {
		name, line, want string
		bad              bool
	}{
		{"smtp arrival", `Dec  7 23:25:48 mx sm-mta[9]: 6B7NPmCG001646: from=<a@b.example>, size=14, class=0, nrcpts=2, msgid=<x@y>, proto=ESMTPA, daemon=MTA, relay=client.example [192.0.2.7]`,
			`message time=1796685948 queue_id=6B7NPmCG001646 host="mx" sender="a@b.example" size=14 nrcpt=2 client_address="192.0.2.7" message_id="<x@y>"`, false},
		{"auth", `Dec  7 23:25:48 mx sm-mta[9]: 6B7NPmCG001646: AUTH=server, relay=client.example [192.0.2.7], authid=hijacked, mech=PLAIN, bits=0`,
			`message time=1796685948 queue_id=6B7NPmCG001646 host="mx" sasl_username="hijacked"`, false},
		{"expired", `Dec  7 23:25:48 mx sm-mta[9]: 6B7NPmCG001646: to=<a@b.example>, delay=5+00:00:01, xdelay=00:00:00, mailer=esmtp, pri=1, relay=mx.b.example., dsn=4.4.7, stat=Deferred: Connection timed out`,
			`delivery time=1796685948 queue_id=6B7NPmCG001646 host="mx" status=expired recipient="a@b.example" relay="mx.b.example." delay=432001 dsn="4.4.7" response="Deferred: Connection timed out"`, false},
		{"no stat", `Dec  7 23:25:48 mx sm-mta[9]: 6B7NPmCG001646: to=<a@b.example>, delay=00:00:01`, ``, true},
		{"unknown stat", `Dec  7 23:25:48 mx sm-mta[9]: 6B7NPmCG001646: to=<a@b.example>, delay=00:00:01, stat=Something`, ``, true},
		{"other program", `Dec  7 23:25:48 mx postfix/smtp[9]: 6B7NPmCG001646: to=<a@b.example>, status=sent (x)`, ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := (&sendmail.Driver{}).LogParser(mqsql.LogDating{Ref: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)})
			recs, err := p.Parse([]byte(tc.line), nil)
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
