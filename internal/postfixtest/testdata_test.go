package postfixtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestSpoolOracleConsistent guards the module's testdata: the oracle must describe exactly
// the complete (owner-executable) message files of testdata/spool, so that an edit of one
// without re-running testdata/capture-oracle.sh, or a checkout that lost the execute bits,
// is caught here rather than as a confusing reader-test failure.
func TestSpoolOracleConsistent(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	data, err := os.ReadFile(filepath.Join(root, "spool.postqueue.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParsePostqueueJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if !sort.SliceIsSorted(entries, func(i, j int) bool { return entries[i].QueueID < entries[j].QueueID }) {
		t.Error("oracle is not sorted by queue_id")
	}

	spool := filepath.Join(root, "spool")
	complete := map[string]string{} // queue ID → queue name
	logs := map[string]bool{}
	err = filepath.WalkDir(spool, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".gitkeep" {
			return err
		}
		rel, _ := filepath.Rel(spool, path)
		queue := strings.Split(rel, string(filepath.Separator))[0]
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch queue {
		case "defer":
			logs[d.Name()] = true
		case "maildrop", "incoming", "active", "deferred", "hold":
			if fi.Mode()&0o100 != 0 {
				if q, dup := complete[d.Name()]; dup {
					t.Errorf("queue ID %s is in both %s and %s", d.Name(), q, queue)
				}
				complete[d.Name()] = queue
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(complete) == 0 {
		t.Fatal("no executable queue files in testdata/spool: were the file modes lost?")
	}
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.QueueID] = true
		if q, ok := complete[e.QueueID]; !ok || q != e.QueueName {
			t.Errorf("oracle lists %s in %s; testdata/spool has it in %q", e.QueueID, e.QueueName, q)
		}
		reasons := false
		for _, r := range e.Recipients {
			reasons = reasons || r.DelayReason != ""
		}
		if reasons != logs[e.QueueID] {
			t.Errorf("%s: delay reasons %v but defer log present %v", e.QueueID, reasons, logs[e.QueueID])
		}
	}
	for id, q := range complete {
		if !seen[id] {
			t.Errorf("testdata/spool/%s has complete file %s that the oracle does not list", q, id)
		}
	}
}
