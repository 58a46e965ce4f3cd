package exim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/eximtest"
	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/internal/testindex"
)

// damagedShapes are the -H damages of issue 27, each made on a message the real Exim queued.
var damagedShapes = []struct {
	name   string
	freeze bool
	damage func(t *testing.T, e *eximtest.Exim, id string)
}{
	// Tried once (exim -M): deferred by "Connection refused", a reason without a status
	// code, so dsn_status is NULL.
	{"sound, tried", false, func(t *testing.T, e *eximtest.Exim, id string) { e.Run(nil, "-M", id) }},
	// X-Folded: ends " the year 2000\n": 15 bytes over leave that, which is no record to Exim;
	// 2 bytes over leave "0\n", a record of length 0 (back in step, no error). (The files
	// of testdata/exim/spool-damaged have the same damage in Received:, which ends in the time
	// of day: whether Exim gets back in step there depends on the hour.)
	{"folded 15 bytes over", false, func(t *testing.T, e *eximtest.Exim, id string) { e.WidenHeader(t, id, "X-Folded", 15) }},
	{"folded 2 bytes over", false, func(t *testing.T, e *eximtest.Exim, id string) { e.WidenHeader(t, id, "X-Folded", 2) }},
	{"frozen, folded 15 bytes over", true, func(t *testing.T, e *eximtest.Exim, id string) { e.WidenHeader(t, id, "X-Folded", 15) }},
	{"truncated by 20 bytes", false, func(t *testing.T, e *eximtest.Exim, id string) { e.TruncateH(t, id, 20) }},
}

// TestDamagedHeaderSection damages the header section of -H files the real Exim wrote and
// checks every message against exim -bp in the same run: listed where Exim lists it (never
// corrupt: Exim read the envelope), with exim -bp's age, size, sender, frozen mark and
// recipients, an error exactly where exim -bp prints "*** spool format error ***", and the
// intact -D as body(). The index's rows are kept in testdata/damaged-exim.golden.
func TestDamagedHeaderSection(t *testing.T) {
	e := eximtest.Require(t, false)
	names := map[string]string{}
	for i, s := range damagedShapes {
		id := e.SubmitMessage(t, []byte(eximtest.FoldedMessage), fmt.Sprintf("sender%d@mqsql.test", i), fmt.Sprintf("rcpt%d@remote.test", i))
		if s.freeze {
			e.MustRun(t, nil, "-Mf", id)
		}
		s.damage(t, e, id)
		names[id] = s.name
	}
	before := time.Now().Unix()
	bp := listBP(t, e, "-bp")
	after := time.Now().Unix()
	sp := openSpool(t, e.Spool)
	read := map[string]*mqsql.Message{}
	for _, m := range readAll(t, sp) {
		read[m.QueueID] = m
	}
	errors := 0
	for _, m := range bp {
		if m.FormatError != "" {
			errors++
		}
	}
	if errors != 3 || len(bp) != len(damagedShapes) {
		t.Fatalf("exim -bp lists %d messages, %d with a format error; the test expects 5 and 3:\n%v", len(bp), errors, bp)
	}
	compareListing(t, e.Spool, "exim -bp", bp, read, before, after)
	for id, name := range names {
		body, _, err := sp.Body(id, 100)
		if err != nil || string(body) != "body\n" {
			t.Errorf("%s: body %q, %v", name, body, err)
		}
	}
	golden.Check(t, "damaged-exim", testindex.Dump(t, testindex.Memory(t, sp).DB(), `
		SELECT m.queue_id, m.queue, m.size, m.sender, m.subject, m.error, r.address, r.domain,
		       r.delay_reason, r.dsn_status, body(m.queue_id) AS body
		FROM messages m JOIN recipients r USING (queue_id)`, names))
}
