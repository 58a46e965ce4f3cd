package maillog_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/maillog"
	"github.com/mqsql/mqsql/spool/exim"
	"github.com/mqsql/mqsql/spool/postfix"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// testNow is the day the testdata logs were written after (December 2026).
var testNow = time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)

// mtas are the three drivers with a real log of theirs and how many delivery rows and
// log_messages rows it holds (counted by hand from the log: status= / =>, ->, ==, ** lines;
// distinct queue IDs of the message lines).
var mtas = []struct {
	name       string
	lr         mqsql.LogReader
	file       string
	deliveries int
	messages   int
}{
	{"postfix", &postfix.Driver{}, "../spool/postfix/testdata/maillog/postfix.log", 9, 9},
	{"exim", &exim.Driver{}, "../spool/exim/testdata/maillog/mainlog", 12, 24},
	{"sendmail", &sendmail.Driver{}, "../spool/sendmail/testdata/maillog/mail.log", 11, 5},
}

func newReader(t *testing.T, lr mqsql.LogReader) (*maillog.Reader, *index.Index) {
	t.Helper()
	ix, err := index.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return &maillog.Reader{DB: ix.DB(), Parser: lr.LogParser, Loc: time.UTC, Clock: mqsql.FixedClock(testNow)}, ix
}

func count(t *testing.T, ix *index.Index, query string) int {
	t.Helper()
	var n int
	if err := ix.DB().QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReadEachMTA reads each MTA's real log twice: the rows are what the log says, once.
func TestReadEachMTA(t *testing.T) {
	for _, m := range mtas {
		t.Run(m.name, func(t *testing.T) {
			if _, err := os.Stat(m.file); err != nil {
				t.Fatal(err)
			}
			r, ix := newReader(t, m.lr)
			for range 2 {
				if _, err := r.ReadFiles(context.Background(), []string{copyOf(t, m.file)}); err != nil {
					t.Fatal(err)
				}
			}
			d, msgs := count(t, ix, "SELECT count(*) FROM deliveries"), count(t, ix, "SELECT count(*) FROM log_messages")
			if m.deliveries >= 0 && (d != m.deliveries || msgs != m.messages) {
				t.Errorf("deliveries %d, log_messages %d; want %d, %d", d, msgs, m.deliveries, m.messages)
			}
			if d == 0 || msgs == 0 {
				t.Errorf("deliveries %d, log_messages %d: the log holds both", d, msgs)
			}
		})
	}
}

// copyOf copies a testdata file into a folder of the test's own, keeping its mtime (which
// dates stamps without a year), so that the test may rotate and truncate it.
func copyOf(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "mail.log")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, data)
	return dst
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, testNow, testNow); err != nil {
		t.Fatal(err)
	}
}

var statusLine = regexp.MustCompile(`(?m)(, status=(sent|deferred|bounced|expired|force-expired))`)

// halves splits the Postfix log in two at a line boundary.
func halves(t *testing.T) (all, first, second []byte, statuses int) {
	all, err := os.ReadFile(mtas[0].file)
	if err != nil {
		t.Fatal(err)
	}
	cut := bytes.IndexByte(all[len(all)/2:], '\n') + len(all)/2 + 1
	return all, all[:cut], all[cut:], len(statusLine.FindAll(all, -1))
}

// TestRotation reads a log, has it renamed (logrotate's create) and a new one started, and
// reads again with --log-history 1; then the rotated file is compressed and read again: every
// status= line is one row, none twice.
func TestRotation(t *testing.T) {
	_, first, second, statuses := halves(t)
	r, ix := newReader(t, &postfix.Driver{})
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	writeFile(t, log, first)
	read(t, r, log, 1)
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, log, second)
	read(t, r, log, 1)
	if got := count(t, ix, "SELECT count(*) FROM deliveries"); got != statuses {
		t.Fatalf("after rotation: %d deliveries, want %d", got, statuses)
	}
	gz(t, log+".1")
	read(t, r, log, 1)
	if got := count(t, ix, "SELECT count(*) FROM deliveries"); got != statuses {
		t.Fatalf("after compression: %d deliveries, want %d", got, statuses)
	}
}

// TestCopytruncate has the log copied to FILE.1 and truncated in place (logrotate's
// copytruncate) between two reads, with lines written after the first read.
func TestCopytruncate(t *testing.T) {
	all, first, second, statuses := halves(t)
	r, ix := newReader(t, &postfix.Driver{})
	log := filepath.Join(t.TempDir(), "mail.log")
	mid := bytes.IndexByte(second, '\n') + 1
	writeFile(t, log, first)
	read(t, r, log, 1)
	writeFile(t, log+".1", all[:len(first)+mid]) // one more line was written before the copy
	writeFile(t, log, second[mid:])
	read(t, r, log, 1)
	if got := count(t, ix, "SELECT count(*) FROM deliveries"); got != statuses {
		t.Fatalf("%d deliveries, want %d", got, statuses)
	}
}

// TestRotatedNotReadUnlessAsked: without --log-history, FILE.1 is not read.
func TestRotatedNotReadUnlessAsked(t *testing.T) {
	_, first, second, _ := halves(t)
	r, ix := newReader(t, &postfix.Driver{})
	log := filepath.Join(t.TempDir(), "mail.log")
	writeFile(t, log+".1", first)
	writeFile(t, log, second)
	read(t, r, log, 0)
	want := len(statusLine.FindAll(second, -1))
	if got := count(t, ix, "SELECT count(*) FROM deliveries"); got != want {
		t.Fatalf("%d deliveries, want %d (the current file's only)", got, want)
	}
}

// TestUnreadableCounted: a broken line of the MTA's and an over-long line are counted and
// kept out; the lines around them are read.
func TestUnreadableCounted(t *testing.T) {
	_, first, _, _ := halves(t)
	r, ix := newReader(t, &postfix.Driver{})
	log := filepath.Join(t.TempDir(), "mail.log")
	bad := []byte("Dec 07 23:17:34 mqsql postfix/smtp[1]: 4jjygL33fQz5cZK: to=<a@b>, relay=none, delay=0\n")
	long := append(bytes.Repeat([]byte("x"), 100<<10), '\n')
	writeFile(t, log, append(append(append([]byte{}, bad...), long...), first...))
	st, err := r.ReadFiles(context.Background(), []string{log})
	if err != nil {
		t.Fatal(err)
	}
	if st.Unreadable != 2 || st.Long != 1 {
		t.Errorf("unreadable %d, long %d; want 2 (one long), 1", st.Unreadable, st.Long)
	}
	if got := count(t, ix, "SELECT sum(unreadable) FROM log_positions"); got != 2 {
		t.Errorf("log_positions.unreadable %d, want 2", got)
	}
	if got, want := count(t, ix, "SELECT count(*) FROM deliveries"), len(statusLine.FindAll(first, -1)); got != want {
		t.Errorf("%d deliveries, want %d", got, want)
	}
}

func read(t *testing.T, r *maillog.Reader, log string, history int) {
	t.Helper()
	s, err := maillog.Resolve(context.Background(), []string{log}, history, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadFiles(context.Background(), s.Files); err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write(data)
	z.Close()
	writeFile(t, path+".gz", b.Bytes())
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
