package postfix_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mqsql/mqsql"
)

// TestCheck covers each reason a planned target must be left alone.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	for _, q := range []string{"hold", "active", "deferred/3"} {
		os.MkdirAll(filepath.Join(dir, q), 0o700)
	}
	file := func(rel string, arrival string) mqsql.Target {
		content := recs(rec('T', arrival+" 5"), rec('S', "a@x.test"), rec('M', ""), rec('X', ""), rec('E', ""))
		p := filepath.Join(dir, rel)
		if err := os.WriteFile(p, content, 0o700); err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		syscall.Stat(p, &st)
		q, id := filepath.Dir(rel), filepath.Base(rel)
		if q == "deferred/3" {
			q = "deferred"
		}
		return mqsql.Target{QueueID: id, Queue: mqsql.Queue(q), Inode: st.Ino, ArrivalTime: 1000, Path: rel}
	}
	sp := openSpool(t, dir)

	same := file("hold/4jc7PP1W6fzdXSJ", "1000")
	if why := sp.Check(same, false); why != "" {
		t.Errorf("unchanged file: %q", why)
	}
	reused := file("hold/4jc7Pl4JPWzdZKp", "1000")
	file("hold/4jc7Pl4JPWzdZKp", "2000") // rewritten in place: same inode, another arrival
	if why := sp.Check(reused, false); !strings.Contains(why, "replaced: arrival time") {
		t.Errorf("same inode, other arrival: %q", why)
	}
	moved := file("hold/4jc7Q04hWyzdZKs", "1000")
	os.Rename(filepath.Join(dir, moved.Path), filepath.Join(dir, "active", moved.QueueID))
	if why := sp.Check(moved, false); !strings.Contains(why, "moved to active") {
		t.Errorf("moved file: %q", why)
	}
	gone := file("hold/4jc7R74XMszdZL1", "1000")
	os.Remove(filepath.Join(dir, gone.Path))
	if why := sp.Check(gone, false); !strings.Contains(why, "gone") {
		t.Errorf("removed file: %q", why)
	}
	active := file("active/4jc7WC0jyrzdlqj", "1000")
	if why := sp.Check(active, false); !strings.Contains(why, "active") {
		t.Errorf("active file: %q", why)
	}
	if why := sp.Check(active, true); why != "" {
		t.Errorf("active file with includeActive: %q", why)
	}
	other := file("hold/4jc7X10sgpzdZKs", "1000")
	other.Inode++
	if why := sp.Check(other, false); !strings.Contains(why, "replaced: queue ID") {
		t.Errorf("other inode: %q", why)
	}
	bad := mqsql.Target{QueueID: "../../etc/passwd", Queue: mqsql.Hold, Path: "hold/../../etc/passwd"}
	if why := sp.Check(bad, false); !strings.Contains(why, "invalid target") {
		t.Errorf("invalid ID: %q", why)
	}
}
