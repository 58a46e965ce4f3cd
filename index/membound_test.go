package index_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/spoolgen"
	"github.com/mqsql/mqsql/spool/postfix"
)

// childEnv names the spool a re-executed test binary indexes (see TestMemoryBoundChild).
const childEnv = "MQSQL_MEMBOUND_SPOOL"

// memRow is what the child reports of one message.
type memRow struct {
	QueueID    string `json:"queue_id"`
	Error      string `json:"error"`
	Recipients int    `json:"recipients"`
	Deferred   int    `json:"deferred"`
}

// TestMemoryBoundChild is the indexer run in a subprocess by the memory tests: it indexes the
// spool childEnv names and prints one JSON row per message. It does nothing in a normal run.
func TestMemoryBoundChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("run by the memory-bound tests only")
	}
	cfg := postfix.DefaultConfig()
	cfg.QueueDirectory = dir
	sp, err := postfix.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	ix, err := index.Open(t.Context(), os.Getenv(childEnv+"_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Sync(t.Context(), sp); err != nil {
		t.Fatal(err)
	}
	rows, err := ix.DB().QueryContext(t.Context(), `SELECT m.queue_id, coalesce(m.error, ''),
		(SELECT count(*) FROM recipients r WHERE r.queue_id = m.queue_id),
		(SELECT count(*) FROM recipients r WHERE r.queue_id = m.queue_id AND r.delay_reason IS NOT NULL)
		FROM messages m ORDER BY m.queue_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	enc := json.NewEncoder(os.Stdout)
	for rows.Next() {
		var r memRow
		if err := rows.Scan(&r.QueueID, &r.Error, &r.Recipients, &r.Deferred); err != nil {
			t.Fatal(err)
		}
		fmt.Print("ROW ")
		enc.Encode(r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Println("HWM", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")))
		}
	}
}

// indexInChild indexes the spool at dir in a re-executed test binary and returns the rows it
// reports and its peak resident set size in bytes.
func indexInChild(t *testing.T, dir, db string) ([]memRow, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryBoundChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childEnv+"_DB="+db)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("indexer: %v\n%s", err, tail(out))
	}
	var rows []memRow
	var hwm int64 = -1
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if kb, ok := strings.CutPrefix(sc.Text(), "HWM "); ok {
			if hwm, err = strconv.ParseInt(kb, 10, 64); err != nil {
				t.Fatal(err)
			}
		}
		line, ok := strings.CutPrefix(sc.Text(), "ROW ")
		if !ok {
			continue
		}
		var r memRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if hwm < 0 {
		t.Fatalf("indexer reported no peak RSS:\n%s", tail(out))
	}
	return rows, hwm * 1024
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// writeQueueFile writes a held queue file with n recipients, each with its original address, into the spool at dir and, when
// logEntries > 0, a defer log of that many entries that all name its first recipient. It
// returns the queue ID.
func writeQueueFile(t *testing.T, dir string, seq uint64, n, logEntries int) string {
	t.Helper()
	m := &spoolgen.Message{
		QueueID:    spoolgen.ShortID(int64(seq), 0xA0000+seq),
		Kind:       spoolgen.Local,
		ArrivalSec: 1795865417,
		Sender:     "list-owner@example.test",
	}
	m.Recipients = make([]spoolgen.Recipient, n)
	for i := range m.Recipients {
		addr := "member" + strconv.Itoa(i) + "@list.example.test"
		m.Recipients[i] = spoolgen.Recipient{Address: addr, Orig: addr} // O and R, as smtpd writes them
	}
	data := spoolgen.Encode(m)
	first := m.Recipients[0].Offset
	m.Recipients = nil
	for _, q := range []string{"maildrop", "incoming", "active", "deferred", "hold", "defer"} {
		if err := os.MkdirAll(filepath.Join(dir, q), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "hold", m.QueueID)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o700); err != nil {
		t.Fatal(err)
	}
	if logEntries > 0 {
		writeRepeatedLog(t, dir, m.QueueID, first, logEntries)
	}
	return m.QueueID
}

// writeRepeatedLog writes a defer log of n entries, all about the first recipient.
func writeRepeatedLog(t *testing.T, dir, id string, offset int64, n int) {
	t.Helper()
	cfg := postfix.DefaultConfig()
	path := filepath.Join(dir, cfg.RelPath("defer", id))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		fmt.Fprintf(w, "\nrecipient=member0@list.example.test\noffset=%d\nstatus=4.4.1\naction=delayed\nreason=connect to list.example.test[192.0.2.1]:25: Connection refused (attempt %d)\n\n", offset, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// memoryBound is the peak RSS the indexer may reach on the spools of TestMemoryBound: the
// project's target for a whole 1,000,000-message queue with an index file
// (docs/BENCHMARKS.md). Before the recipient budget the same spools took 1,612 MB (one file
// of 1,000,000 recipients), 7,617 MB (four) and 1,025 MB (a 320 MB defer log); with it
// 126, 190 and 30 MB.
const memoryBound = 400 << 20

// TestMemoryBound indexes, in a subprocess, spools built to exhaust memory: queue files of a
// million recipients each, and a defer log of two million entries repeating one recipient.
// The indexer must stay under memoryBound and still list every message, the ones past a
// limit with an error saying which.
func TestMemoryBound(t *testing.T) {
	tests := []struct {
		name              string
		files, recipients int
		logEntries        int
		check             func(t *testing.T, rows []memRow)
	}{
		{"one file of 1,000,000 recipients", 1, 1000000, 0, func(t *testing.T, rows []memRow) {
			if r := rows[0]; !strings.Contains(r.Error, perMessageLimit) || r.Recipients != 100000 {
				t.Errorf("got %+v, want 100000 recipients and the error %q", r, perMessageLimit)
			}
		}},
		{"four files of 1,000,000 recipients", 4, 1000000, 0, checkRunBudget},
		{"defer log of 2,000,000 entries for one recipient", 1, 1, 2000000, func(t *testing.T, rows []memRow) {
			if r := rows[0]; r != (memRow{QueueID: r.QueueID, Recipients: 1, Deferred: 1}) {
				t.Errorf("got %+v, want 1 recipient, deferred, no error", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ids := map[string]bool{}
			for i := range tt.files {
				ids[writeQueueFile(t, dir, uint64(i+1), tt.recipients, tt.logEntries)] = true
			}
			rows, rss := indexInChild(t, dir, "")
			t.Logf("peak RSS %d MB", rss>>20)
			if rss > memoryBound {
				t.Errorf("peak RSS %d MB, want at most %d MB", rss>>20, memoryBound>>20)
			}
			for _, r := range rows {
				delete(ids, r.QueueID)
			}
			if len(rows) != tt.files || len(ids) > 0 {
				t.Fatalf("%d messages indexed, want %d; missing %v", len(rows), tt.files, ids)
			}
			tt.check(t, rows)
		})
	}
}

// The errors of messages past the limit per message and past the run's budget.
const (
	perMessageLimit = "more than 100000 recipients (mqsql's limit per message)"
	runLimit        = "once this run's budget of 300000 recipients for big messages was spent"
)

// checkRunBudget checks the rows of big messages a run's budget did not suffice for: the first
// three the readers reached have 100,000 recipients, the rest their first recipients, each
// with the error of the limit it hit.
func checkRunBudget(t *testing.T, rows []memRow) {
	full, big := 0, 0
	for _, r := range rows {
		big += r.Recipients - 100
		switch {
		case r.Recipients == 100000 && strings.Contains(r.Error, perMessageLimit):
			full++
		case r.Recipients < 100000 && strings.Contains(r.Error, runLimit):
		default:
			t.Errorf("got %+v, want the error of the limit it hit", r)
		}
	}
	if full != 3 || big != 300000 {
		t.Errorf("%d messages at the limit per message, %d recipients past the first 100 of each; want 3 and 300000: %+v", full, big, rows)
	}
}
