package spoolgen

import (
	"testing"

	"github.com/mqsql/mqsql/spool/postfix"
)

// The IDs of real Postfix 3.7 queue files (docs/postfix-spool.md §4.2), with the time and
// inode number they were made from, as stat and the T record showed.
func TestQueueIDs(t *testing.T) {
	tests := []struct {
		sec, usec int64
		inode     uint64
		long      string
		short     string
		hash      string
	}{
		{1795865417, 213962, 4451551, "4jc7PP1W6fzdXSJ", "343CA43ECDF", "3"},
		{1795865448, 661230, 4456425, "4jc7Q04hWyzdZKs", "A16EE43FFE9", "A"},
		{1795865507, 639177, 4456432, "4jc7R74XMszdZL1", "9C0C943FFF0", "9"},
	}
	for _, tt := range tests {
		if got := LongID(tt.sec, tt.usec, tt.inode); got != tt.long {
			t.Errorf("LongID(%d, %d, %d) = %s, want %s", tt.sec, tt.usec, tt.inode, got, tt.long)
		}
		if got := ShortID(tt.usec, tt.inode); got != tt.short {
			t.Errorf("ShortID(%d, %d) = %s, want %s", tt.usec, tt.inode, got, tt.short)
		}
		for _, id := range []struct {
			id   string
			long bool
		}{{tt.long, true}, {tt.short, false}} {
			if got := hashDirs(hashKey(id.id, id.long, tt.usec), 1); got != tt.hash+"/" {
				t.Errorf("hash directory of %s = %q, want %q", id.id, got, tt.hash+"/")
			}
		}
	}
}

// TestPathsAgreeWithReader checks the generator files IDs where mqsql's reader (and so
// Postfix) looks for them, at several hash depths and for both ID formats.
func TestPathsAgreeWithReader(t *testing.T) {
	for _, depth := range []int{1, 2, 3} {
		opt := &Options{HashQueueNames: []string{"deferred", "defer"}, HashQueueDepth: depth}
		w := &diskWriter{opt: opt}
		cfg := postfix.Config{HashQueueNames: opt.HashQueueNames, HashQueueDepth: depth}
		for i := range 200 {
			m := &Message{Queue: "deferred", LongID: i%2 == 0, IDSec: 1795865417 + int64(i), IDUsec: int64(i * 4999 % 1000000)}
			w.name(m, uint64(4451551+i*7919))
			if want := cfg.RelPath("deferred", m.QueueID); m.Path != want {
				t.Fatalf("depth %d: %s filed at %s, the reader looks at %s", depth, m.QueueID, m.Path, want)
			}
			if !postfix.ValidQueueID(m.QueueID) || postfix.IsLongQueueID(m.QueueID) != m.LongID {
				t.Fatalf("%s: valid %v, long %v, want long %v", m.QueueID, postfix.ValidQueueID(m.QueueID), postfix.IsLongQueueID(m.QueueID), m.LongID)
			}
		}
	}
}
