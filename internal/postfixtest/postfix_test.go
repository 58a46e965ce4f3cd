package postfixtest

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func byID(entries []Entry) map[string]Entry {
	m := map[string]Entry{}
	for _, e := range entries {
		m[e.QueueID] = e
	}
	return m
}

func TestInjectSettleAndRead(t *testing.T) {
	p := Require(t)
	ctx := testContext(t, 2*time.Minute)
	if err := p.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(p.QueueDir(), "deferred")); err != nil || !fi.IsDir() {
		t.Fatalf("QueueDir %q has no deferred directory: %v", p.QueueDir(), err)
	}

	c, err := p.Dial(ctx, "harness.client.test")
	if err != nil {
		t.Fatal(err)
	}
	nullID, err := c.Send(ctx, &Message{From: "", To: []string{"n1@remote.test"}, Body: []byte("bounce\n")})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	multiID, err := c.Send(ctx, &Message{
		From:   "multi@sender.test",
		To:     []string{"root@localhost", "m1@remote.test", "m2@example.net", `"q r"@example.org`},
		Header: []HeaderField{{"Subject", "multi"}},
		Body:   []byte("multi\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(ctx, SASLUsers[1], SASLPassword); err != nil {
		t.Fatal(err)
	}
	authID, err := c.Send(ctx, &Message{
		From:     "ütf8@sender.test",
		To:       []string{"плохой@remote.test"},
		SMTPUTF8: true,
		Header:   []HeaderField{{"Subject", "=?UTF-8?B?0J/RgNC40LLQtdGC?="}},
		Body:     []byte("authenticated\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Sendmail(ctx, []string{"-t", "-f", "local@sender.test"},
		[]byte("To: t1@remote.test\nCc: c1@example.net\nBcc: b1@example.org\nSubject: -t\n\nbody\n")); err != nil {
		t.Fatal(err)
	}
	if err := p.Settle(ctx); err != nil {
		t.Fatal(err)
	}

	// A subtest of the lock holder gets the same handle without deadlocking.
	t.Run("nested Require", func(t *testing.T) {
		if q := Require(t); q != p {
			t.Errorf("nested Require returned a different handle")
		}
	})

	entries, err := p.PostqueueJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Fatalf("postqueue -j lists %d messages, want 4: %+v", len(entries), entries)
	}
	ids := byID(entries)
	check := func(id, sender string, rcpts ...string) {
		t.Helper()
		e, ok := ids[id]
		if !ok {
			t.Errorf("message %s not listed", id)
			return
		}
		if e.QueueName != "deferred" || e.Sender != sender || e.ArrivalTime == 0 || e.MessageSize == 0 {
			t.Errorf("message %s = %+v, want deferred from %q", id, e, sender)
		}
		var got []string
		for _, r := range e.Recipients {
			got = append(got, r.Address)
			if !strings.Contains(r.DelayReason, "Connection refused") {
				t.Errorf("message %s recipient %s: delay reason %q", id, r.Address, r.DelayReason)
			}
		}
		// Defer-log order is the order in which deliveries failed, so compare as sets.
		sort.Strings(got)
		sort.Strings(rcpts)
		if strings.Join(got, ",") != strings.Join(rcpts, ",") {
			t.Errorf("message %s recipients %q, want %q", id, got, rcpts)
		}
	}
	check(nullID, "MAILER-DAEMON", "n1@remote.test")
	// root@localhost was delivered, so only the remote recipients remain.
	check(multiID, "multi@sender.test", "m1@remote.test", "m2@example.net", `"q r"@example.org`)
	check(authID, "ütf8@sender.test", "плохой@remote.test")
	var local *Entry
	for i := range entries {
		if entries[i].Sender == "local@sender.test" {
			local = &entries[i]
		}
	}
	if local == nil || len(local.Recipients) != 3 {
		t.Errorf("sendmail -t message: %+v, want 3 recipients", local)
	}

	out, err := p.Postcat(ctx, "-eq", authID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sasl_method=PLAIN", "sasl_username=" + SASLUsers[1], "helo_name=harness.client.test"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("postcat -eq %s lacks %q:\n%s", authID, want, out)
		}
	}

	if _, err := p.Postsuper(ctx, "-h", multiID); err != nil {
		t.Fatal(err)
	}
	out, err = p.Postqueue(ctx, "-p")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), multiID+"!") {
		t.Errorf("postqueue -p does not show %s as held:\n%s", multiID, out)
	}

	if err := p.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	entries, err = p.PostqueueJSON(ctx)
	if err != nil || len(entries) != 0 {
		t.Fatalf("after Reset: %d entries, err %v", len(entries), err)
	}
}

func TestSMTPSourceBulk(t *testing.T) {
	p := Require(t)
	ctx := testContext(t, 2*time.Minute)
	if err := p.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SMTPSource(ctx, "-s", "4", "-m", "40", "-r", "2", "-N", "-f", "load@sender.test",
		"-t", "load@remote.test", "-M", "load.test"); err != nil {
		t.Fatal(err)
	}
	if err := p.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	entries, err := p.PostqueueJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rcpts := 0
	for _, e := range entries {
		if e.Sender != "load@sender.test" {
			t.Errorf("unexpected sender %q", e.Sender)
		}
		rcpts += len(e.Recipients)
	}
	if len(entries) != 40 || rcpts != 80 {
		t.Errorf("got %d messages with %d recipients, want 40 with 80", len(entries), rcpts)
	}
	if err := p.Reset(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPopulation(t *testing.T) {
	p := Require(t)
	ctx := testContext(t, 5*time.Minute)
	if err := p.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 150
	m := p.Population(ctx, t, n)
	if m.Messages < n || m.Messages > n+n/10 {
		t.Errorf("Population(%d) sent %d messages", n, m.Messages)
	}
	entries, err := p.PostqueueJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != m.Messages {
		t.Fatalf("postqueue -j lists %d messages, manifest says %d", len(entries), m.Messages)
	}
	held, rcpts := 0, 0
	senders := map[string]int{}
	for _, e := range entries {
		if e.QueueName == "hold" {
			held++
		} else if e.QueueName != "deferred" {
			t.Errorf("message %s in %s after Settle", e.QueueID, e.QueueName)
		}
		rcpts += len(e.Recipients)
		senders[e.Sender]++
	}
	if held != m.Held || held < 2 {
		t.Errorf("%d held messages, manifest says %d", held, m.Held)
	}
	// Every recipient is pending except root@localhost of the partly delivered message.
	if rcpts != m.Recipients-m.PartlyDelivered {
		t.Errorf("%d pending recipients, manifest says %d sent with %d delivered", rcpts, m.Recipients, m.PartlyDelivered)
	}
	for s, want := range m.Senders {
		shown := s
		if s == "" {
			shown = "MAILER-DAEMON"
		}
		if senders[shown] != want {
			t.Errorf("sender %q: %d messages listed, %d sent", shown, senders[shown], want)
		}
	}
	ids := byID(entries)
	if e := ids[m.IDs["large"]]; e.MessageSize < 5<<20 {
		t.Errorf("large message %s has size %d", m.IDs["large"], e.MessageSize)
	}
	if e := ids[m.IDs["utf8"]]; e.Sender != popSenderUTF8 || len(e.Recipients) != 3 {
		t.Errorf("utf8 message = %+v", e)
	}
	if e := ids[m.IDs["quoted"]]; e.Sender != popSenderQuoted {
		t.Errorf("quoted message = %+v", e)
	}
	if m.NullSender < 1 || m.SMTPUTF8 < 1 || m.Authenticated < 3 || m.SMTPSource == 0 || m.Sendmail != 2 {
		t.Errorf("manifest lacks a case: %+v", m)
	}
	for _, k := range []string{"null", "partial", "large", "long-header", "rfc2047-b", "utf8", "quoted", "dsn",
		"auth-plain", "auth-login", "held", "sendmail-t", "sendmail"} {
		if _, ok := ids[m.IDs[k]]; !ok {
			t.Errorf("notable message %q (%s) not in the queue", k, m.IDs[k])
		}
	}
	out, err := p.Postcat(ctx, "-eq", m.IDs["auth-login"])
	if err != nil || !strings.Contains(string(out), "sasl_method=LOGIN") {
		t.Errorf("AUTH LOGIN message lacks sasl_method=LOGIN (err %v):\n%s", err, out)
	}
	if err := p.Reset(ctx); err != nil {
		t.Fatal(err)
	}
}
