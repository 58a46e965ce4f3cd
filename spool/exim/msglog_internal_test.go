package exim

import "testing"

// TestParseMsglog reads defer lines in the forms Exim 4.96 writes them (the first two are
// from the sample msglogs; the remote replies follow smtp.c's wording, since no test may run
// a server that gives one): the message, else the error text; the remote reply and its DSN
// code when there is one; the last line of an address wins; other addresses are ignored.
func TestParseMsglog(t *testing.T) {
	log := `2026-12-01 19:53:08.927 Received from alice@mqsql.test U=root P=local S=329 M8S=0 RT=0.001s id=partial-1@mqsql.test
2026-12-01 19:53:08.957 H=127.0.0.1 [127.0.0.1]:2599 Connection refused
2026-12-01 19:53:08.960 b@remote.test R=closed T=t_closed defer (111): Connection refused DT=0.000s
2026-12-01 19:53:09.196 alice@mqsql.test R=closed T=t_closed defer (-54) DT=0.000s: retry time not reached for any host for 'mqsql.test'
2026-12-01 19:54:00.100 b@remote.test R=closed T=t_closed defer (-44) H=mx.remote.test [192.0.2.25]:25 DT=0.2s: SMTP error from remote mail server after RCPT TO:<b@remote.test>: 451 4.7.1 Greylisted, try again later
2026-12-01 19:54:00.200 "q sp"@remote.test <parent@remote.test> R=closed T=t_closed defer (-46) H=mx.remote.test [192.0.2.25]:25: SMTP error from remote mail server after end of data: 452 Mailbox full
2026-12-01 19:54:00.300 other@remote.test R=closed T=t_closed defer (111): Connection refused
*** Frozen (delivery error message)
`
	wanted := map[string]bool{"b@remote.test": true, "alice@mqsql.test": true, `"q sp"@remote.test`: true}
	ml := parseMsglog([]byte(log), func(a string) bool { return wanted[a] }, 10)
	want := map[string]deferral{
		"b@remote.test":      {reason: "SMTP error from remote mail server after RCPT TO:<b@remote.test>: 451 4.7.1 Greylisted, try again later", diag: "451 4.7.1 Greylisted, try again later", dsn: "4.7.1"},
		"alice@mqsql.test":   {reason: "retry time not reached for any host for 'mqsql.test'"},
		`"q sp"@remote.test`: {reason: "SMTP error from remote mail server after end of data: 452 Mailbox full", diag: "452 Mailbox full"},
	}
	if len(ml.defers) != len(want) {
		t.Errorf("deferrals for %d addresses, want %d: %+v", len(ml.defers), len(want), ml.defers)
	}
	for a, w := range want {
		if got := ml.defers[a]; got != w {
			t.Errorf("%s:\n got %+v\nwant %+v", a, got, w)
		}
	}
	if ml.frozen != "delivery error message" {
		t.Errorf("frozen reason %q", ml.frozen)
	}
	first := parseMsglog([]byte(log), func(a string) bool { return a == "b@remote.test" }, 10)
	if first.defers["b@remote.test"].diag == "" {
		t.Errorf("the last line of an address must win")
	}
}
