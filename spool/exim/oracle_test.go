package exim_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/eximtest"
	"github.com/mqsql/mqsql/spool/exim"
)

// populationSize is how many messages the oracle test queues (MQSQL_EXIM_MESSAGES overrides).
func populationSize(t *testing.T) int {
	if s := os.Getenv("MQSQL_EXIM_MESSAGES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("MQSQL_EXIM_MESSAGES: %v", err)
		}
		return n
	}
	return 2000
}

// TestAgreesWithEximBP queues a varied population with the real Exim, flat and split, and
// checks that every message and recipient exim -bp (and -qGslowq -bp for the named queue)
// lists is what the driver reads, with equal ID, size, age, sender, frozen mark and
// recipients with their delivered marks, and that the driver reads nothing else.
func TestAgreesWithEximBP(t *testing.T) {
	for _, tt := range []struct {
		name  string
		split bool
		n     int
	}{{"flat", false, populationSize(t)}, {"split", true, max(populationSize(t)/10, 200)}} {
		t.Run(tt.name, func(t *testing.T) {
			e := eximtest.Require(t, tt.split)
			start := time.Now()
			e.Populate(t, tt.n)
			t.Logf("queued %d messages in %v", tt.n, time.Since(start).Round(time.Millisecond))
			before := time.Now().Unix()
			bp := listBP(t, e, "-bp")
			bpu := listBP(t, e, "-bpu")
			slowq := listBP(t, e, "-qGslowq", "-bp")
			count := strings.TrimSpace(e.MustRun(t, nil, "-bpc"))
			picked, pickedFrozen := e.Exipick(t, "-i"), e.Exipick(t, "-i", "-z")
			after := time.Now().Unix()
			readStart := time.Now()
			msgs := readAll(t, openSpool(t, e.Spool))
			t.Logf("the driver walked and read them in %v", time.Since(readStart).Round(time.Millisecond))
			inDefault, inSlowq := splitByQueue(msgs)
			if want := strconv.Itoa(len(inDefault)); count != want {
				t.Errorf("exim -bpc counts %s, the driver reads %s in the default queue", count, want)
			}
			compareIDs(t, "exipick -i", picked, inDefault, func(*mqsql.Message) bool { return true })
			compareIDs(t, "exipick -i -z", pickedFrozen, inDefault, func(m *mqsql.Message) bool { return m.Queue == mqsql.Hold })
			compareListing(t, "exim -bpu", bpu, pendingOnly(inDefault), before, after)
			compareListing(t, "exim -bp", bp, inDefault, before, after)
			compareListing(t, "exim -qGslowq -bp", slowq, inSlowq, before, after)
			checkAuth(t, msgs)
			checkVariety(t, msgs)
			checkFrozenReasons(t, openSpool(t, e.Spool))
			t.Logf("agree: %d messages, %d recipients (default queue %d, slowq %d)", len(bp)+len(slowq), countRecipients(bp)+countRecipients(slowq), len(bp), len(slowq))
		})
	}
}

// compareIDs checks that listed holds exactly the IDs of msgs for which want is true.
func compareIDs(t *testing.T, what string, listed []string, msgs map[string]*mqsql.Message, want func(*mqsql.Message) bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range listed {
		seen[id] = true
		if m := msgs[id]; m == nil || !want(m) {
			t.Errorf("%s lists %s, the driver does not", what, id)
		}
	}
	n := 0
	for id, m := range msgs {
		if want(m) {
			n++
			if !seen[id] {
				t.Errorf("the driver has %s, %s does not list it", id, what)
			}
		}
	}
	if n == 0 {
		t.Errorf("%s: nothing to compare", what)
	}
}

// pendingOnly is msgs with only their pending recipients, as exim -bpu lists them.
func pendingOnly(msgs map[string]*mqsql.Message) map[string]*mqsql.Message {
	out := map[string]*mqsql.Message{}
	for id, m := range msgs {
		c := *m
		c.Recipients = nil
		for _, r := range m.Recipients {
			if r.Status == mqsql.Pending {
				c.Recipients = append(c.Recipients, r)
			}
		}
		out[id] = &c
	}
	return out
}

func listBP(t *testing.T, e *eximtest.Exim, args ...string) []eximtest.Message {
	t.Helper()
	out := e.MustRun(t, nil, args...)
	msgs, err := eximtest.ParseBP(out)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func splitByQueue(msgs []*mqsql.Message) (def, slowq map[string]*mqsql.Message) {
	def, slowq = map[string]*mqsql.Message{}, map[string]*mqsql.Message{}
	for _, m := range msgs {
		if strings.HasPrefix(m.File.Path, "slowq/") {
			slowq[m.QueueID] = m
		} else {
			def[m.QueueID] = m
		}
	}
	return def, slowq
}

// compareListing checks that listing and read hold the same messages, equal in every field
// exim -bp shows.
func compareListing(t *testing.T, what string, listing []eximtest.Message, read map[string]*mqsql.Message, before, after int64) {
	t.Helper()
	bad := 0
	for _, want := range listing {
		m := read[want.ID]
		if m == nil {
			t.Errorf("%s lists %s, the driver does not", what, want.ID)
			bad++
			continue
		}
		delete(read, want.ID)
		if got := fromDriver(m, want.Age, before, after); fmt.Sprint(got) != fmt.Sprint(want) {
			if bad++; bad <= 10 {
				t.Errorf("%s:\n driver %v\n   exim %v", what, got, want)
			}
		}
	}
	for id := range read {
		t.Errorf("the driver reads %s, which %s does not list", id, what)
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d messages disagree", what, bad, len(listing))
	}
}

// fromDriver renders m as exim -bp lists it; the age is the listing's when m's arrival time
// gives that age at some moment while exim -bp ran.
func fromDriver(m *mqsql.Message, listedAge string, before, after int64) eximtest.Message {
	age := eximtest.FormatAge(before - m.ArrivalTime)
	if eximtest.FormatAge(after-m.ArrivalTime) == listedAge {
		age = listedAge
	}
	got := eximtest.Message{Age: age, Size: eximtest.FormatSize(m.Size), ID: m.QueueID, Sender: m.Sender, Frozen: m.Queue == mqsql.Hold}
	for _, r := range m.Recipients {
		mark := "  "
		if r.Status == mqsql.Done {
			mark = "D "
		}
		got.Recipients = append(got.Recipients, mark+r.Address)
	}
	return got
}

// checkAuth checks sasl_username against how each message was submitted: the SMTP login for
// sessions that authenticated (user<session>), nothing for local -t submissions, whose -H
// carries the local login as auth_id without -host_auth.
func checkAuth(t *testing.T, msgs []*mqsql.Message) {
	t.Helper()
	login := regexp.MustCompile(`^user\d+$`)
	authed := 0
	for _, m := range msgs {
		switch {
		case strings.HasPrefix(m.Sender, "local"):
			if m.SASLUsername != "" || m.ClientAddress != "" {
				t.Errorf("%s (local): sasl %q client %q", m.QueueID, m.SASLUsername, m.ClientAddress)
			}
		case m.SASLUsername != "":
			authed++
			if !login.MatchString(m.SASLUsername) || m.ClientAddress == "" {
				t.Errorf("%s: sasl %q client %q", m.QueueID, m.SASLUsername, m.ClientAddress)
			}
		}
	}
	if authed == 0 {
		t.Errorf("no message has a sasl_username")
	}
}

func countRecipients(msgs []eximtest.Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Recipients)
	}
	return n
}

// checkVariety checks that the population has every state the test is about, so that the
// agreement is not over mail of one kind only.
func checkVariety(t *testing.T, msgs []*mqsql.Message) {
	t.Helper()
	queues := map[mqsql.Queue]int{}
	done, deferred := 0, 0
	for _, m := range msgs {
		queues[m.Queue]++
		for _, r := range m.Recipients {
			if r.Status == mqsql.Done {
				done++
			}
			if r.DelayReason != "" {
				deferred++
			}
		}
	}
	t.Logf("queues %v; %d recipients done, %d with a delay reason", queues, done, deferred)
	if queues[mqsql.Incoming] == 0 || queues[mqsql.Deferred] == 0 || queues[mqsql.Hold] == 0 || done == 0 || deferred == 0 {
		t.Errorf("population lacks a state: queues %v, done %d, deferred %d", queues, done, deferred)
	}
}

// checkFrozenReasons checks that the bounces Exim froze itself come with its reason.
func checkFrozenReasons(t *testing.T, sp *exim.Spool) {
	t.Helper()
	reasons := 0
	err := sp.Walk(context.Background(), func(e mqsql.Entry) error {
		m, d, err := sp.ReadDetails(e, nil)
		if err != nil {
			return err
		}
		if strings.HasPrefix(m.Recipients[0].Address, "nobody") {
			if m.Queue != mqsql.Hold || d.FrozenSince == 0 || d.FrozenReason != "delivery error message" {
				t.Errorf("%s: queue %s, frozen %d (%q)", m.QueueID, m.Queue, d.FrozenSince, d.FrozenReason)
			}
			reasons++
		}
		return nil
	})
	if err != nil || reasons == 0 {
		t.Errorf("frozen bounces: %d (%v)", reasons, err)
	}
}
