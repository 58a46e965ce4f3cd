package index

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestFindFilesWhileMessageMoves moves a message, while findFiles looks at one queue after
// another, from a queue it has not looked at yet into one it has (a release from hold into
// deferred, a retry from deferred into active, ...). The message is still queued, so findFiles
// must find it: a miss would drop its row and record that it left.
func TestFindFilesWhileMessageMoves(t *testing.T) {
	const id = "4jc86b0jCBz5bb9" // in hold in the sample spool
	tests := []struct {
		name     string
		from, to mqsql.Queue // where the message is at first, where it moves
		when     mqsql.Queue // it moves just before this queue is looked at ("" = at once)
		indexed  mqsql.Queue // where the index last saw it ("" = not indexed)
		hints    []string    // where events saw it, with the ID appended
	}{
		{name: "release", from: mqsql.Hold, to: mqsql.Deferred, when: mqsql.Hold, indexed: mqsql.Deferred},
		{name: "retry", from: mqsql.Hold, to: mqsql.Active, when: mqsql.Hold, indexed: mqsql.Deferred},
		{name: "requeue", from: mqsql.Hold, to: mqsql.Maildrop, when: mqsql.Hold, indexed: mqsql.Deferred},
		// New mail seen in active and deferred by qmgr before the event of the move arrives:
		// not a message that came and went.
		{name: "deferred before its event", from: mqsql.Hold, to: mqsql.Deferred, hints: []string{"incoming/", "active/"}},
		{name: "incoming to active while looking", from: mqsql.Incoming, to: mqsql.Active, when: mqsql.Incoming, hints: []string{"active/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testspool.Copy(t, testspool.Dir(t, "spool"))
			sp := testspool.Open(t, dir)
			cfg := sp.Config()
			at := func(q mqsql.Queue) string { return filepath.Join(dir, cfg.RelPath(string(q), id)) }
			for _, q := range []mqsql.Queue{tt.from, tt.to} {
				if err := os.MkdirAll(filepath.Dir(at(q)), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Rename(at(mqsql.Hold), at(tt.from)); err != nil {
				t.Fatal(err)
			}
			move := func() {
				if err := os.Rename(at(tt.from), at(tt.to)); err != nil {
					t.Fatal(err)
				}
			}
			moved := tt.when == ""
			if moved {
				move()
			}
			hooked := statHook{sp, func(q mqsql.Queue, id, rel string) (mqsql.Entry, bool, error) {
				if !moved && filepath.Join(dir, rel) == at(tt.when) {
					moved = true
					move()
				}
				return sp.Stat(q, id, rel)
			}}

			var rows []indexedFile
			if tt.indexed != "" {
				rows = []indexedFile{{queueID: id, queue: tt.indexed, path: cfg.RelPath(string(tt.indexed), id)}}
			}
			d := &dirtyID{}
			for _, h := range tt.hints {
				d.hints = append(d.hints, h+id)
			}
			files, err := findFiles(hooked, id, d, rows)
			if err != nil {
				t.Fatal(err)
			}
			if !moved {
				t.Fatal("the message was never moved: the test proves nothing")
			}
			if len(files) != 1 || files[0].entry.Queue != tt.to {
				t.Fatalf("found %d files %v, want the message in %s", len(files), files, tt.to)
			}
		})
	}
}

// TestRefreshFileMovesBeforeRead moves new mail from active into deferred between the lstat
// that finds it and the read, as qmgr does after a delivery attempt: the refresh must find
// it in deferred and record that it arrived there, not that it came and went.
func TestRefreshFileMovesBeforeRead(t *testing.T) {
	const held, id = "4jc86b0jCBz5bb9", "4jc86b0jCBz5bZZ"
	ctx := context.Background()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	sp := testspool.Open(t, dir)
	ix, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Sync(ctx, sp); err != nil {
		t.Fatal(err)
	}
	cfg := sp.Config()
	at := func(q mqsql.Queue) string { return filepath.Join(dir, cfg.RelPath(string(q), id)) }
	data, err := os.ReadFile(filepath.Join(dir, cfg.RelPath("hold", held)))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []mqsql.Queue{mqsql.Active, mqsql.Deferred} {
		if err := os.MkdirAll(filepath.Dir(at(q)), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(at(mqsql.Active), data, 0o700); err != nil {
		t.Fatal(err)
	}
	moved := false
	hooked := statHook{sp, func(q mqsql.Queue, id, rel string) (mqsql.Entry, bool, error) {
		e, ok, err := sp.Stat(q, id, rel)
		if ok && !moved && filepath.Join(dir, rel) == at(mqsql.Active) {
			moved = true
			if err := os.Rename(at(mqsql.Active), at(mqsql.Deferred)); err != nil {
				t.Fatal(err)
			}
		}
		return e, ok, err
	}}

	d := &dirtyID{since: time.Now(), hints: []string{"incoming/" + id, cfg.RelPath("active", id)}}
	changes, err := ix.refresh(ctx, hooked, map[string]*dirtyID{id: d})
	if err != nil {
		t.Fatal(err)
	}
	if !moved {
		t.Fatal("the message was never moved: the test proves nothing")
	}
	if len(changes) != 1 || changes[0].kind != EventArrived || changes[0].to != "deferred" {
		t.Fatalf("changes %+v, want one arrival in deferred", changes)
	}
	var queue string
	if err := ix.DB().QueryRow(`SELECT queue FROM messages WHERE queue_id = ?`, id).Scan(&queue); err != nil || queue != "deferred" {
		t.Fatalf("row in %q (%v), want deferred", queue, err)
	}
}

// statHook is a spool whose Stat runs a test's code, to move files between two looks.
type statHook struct {
	mqsql.Spool
	stat func(q mqsql.Queue, id, rel string) (mqsql.Entry, bool, error)
}

func (h statHook) Stat(q mqsql.Queue, id, rel string) (mqsql.Entry, bool, error) {
	return h.stat(q, id, rel)
}
