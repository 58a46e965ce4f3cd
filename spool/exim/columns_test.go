package exim_test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/testindex"
)

// Sample messages whose queue_name or hold_reason is set (testdata/exim/README.md).
const (
	namedQueueID   = "1xYTuY-0000CX-0y" // moved to slowq with exim -MG
	frozenByEximID = "1xYTuY-0000CO-0j" // a bounce Exim froze: "*** Frozen (delivery error message)"
	frozenByRootID = "1xYTuW-0000A1-2X" // frozen with exim -Mf, which writes no msglog line
)

// columnsOf reads the spool dir into an index and returns each message's queue, queue_name
// and hold_reason ("NULL" for NULL).
func columnsOf(t *testing.T, dir string) map[string][3]string {
	t.Helper()
	ix := testindex.Memory(t, openSpool(t, dir))
	rows, err := ix.DB().Query(`SELECT queue_id, queue, queue_name, hold_reason FROM messages`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string][3]string{}
	for rows.Next() {
		var id, queue string
		var name, reason sql.NullString
		if err := rows.Scan(&id, &queue, &name, &reason); err != nil {
			t.Fatal(err)
		}
		got[id] = [3]string{queue, orNULL(name), orNULL(reason)}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func orNULL(s sql.NullString) string {
	if !s.Valid {
		return "NULL"
	}
	return s.String
}

// TestQueueNameAndHoldReasonOfSamples checks the two Exim columns on the sample spools: the
// message in named queue slowq has queue_name slowq, the bounce Exim froze has its msglog's
// reason, the message an admin froze has none, and every other message has NULL in both.
func TestQueueNameAndHoldReasonOfSamples(t *testing.T) {
	want := map[string][3]string{
		namedQueueID:   {"incoming", "slowq", "NULL"},
		frozenByEximID: {"hold", "NULL", "delivery error message"},
		frozenByRootID: {"hold", "NULL", "NULL"},
	}
	n := 0
	for _, dir := range []string{"spool", "spool-split", "spool-extras"} {
		for id, got := range columnsOf(t, filepath.Join("testdata/exim", dir)) {
			n++
			w, special := want[id]
			if !special {
				w = [3]string{got[0], "NULL", "NULL"}
			}
			if got != w {
				t.Errorf("%s %s: queue, queue_name, hold_reason = %q, want %q", dir, id, got, w)
			}
		}
	}
	if n != 19 {
		t.Errorf("read %d messages, want the 19 of the samples", n)
	}
}

// TestHoldReasonBelongsToThePresentFreeze changes copies of the bounce Exim froze: its
// msglog's reason is the hold_reason only while the -frozen time is not later than the
// msglog's last write. Thawed, it has none; frozen again by an admin (exim -Mt, then -Mf,
// which rewrite only the -H) the msglog's reason is the thawed freeze's, and it has none
// either; a msglog line written after the freeze does not hide the reason.
func TestHoldReasonBelongsToThePresentFreeze(t *testing.T) {
	const frozenAt = 1796154790 // the sample's -frozen line
	at := func(sec int64) time.Time { return time.Unix(sec, 500_000_000) }
	tests := []struct {
		name       string
		frozenLine string // the -H's -frozen line after the change, "" for none
		msglogAt   time.Time
		want       [3]string
	}{
		{"as Exim froze it", "-frozen 1796154790\n", at(frozenAt), [3]string{"hold", "NULL", "delivery error message"}},
		{"msglog written later", "-frozen 1796154790\n", at(frozenAt + 60), [3]string{"hold", "NULL", "delivery error message"}},
		{"thawed", "", at(frozenAt), [3]string{"deferred", "NULL", "NULL"}},
		{"thawed and frozen by an admin", "-frozen 1796154800\n", at(frozenAt), [3]string{"hold", "NULL", "NULL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyMessage(t, "testdata/exim/spool", frozenByEximID)
			rewriteH(t, dir, frozenByEximID, "-frozen 1796154790\n", tt.frozenLine)
			if err := os.Chtimes(filepath.Join(dir, "msglog", frozenByEximID), tt.msglogAt, tt.msglogAt); err != nil {
				t.Fatal(err)
			}
			if got := columnsOf(t, dir)[frozenByEximID]; got != tt.want {
				t.Errorf("queue, queue_name, hold_reason = %q, want %q", got, tt.want)
			}
		})
	}
}

// rewriteH replaces old by new in the copy's -H of message id, as Exim rewrites a -H: a new
// file renamed over the old one.
func rewriteH(t *testing.T, dir, id, old, new string) {
	t.Helper()
	p := filepath.Join(dir, "input", id+"-H")
	data, err := os.ReadFile(p)
	if err != nil || !bytes.Contains(data, []byte(old)) {
		t.Fatalf("-H has no %q (%v)", old, err)
	}
	tmp := filepath.Join(dir, "input", "hdr."+id)
	if err := os.WriteFile(tmp, bytes.Replace(data, []byte(old), []byte(new), 1), 0o640); err != nil {
		t.Fatal(err)
	}
	mustRename(t, tmp, p)
}
