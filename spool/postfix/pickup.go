package postfix

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/syscmd"
)

// This file is what follows a restore on a live Postfix: pickup takes the copies from
// maildrop and gives them new queue IDs, which are found exactly through the log_ident pickup
// keeps, and held mail goes back on hold.

// DescribeNew says where restored message r is now: its new queue ID, or its file in maildrop
// until pickup takes it in (live: a Postfix runs on the spool).
func DescribeNew(r mqsql.Restored, newIDs map[string]string, live bool) string {
	if id := newIDs[r.Maildrop]; id != "" {
		return id
	}
	if live {
		return "maildrop/" + r.Maildrop + " (pickup has not taken it in yet; it gets a new queue ID when it does)"
	}
	return "maildrop/" + r.Maildrop + " (Postfix's pickup gives it a new queue ID when it runs on this spool)"
}

// AwaitPickup wakes Postfix's pickup, waits until it has taken the restored files from
// maildrop, and finds each new queue ID exactly: the new file is one that did not exist before
// the restore (pre) and carries the saved copy's log_ident, which pickup keeps. A log_ident
// shared by two restored messages, or found in two new files, is left unmapped rather than
// guessed. Held mail is put back on hold by its new ID.
func (sp *Spool) AwaitPickup(ctx context.Context, restored []mqsql.Restored, pre map[string]bool, wait time.Duration) map[string]string {
	if path, err := syscmd.Find("postkick"); err == nil {
		_ = exec.CommandContext(ctx, path, "public", "pickup", "W").Run()
	}
	want := map[string]int{}
	for _, r := range restored {
		want[logIdentOfRestored(r)]++
	}
	found := map[string]string{}  // maildrop name -> new queue ID
	idents := map[string]string{} // new queue ID -> log_ident
	deadline := time.Now().Add(wait)
	for {
		sp.scanNew(ctx, pre, idents)
		matchIdents(restored, want, idents, found)
		if len(found) == len(restored) || !time.Now().Before(deadline) {
			return found
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scanNew reads the log_ident of every complete queue file not in pre and not yet read.
func (sp *Spool) scanNew(ctx context.Context, pre map[string]bool, idents map[string]string) {
	_ = sp.Walk(ctx, func(e Entry) error {
		if e.Queue == mqsql.Maildrop || e.Queue == mqsql.Corrupt || pre[e.QueueID] {
			return nil
		}
		if _, ok := idents[e.QueueID]; ok {
			return nil // a file seen again after it moved queues is the same message
		}
		if li, err := sp.LogIdent(e); err == nil && li != "" {
			idents[e.QueueID] = li
		}
		return nil
	})
}

// matchIdents maps each restored message whose log_ident is unique among the restored ones
// and found in exactly one new file.
func matchIdents(restored []mqsql.Restored, want map[string]int, idents, found map[string]string) {
	byIdent := map[string][]string{}
	for id, li := range idents {
		byIdent[li] = append(byIdent[li], id)
	}
	for _, r := range restored {
		li := logIdentOfRestored(r)
		if ids := byIdent[li]; li != "" && want[li] == 1 && len(ids) == 1 {
			found[r.Maildrop] = ids[0]
		}
	}
}

// HoldAgain puts restored messages that were on hold back on hold, by their new queue ID.
func HoldAgain(ctx context.Context, restored []mqsql.Restored, newIDs map[string]string) map[string]error {
	res := map[string]error{}
	for _, r := range restored {
		id := newIDs[r.Maildrop]
		if r.Queue != string(mqsql.Hold) || id == "" || !ValidQueueID(id) {
			continue
		}
		out, err := postsuperHold(ctx, id)
		if err != nil {
			err = fmt.Errorf("postsuper -h %s: %v: %s", id, err, strings.TrimSpace(string(out)))
		}
		res[id] = err
	}
	return res
}

// logIdentOfRestored is the saved copy's log_ident, which Restore keeps as the result's Ref.
func logIdentOfRestored(r mqsql.Restored) string {
	li, _ := r.Ref.(string)
	return li
}

// postsuperHold puts id on hold with the system's postsuper (syscmd.Find).
func postsuperHold(ctx context.Context, id string) ([]byte, error) {
	path, err := syscmd.Find("postsuper")
	if err != nil {
		return nil, err
	}
	return exec.CommandContext(ctx, path, "-h", id).CombinedOutput()
}
