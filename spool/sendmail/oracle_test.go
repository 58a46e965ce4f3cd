package sendmail_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/sendmailtest"
)

// oracleMessages is the population of TestOracleMailq: the 2,000, which a real
// Sendmail queues here in about ten seconds. MQSQL_SENDMAIL_MESSAGES overrides it.
const oracleMessages = 2000

func populationSize(t *testing.T) int {
	if v := os.Getenv("MQSQL_SENDMAIL_MESSAGES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("MQSQL_SENDMAIL_MESSAGES=%q", v)
		}
		return n
	}
	return oracleMessages
}

// TestOracleMailq fills a real Sendmail queue with varied mail and checks that every message
// and recipient mailq lists (sendmail -bp -v, -bp -v -qQ, -bp -v -qL) is what the driver
// reads, with equal ID, size, time, sender, recipients and delay reasons, in the queue its
// file and attempts put it, and that the driver reads nothing else.
func TestOracleMailq(t *testing.T) {
	oracle(t, populationSize(t), false)
}

// TestOracleSubdirectories is TestOracleMailq on a queue with qf/, df/ and xf/
// subdirectories, a smaller population.
func TestOracleSubdirectories(t *testing.T) {
	oracle(t, 200, true)
}

func oracle(t *testing.T, n int, subdirs bool) {
	sm := sendmailtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if subdirs {
		if err := sm.UseSubdirectories(); err != nil {
			t.Fatal(err)
		}
	}
	pop, err := sm.Populate(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := sm.MailqAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := readAll(t, sm.Queue)
	took := time.Since(start)
	agree, rcpts, nullSender, tempfail, subjects := 0, 0, 0, 0, 0
	queues := map[mqsql.Queue]int{}
	for _, l := range listed {
		m := got[l.ID]
		if m == nil {
			t.Errorf("%s: listed by mailq, not read", l.ID)
			continue
		}
		delete(got, l.ID)
		queues[m.Queue]++
		diff := sendmailtest.Compare(l, sendmailtest.Read{ID: m.QueueID, Size: m.Size, Arrival: m.ArrivalTime,
			Sender: m.Sender, Recipients: recipients(m), Reasons: reasons(m)}, true)
		if q := expectedQueue(l); q != m.Queue {
			diff += " queue " + string(m.Queue) + ", want " + string(q)
		}
		if want, ok := sendmailtest.ExpectedSubject(m.MessageID); ok && m.Subject != want {
			diff += fmt.Sprintf(" subject %q, want %q", m.Subject, want)
		} else if ok {
			subjects++
		}
		if subdirs && !strings.HasPrefix(m.File.Path, "qf/") {
			diff += " path " + m.File.Path + ", want it in qf/"
		}
		if diff != "" {
			t.Errorf("%s: %s", l.ID, diff)
			continue
		}
		agree++
		rcpts += len(l.Recipients)
		if m.Sender == "" {
			nullSender++
		}
		for _, r := range m.Recipients {
			if r.DSNStatus == "4.2.2" && r.DiagText != "" {
				tempfail++
			}
		}
	}
	for id := range got {
		t.Errorf("%s: read, but mailq does not list it", id)
	}
	t.Logf("population: %d submitted in %v; mailq lists %d messages, %d agree (%d recipients, %d null senders, %d recipients deferred by 452, %d subjects as written); read in %v; queues %v",
		pop.Submitted, pop.Took.Round(time.Millisecond), len(listed), agree, rcpts, nullSender, tempfail, subjects, took.Round(time.Millisecond), sortedCounts(queues))
	if nullSender == 0 || tempfail == 0 || subjects < n/2 {
		t.Error("the population lacks null-sender mail, per-recipient 452 replies or subjects to compare")
	}
	for _, q := range []mqsql.Queue{mqsql.Incoming, mqsql.Deferred, mqsql.Hold, mqsql.Corrupt} {
		if queues[q] == 0 {
			t.Errorf("the population has no %s mail", q)
		}
	}
}

// expectedQueue is the queue mailq's listing implies: -qL's '?' lost, the quarantine line
// hold, a status line (written by a queue run) deferred, else incoming.
func expectedQueue(l sendmailtest.Listed) mqsql.Queue {
	switch {
	case l.Status == '?':
		return mqsql.Corrupt
	case l.Quarantine != "":
		return mqsql.Hold
	case l.Status == '*':
		return mqsql.Active
	case l.Message != "":
		return mqsql.Deferred
	}
	return mqsql.Incoming
}

func sortedCounts(m map[mqsql.Queue]int) []string {
	var out []string
	for q, n := range m {
		out = append(out, string(q)+"="+strconv.Itoa(n))
	}
	sort.Strings(out)
	return out
}
