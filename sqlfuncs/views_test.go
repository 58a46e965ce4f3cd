package sqlfuncs_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// qshapeCmd finds Postfix's qshape, or skips the test.
func qshapeCmd(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/qshape", "/usr/bin/qshape"} {
		if _, err := os.Stat(p); err == nil {
			if _, err := exec.LookPath("perl"); err == nil {
				return p
			}
		}
	}
	t.Skip("qshape (Postfix's perl script) is not installed")
	return ""
}

// figures are qshape's numbers by domain: the total, then one count per age bucket.
type figures map[string][]int64

// runQshape runs qshape on absolute queue directories and reads its table.
func runQshape(t *testing.T, qshape string, args ...string) figures {
	t.Helper()
	out, err := exec.Command(qshape, append([]string{"-w", "300"}, args...)...).Output()
	if err != nil {
		t.Fatalf("qshape %s: %v", strings.Join(args, " "), err)
	}
	f := figures{}
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if i == 0 {
			if len(fields) != 11 || fields[0] != "T" {
				t.Fatalf("qshape heading %q", line)
			}
			continue
		}
		if len(fields) != 12 {
			t.Fatalf("qshape line %q", line)
		}
		for _, v := range fields[1:] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("qshape line %q: %v", line, err)
			}
			f[fields[0]] = append(f[fields[0]], n)
		}
	}
	return f
}

// viewFigures reads a qshape view for the given queues, adding the queues up by domain as
// qshape does when given several.
func viewFigures(t *testing.T, db *sql.DB, view string, queues ...string) figures {
	t.Helper()
	rows, err := db.Query(`SELECT domain, total, "5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"
		FROM `+view+` WHERE queue IN (SELECT value FROM json_each(?))`, jsonList(queues))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	f := figures{}
	for rows.Next() {
		var domain string
		n := make([]int64, 11)
		if err := rows.Scan(&domain, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7], &n[8], &n[9], &n[10]); err != nil {
			t.Fatal(err)
		}
		if f[domain] == nil {
			f[domain] = make([]int64, 11)
		}
		for i := range n {
			f[domain][i] += n[i]
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return f
}

func jsonList(s []string) string {
	return `["` + strings.Join(s, `","`) + `"]`
}

// openIndex indexes the spool at dir.
func openIndex(t *testing.T, dir string) *sql.DB {
	t.Helper()
	return testindex.Memory(t, testspool.Open(t, dir)).DB()
}

// bucketAges are ages in the middle of each qshape bucket, far from the edges, so that the
// seconds between qshape's clock and the query's cannot move a message to another bucket.
var bucketAges = []int64{150, 450, 900, 1800, 3600, 7200, 14400, 28800, 57600, 200000}

// spreadAges gives the queue files below dir arrival times (their T record) spread over all
// buckets.
func spreadAges(t *testing.T, dir string, now int64) {
	t.Helper()
	i := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !postfix.ValidQueueID(d.Name()) {
			return err
		}
		if setArrival(t, path, now-bucketAges[i%len(bucketAges)]) {
			i++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// setArrival rewrites the seconds of the first T record of a queue file in place (same number
// of digits), keeping its mode and mtime. It reports whether the file had one in its first
// records.
func setArrival(t *testing.T, path string, sec int64) bool {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off, n := 0, 0; off < len(b) && n < 3; n++ {
		typ := b[off]
		length, shift, i := 0, 0, off+1
		for ; i < len(b); i++ {
			length |= int(b[i]&0x7f) << shift
			shift += 7
			if b[i]&0x80 == 0 {
				break
			}
		}
		data := i + 1
		if typ == 'T' {
			old, _, _ := bytes.Cut(b[data:data+length], []byte(" "))
			repl := strconv.FormatInt(sec, 10)
			if len(repl) != len(old) {
				t.Fatalf("%s: T record %q", path, old)
			}
			copy(b[data:], repl)
			if err := os.WriteFile(path, b, st.Mode().Perm()); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(path, st.ModTime(), st.ModTime())
			return true
		}
		off = data + length
	}
	return false
}

// TestQshapeViewsMatchQshape compares the qshape views with Postfix's qshape on a copy of the
// test spool whose messages were given ages in every bucket: qshape deferred, qshape hold,
// qshape -s for both, and qshape's default, the incoming and active queues together.
func TestQshapeViewsMatchQshape(t *testing.T) {
	qshape := qshapeCmd(t)
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	spreadAges(t, dir, time.Now().Unix())
	db := openIndex(t, dir)
	compareQshape(t, qshape, db, dir)
}

// compareQshape checks the views against qshape for the usual queue sets.
func compareQshape(t *testing.T, qshape string, db *sql.DB, dir string) {
	t.Helper()
	for _, queues := range [][]string{{"deferred"}, {"hold"}, {"incoming", "active"}, {"maildrop"}} {
		var paths []string
		for _, q := range queues {
			paths = append(paths, filepath.Join(dir, q))
		}
		for _, senders := range []bool{false, true} {
			args, view := paths, "qshape"
			if senders {
				if queues[0] == "maildrop" {
					continue // qshape -s counts postdrop files as MAILER-DAEMON, 1280+ (see the README)
				}
				args, view = append([]string{"-s"}, paths...), "qshape_senders"
			}
			want := runQshape(t, qshape, args...)
			got := viewFigures(t, db, view, queues...)
			t.Logf("qshape %s: %v", strings.Join(args, " "), want["TOTAL"])
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s for %v differs from qshape %s:\n%s\nqshape:\n%s", view, queues, strings.Join(args, " "), show(got), show(want))
			}
		}
	}
}

func show(f figures) string {
	var lines []string
	for d, n := range f {
		lines = append(lines, fmt.Sprintf("%25s %v", d, n))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
