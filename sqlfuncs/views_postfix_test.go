package sqlfuncs_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/postfixtest"
)

// TestQshapeViewsOnLiveQueue compares the qshape views with `qshape deferred`, `qshape hold`,
// their -s forms and plain `qshape` on the real queue of the test Postfix, filled with
// Population's mix (multi-recipient mail, the null sender, SMTPUTF8, quoted local parts, held
// mail), then again on a copy of that queue whose messages were given ages in every bucket.
func TestQshapeViewsOnLiveQueue(t *testing.T) {
	qshape := qshapeCmd(t)
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	m := pf.Population(ctx, t, 300)
	t.Logf("population: %d messages, %d recipients, %d held", m.Messages, m.Recipients, m.Held)

	// The live queue, with qshape finding it through postconf as an admin runs it. Postfix
	// may move mail while the index is built; then qshape's two looks differ and we look again.
	sets := [][]string{{"deferred"}, {"hold"}, {"incoming", "active"}}
	for attempt := 1; ; attempt++ {
		before := liveQshape(t, qshape, sets)
		db := openIndex(t, pf.QueueDir())
		got := map[string]figures{}
		for _, set := range sets {
			got[key(set, false)] = viewFigures(t, db, "qshape", set...)
			got[key(set, true)] = viewFigures(t, db, "qshape_senders", set...)
		}
		after := liveQshape(t, qshape, sets)
		if !reflect.DeepEqual(before, after) {
			if attempt == 5 {
				t.Fatal("the queue kept moving while it was indexed")
			}
			continue
		}
		for k, want := range before {
			if !reflect.DeepEqual(got[k], want) {
				t.Errorf("view differs from qshape %s:\n%s\nqshape:\n%s", k, show(got[k]), show(want))
			}
		}
		t.Logf("qshape deferred: %v; qshape -s deferred: %v", before["deferred"]["TOTAL"], before["-s deferred"]["TOTAL"])
		break
	}

	// A copy of the same queue, aged over every bucket.
	dir := t.TempDir()
	for _, q := range []string{"deferred", "hold", "defer"} {
		copyTree(t, filepath.Join(pf.QueueDir(), q), filepath.Join(dir, q))
	}
	for _, q := range []string{"maildrop", "incoming", "active"} {
		os.MkdirAll(filepath.Join(dir, q), 0o700)
	}
	spreadAges(t, dir, time.Now().Unix())
	compareQshape(t, qshape, openIndex(t, dir), dir)
}

func key(set []string, senders bool) string {
	k := ""
	if senders {
		k = "-s "
	}
	for i, q := range set {
		if i > 0 {
			k += " "
		}
		k += q
	}
	return k
}

// liveQshape runs qshape and qshape -s on each set of live queues.
func liveQshape(t *testing.T, qshape string, sets [][]string) map[string]figures {
	t.Helper()
	f := map[string]figures{}
	for _, set := range sets {
		f[key(set, false)] = runQshape(t, qshape, set...)
		f[key(set, true)] = runQshape(t, qshape, append([]string{"-s"}, set...)...)
	}
	return f
}

// copyTree copies the files below src to dst with their modes, which qshape and mqsql read.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() {
			return nil // moved meanwhile, or not a file
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		if err := os.WriteFile(target, b, 0o600); err != nil {
			return err
		}
		return os.Chmod(target, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
