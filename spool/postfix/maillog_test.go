package postfix_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/internal/logtest"
	"github.com/mqsql/mqsql/spool/postfix"
)

// logRef dates the classic stamps of the testdata logs (written in December 2026).
var logRef = mqsql.LogDating{Ref: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}

// TestLogParserGolden reads lines the real Postfix wrote through maillog_file (postlogd):
// local delivery, remote deferral, force-expiry and its bounce, postsuper -d, a local bounce,
// SASL-authenticated submissions, and the lines that state nothing the tables keep.
func TestLogParserGolden(t *testing.T) {
	p := (&postfix.Driver{}).LogParser(logRef)
	golden.Check(t, "maillog/postfix.log", logtest.Render(t, p, "testdata/maillog/postfix.log"))
}

// TestLogParserLines covers what the real log above lacks: RFC 3339 stamps (syslog's
// high-precision format), syslog_name instances, orig_to, lmtp and virtual agents, a year
// boundary, and lines that are Postfix's but broken.
func TestLogParserLines(t *testing.T) {
	for _, tc := range []struct {
		name, line, want string
		bad              bool
	}{
		{"rfc3339 and instance", `2026-12-07T23:16:10.250000+01:00 mx1 postfix-out/smtp[77]: 4jjygL33fQz5cZK: to=<a@b.example>, orig_to=<alias@c.example>, relay=mx.b.example[192.0.2.5]:25, delay=1.5, delays=0.1/0/0.4/1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 123, thanks)`,
			`delivery time=1796681770.25 queue_id=4jjygL33fQz5cZK host="mx1" instance="postfix-out" status=sent recipient="a@b.example" orig_recipient="alias@c.example" relay="mx.b.example[192.0.2.5]:25" delay=1.5 dsn="2.0.0" response="250 2.0.0 Ok: queued as 123, thanks"`, false},
		{"submission syslog_name", `Dec  7 23:16:10 mx postfix/submission/smtpd[9]: 3F2A1B: client=unknown[198.51.100.7]:4242, sasl_method=LOGIN, sasl_username=hijacked@mqsql.test`,
			`message time=1796685370 queue_id=3F2A1B host="mx" instance="postfix" client_address="198.51.100.7" sasl_username="hijacked@mqsql.test"`, false},
		{"lmtp quoted recipient", `Dec 07 23:16:10 mx postfix/lmtp[9]: 3F2A1B: to=<"a, b"@d.example>, relay=lmtp[private/dovecot-lmtp], delay=0.2, delays=0/0/0/0.2, dsn=2.0.0, status=sent (250 2.0.0 <"a, b"@d.example> Saved)`,
			`delivery time=1796685370 queue_id=3F2A1B host="mx" instance="postfix" status=sent recipient="\"a, b\"@d.example" relay="lmtp[private/dovecot-lmtp]" delay=0.2 dsn="2.0.0" response="250 2.0.0 <\"a, b\"@d.example> Saved"`, false},
		{"last year", `Dec 31 23:59:59 mx postfix/virtual[9]: 3F2A1B: to=<v@d.example>, relay=virtual, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)`,
			`delivery time=1798761599 queue_id=3F2A1B host="mx" instance="postfix" status=sent recipient="v@d.example" relay="virtual" delay=0 dsn="2.0.0" response="delivered to maildir"`, false},
		{"verify probe kept out", `Dec 07 23:16:10 mx postfix/smtp[9]: 3F2A1B: to=<v@d.example>, relay=none, delay=0, delays=0/0/0/0, dsn=5.1.1, status=undeliverable (unknown)`, ``, false},
		{"no status", `Dec 07 23:16:10 mx postfix/smtp[9]: 3F2A1B: to=<v@d.example>, relay=none, delay=0`, ``, true},
		{"unknown status", `Dec 07 23:16:10 mx postfix/smtp[9]: 3F2A1B: to=<v@d.example>, relay=none, dsn=2.0.0, status=teleported (x)`, ``, true},
		{"other program", `Dec 07 23:16:10 mx dovecot: imap(a): Disconnected`, ``, false},
		{"NOQUEUE", `Dec 07 23:16:10 mx postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <x@y>: Relay access denied; from=<a@b> to=<x@y> proto=ESMTP helo=<h>`, ``, false},
		{"garbage", "\x00\xff not a line", ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := (&postfix.Driver{}).LogParser(mqsql.LogDating{Ref: time.Date(2027, 1, 1, 0, 0, 5, 0, time.UTC)})
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
