package exim_test

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/mqsql/mqsql/internal/testindex"
	"os"
	"path/filepath"
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
			thawAndRefreeze(t, e)
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
			compareListing(t, e.Spool, "exim -bpu", bpu, pendingOnly(inDefault), before, after)
			compareListing(t, e.Spool, "exim -bp", bp, inDefault, before, after)
			compareListing(t, e.Spool, "exim -qGslowq -bp", slowq, inSlowq, before, after)
			checkAuth(t, msgs)
			checkVariety(t, msgs)
			checkFrozenReasons(t, openSpool(t, e.Spool))
			checkEximColumns(t, e, openSpool(t, e.Spool), bp, slowq)
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

// compareListing checks that listing and read (of the spool in dir) hold the same messages,
// equal in every field exim -bp shows.
func compareListing(t *testing.T, dir, what string, listing []eximtest.Message, read map[string]*mqsql.Message, before, after int64) {
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
		if got := fromDriver(t, dir, m, want.Age, before, after); fmt.Sprint(got) != fmt.Sprint(want) {
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

// fromDriver renders m, of the spool in dir, as exim -bp lists it; the age is the listing's
// when m's arrival time gives that age at some moment while exim -bp ran. A message with an
// error gets Exim's spool format error line, with its -H's size.
func fromDriver(t *testing.T, dir string, m *mqsql.Message, listedAge string, before, after int64) eximtest.Message {
	age := eximtest.FormatAge(before - m.ArrivalTime)
	if eximtest.FormatAge(after-m.ArrivalTime) == listedAge {
		age = listedAge
	}
	got := eximtest.Message{Age: age, Size: eximtest.FormatSize(m.Size), ID: m.QueueID, Sender: m.Sender, Frozen: m.Queue == mqsql.Hold}
	if m.Error != "" {
		st, err := os.Stat(filepath.Join(dir, m.File.Path))
		if err != nil {
			t.Fatal(err)
		}
		got.FormatError = fmt.Sprintf("*** spool format error: size=%d ***", st.Size())
	}
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

// thawAndRefreeze makes two more bounces that Exim freezes, thaws the first (exim -Mt) and
// thaws and freezes the second again (exim -Mt, -Mf) a second later: both keep the msglog
// line of the freeze Exim made, which is no longer why they are (or are not) frozen.
func thawAndRefreeze(t *testing.T, e *eximtest.Exim) {
	t.Helper()
	ids := e.FrozenByExim(t, 2)
	frozen := time.Now().Unix()
	for time.Now().Unix() <= frozen {
		time.Sleep(20 * time.Millisecond) // -Mf must set a -frozen time after the msglog's last write
	}
	e.MustRun(t, nil, "-Mt", ids[0], ids[1])
	e.MustRun(t, nil, "-Mf", ids[1])
}

// checkFrozenReasons checks that the bounces Exim froze itself come with its reason, and
// reads the time Exim froze them.
func checkFrozenReasons(t *testing.T, sp *exim.Spool) {
	t.Helper()
	reasons := 0
	err := sp.Walk(context.Background(), func(e mqsql.Entry) error {
		m, d, err := sp.ReadDetails(e, nil)
		if err != nil {
			return err
		}
		if strings.HasPrefix(m.Recipients[0].Address, "nobody") && d.FrozenReason != "" {
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

// checkEximColumns checks the Exim columns of an index of the spool against Exim: each
// message exim -qGslowq -bp lists has queue_name slowq and its files in slowq/input/, each
// message exim -bp lists has NULL. A held message's hold_reason is the reason of the last
// line of the main log that froze it, when Exim froze it ("ID Frozen (REASON)"), NULL when
// an admin did (exim -Mf: "ID frozen by root"), and its msglog has the same "*** Frozen
// (REASON)" line; a message not held has NULL, also after a thaw.
func checkEximColumns(t *testing.T, e *eximtest.Exim, sp *exim.Spool, bp, slowq []eximtest.Message) {
	t.Helper()
	type cols struct {
		queue, path  string
		name, reason sql.NullString
	}
	got := map[string]cols{}
	rows, err := testindex.Memory(t, sp).DB().Query(`SELECT queue_id, queue, path, queue_name, hold_reason FROM messages`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var c cols
		if err := rows.Scan(&id, &c.queue, &c.path, &c.name, &c.reason); err != nil {
			t.Fatal(err)
		}
		got[id] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, m := range slowq {
		if c := got[m.ID]; c.name != (sql.NullString{String: "slowq", Valid: true}) || !strings.HasPrefix(c.path, "slowq/input/") {
			t.Errorf("%s (exim -qGslowq -bp): queue_name %v, path %s", m.ID, c.name, c.path)
		}
	}
	for _, m := range bp {
		if c := got[m.ID]; c.name.Valid {
			t.Errorf("%s (exim -bp, the default queue): queue_name %q", m.ID, c.name.String)
		}
	}
	freezes := freezesInMainLog(e.MainLog())
	counts := map[string]int{}
	for id, c := range got {
		f, logged := freezes[id]
		want := sql.NullString{}
		switch {
		case c.queue == string(mqsql.Hold) && (!logged || !f.held):
			t.Errorf("%s is held, but the main log does not show it frozen (%+v)", id, f)
		case c.queue == string(mqsql.Hold):
			want = sql.NullString{String: f.reason, Valid: f.reason != ""}
			counts[fmt.Sprintf("held, reason %q", f.reason)]++
		case logged && f.held:
			t.Errorf("%s is %s, but the main log shows it frozen last (%+v)", id, c.queue, f)
		case logged:
			counts["thawed"]++
		}
		if c.reason != want {
			t.Errorf("%s (%s): hold_reason %v, want %v", id, c.queue, c.reason, want)
		}
		if want.Valid {
			msglog, err := os.ReadFile(filepath.Join(e.Spool, strings.Replace(filepath.Dir(c.path), "input", "msglog", 1), id))
			if err != nil || !strings.Contains(string(msglog), "\n*** Frozen ("+want.String+")\n") {
				t.Errorf("%s: msglog has no line for hold_reason %q (%v)", id, want.String, err)
			}
		}
	}
	t.Logf("hold_reason: %v", counts)
	if counts[`held, reason "delivery error message"`] == 0 || counts[`held, reason ""`] == 0 || counts["thawed"] == 0 {
		t.Errorf("the population lacks a kind of freeze: %v", counts)
	}
}

// mainLogFreeze matches a main log line that freezes or thaws a message: "ID Frozen
// (REASON)" when a delivery froze it, "ID frozen by USER" (exim -Mf), "ID unfrozen by USER"
// (exim -Mt) and "ID Unfrozen by forced delivery" (exim -M).
var mainLogFreeze = regexp.MustCompile(`^\S+ \S+ (?:\[\d+\] )?(\S+) (?:Frozen(?: \((.*)\))?|(frozen by |[Uu]nfrozen ).*)$`)

// freeze is what the main log says of a message's last freeze or thaw: whether it is
// frozen, and why: the reason of a delivery's freeze ("frozen" when it gave none), "" for an
// admin's.
type freeze struct {
	held   bool
	reason string
}

// freezesInMainLog returns the last freeze or thaw of every message the main log shows one
// of.
func freezesInMainLog(log string) map[string]freeze {
	out := map[string]freeze{}
	for _, line := range strings.Split(log, "\n") {
		m := mainLogFreeze.FindStringSubmatch(line)
		switch {
		case m == nil:
		case strings.HasPrefix(m[3], "frozen by"):
			out[m[1]] = freeze{held: true}
		case m[3] != "":
			out[m[1]] = freeze{}
		case m[2] == "":
			out[m[1]] = freeze{held: true, reason: "frozen"}
		default:
			out[m[1]] = freeze{held: true, reason: m[2]}
		}
	}
	return out
}
